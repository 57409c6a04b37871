"""`inmet local run --upload` (and `make demo`): the whole pipeline, start to finish, locally."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import httpx
from rich.console import Console
from rich.live import Live
from rich.markup import escape

from inmet_local.cli.options import skipped_listing
from inmet_local.cli.run_summary import print_files_table
from inmet_local.client.client import ApiClient, upload_many
from inmet_local.client.fetch import (
    DAILY,
    FetchError,
    FetchResult,
    WouldShrink,
    fetch_from_s3,
    never_shrink,
)
from inmet_local.emulator.servers import ServerError
from inmet_local.emulator.stack import BUCKET, TABLE, LocalStack
from inmet_local.synth.sample import (
    SAMPLE_DIR,
    SAMPLE_OUT,
    ensure_sample,
    generated_ids,
    has_station_files,
    is_generated,
    legacy_sample_paths,
)
from inmet_local.workspace.discovery import DataDirInUse
from inmet_local.workspace.sources import SourceError, iter_input_files
from inmet_pipeline.adapters.aws import plain_item
from inmet_pipeline.inmet_format import FILENAME_RE
from inmet_pipeline.status import FINAL_STATUSES, UploadStatus

DONE_LINE = "[DONE] Pipeline concluído!"


def run_command(folder: Path, work_dir: Path, port: int, timeout: float) -> list[str]:
    """The command line of `inmet local run --upload FOLDER` as a user types it, with the
    stack's data in ``work_dir/local`` and the CSV at ``work_dir/inmet_clean.csv`` (for the
    tools that run it as a subprocess: the end-to-end test and the benchmark)."""
    return [
        sys.executable, "-m", "inmet_local", "local", "run", "--upload", str(folder),
        "--data-dir", str(work_dir / "local"), "--port", str(port),
        "--out", str(work_dir / "inmet_clean.csv"), "--timeout", f"{timeout:g}",
    ]  # fmt: skip


DEFAULT_RAW_DIR = Path("data/raw")
DEFAULT_OUT = Path("data/processed/inmet_clean.csv")


def choose_inputs(
    paths: list[Path] | None, raw_dir: Path, console: Console
) -> tuple[list[Path], list[Path]]:
    """What `inmet local run --upload` sends: the paths given; else data/raw/ when it holds
    station files; else the generated sample in data/sample/ (made once, never in data/raw/).
    Also the files of data/raw/ left out as an older demo's sample (see legacy_sample_paths)."""
    if paths:
        return paths, []
    legacy = legacy_sample_paths(raw_dir)
    if legacy:
        console.print(
            f"[yellow]note:[/] {len(legacy)} file(s) in {raw_dir}/ are the generated sample an "
            f"older `make demo` wrote there (byte for byte); they are left out. Delete them: "
            f"the sample now lives in {SAMPLE_DIR}/.",
            highlight=False,
        )
        own = sorted(
            p
            for p in raw_dir.rglob("*")
            if p.is_file()
            and p.suffix.lower() in (".csv", ".zip")
            and not p.name.startswith(".")
            and p not in set(legacy)
        )
        if own:
            return own, legacy
    elif has_station_files(raw_dir):
        return [raw_dir], []
    console.print(
        f"{raw_dir}/ has no station files (put your INMET files there): running the "
        f"generated sample in {SAMPLE_DIR}/ instead.",
        highlight=False,
    )
    sample = ensure_sample(SAMPLE_DIR, say=lambda text: console.print(text, highlight=False))
    return [sample], legacy


def _warn_of_old_sample_rows(stack: LocalStack, legacy: list[Path], console: Console) -> None:
    """Say so when the user's warehouse holds files of the generated sample: an older
    `make demo` ran the sample on the user's own data dir. Their upload ids (sha256) come from
    data/sample/'s marker and from the old copies found in data/raw/."""
    ids = generated_ids([SAMPLE_DIR]) | {hashlib.sha256(p.read_bytes()).hexdigest() for p in legacy}
    if not ids:
        return
    stale = stack.loaded_upload_ids() & ids
    if stale:
        console.print(
            f"[yellow]note:[/] the warehouse {stack.data_dir / 'warehouse'} holds "
            f"{len(stale)} generated sample file(s) an older `make demo` loaded there; where "
            "they share a station-year with your files, CLEAN mixes them. `inmet local reset` "
            "starts over.",
            highlight=False,
        )


def table_statuses(table: Any) -> Callable[[set[str]], dict[str, dict[str, object]]]:
    """Read the status documents of ``ids`` straight from the stack's table: one scan per
    round instead of one API request per upload (a year is 564 uploads), so watching does not
    load the API and moto while the pipeline works.

    A round reads only ``upload_id`` and ``status`` of every record; the whole documents are
    read once (BatchGetItem), for the ids that reached a final status. (moto serialises every
    attribute of every item it returns: full scans every 3 s cost its process ~20 s over a
    year's run.)
    """

    def scan(**kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = table.scan(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def read(ids: set[str]) -> dict[str, dict[str, object]]:
        docs: dict[str, dict[str, object]] = {
            str(item["upload_id"]): plain_item(dict(item))
            for item in scan(
                ProjectionExpression="upload_id, #s", ExpressionAttributeNames={"#s": "status"}
            )
            if item.get("upload_id") in ids
        }
        final = [i for i, doc in docs.items() if doc.get("status") in FINAL_STATUSES]
        for start in range(0, len(final), 100):  # BatchGetItem takes at most 100 keys
            request: dict[str, Any] = {
                table.name: {"Keys": [{"upload_id": i} for i in final[start : start + 100]]}
            }
            while request:
                answer = table.meta.client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(table.name, []):
                    docs[str(item["upload_id"])] = plain_item(dict(item))
                request = answer.get("UnprocessedKeys") or {}
        return docs

    return read


class StackStopped(RuntimeError):  # noqa: N818 - a condition, not a malfunction
    """A server of the stack died and the stack stopped; the message names it."""


def _wait_for_statuses(
    read: Callable[[set[str]], dict[str, dict[str, object]]],
    ids: list[str],
    timeout: float,
    console: Console,
) -> dict[str, dict[str, object]]:
    deadline = time.monotonic() + timeout
    docs: dict[str, dict[str, object]] = {}
    with Live(console=console, refresh_per_second=4, transient=True) as live:
        while True:
            pending = {i for i in ids if docs.get(i, {}).get("status") not in FINAL_STATUSES}
            docs.update(read(pending))
            counts: dict[str, int] = {}
            for upload_id in ids:
                status = str(docs.get(upload_id, {}).get("status", UploadStatus.RECEIVED))
                counts[status] = counts.get(status, 0) + 1
            live.update(
                "waiting for the pipeline: "
                + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            )
            if all(docs.get(i, {}).get("status") in FINAL_STATUSES for i in ids):
                return docs
            if time.monotonic() > deadline:
                return docs
            time.sleep(3.0)  # soon enough to see the end; leaves moto to the pipeline


def run_pipeline(
    paths: list[Path] | None,
    *,
    out: Path | None,
    data_dir: Path,
    port: int,
    timeout: float,
    console: Console,
    err_console: Console,
    raw_dir: Path = DEFAULT_RAW_DIR,
    force: bool = False,
) -> int:
    """Start a stack, upload, wait, fetch, summarise; the exit code (0 all exported).

    Generated and real files never share a run: a run of the generated sample (every input
    listed by a GENERATED_BY_INMET_SYNTH.json marker) uses ``<data-dir>/sample`` and writes
    data/sample/inmet_clean.csv unless --out says otherwise; a run that mixes both is refused.
    """
    stages: dict[str, float] = {}
    started = time.perf_counter()

    def fail(message: str, code: int) -> int:
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
        return code

    chosen, legacy = choose_inputs(paths, raw_dir, console)
    note, tell = skipped_listing(lambda text: console.print(f"[yellow]{escape(text)}[/]"))
    try:
        files = list(iter_input_files(chosen, skipped=note))
        tell()
    except SourceError as exc:
        return fail(str(exc), 2)
    if not files:
        return fail("no .csv files in " + ", ".join(map(str, chosen)), 2)
    generated = [f for f in files if is_generated(f)]
    if generated and len(generated) < len(files):
        return fail(
            f"the inputs mix {len(generated)} generated sample file(s) (e.g. "
            f"{generated[0].display}) with {len(files) - len(generated)} of your own; run them "
            "separately (the sample runs on a warehouse of its own)",
            2,
        )
    sample = bool(generated)
    where = ", ".join(map(str, chosen[:3])) + (
        f" and {len(chosen) - 3} more" if len(chosen) > 3 else ""
    )
    if sample:
        data_dir = data_dir / "sample"
        out = out or SAMPLE_OUT
        console.print(
            f"input: {len(files)} generated sample file(s) from {where} (not real INMET "
            f"data); warehouse {data_dir}",
            highlight=False,
        )
    else:
        out = out or DEFAULT_OUT
        console.print(
            f"input: {len(files)} file(s) of yours from {where}; warehouse {data_dir}",
            highlight=False,
        )
    replacing = out.exists()

    stack = LocalStack(data_dir, port=port, sample=sample)
    try:
        stack.start(say=lambda text: console.print(text, highlight=False))
    except (ServerError, DataDirInUse) as exc:
        return fail(str(exc), 1)
    try:
        assert stack.api is not None
        if not sample:
            _warn_of_old_sample_rows(stack, legacy, console)
        console.print(f"ready: {stack.api.url}", highlight=False)
        stages["start the stack"] = time.perf_counter() - started

        mark = time.perf_counter()
        with ApiClient(stack.api.url, stack.api_key) as client:
            results = upload_many(client, files, concurrency=8)
            stages["upload"] = time.perf_counter() - mark
            accepted = [r for r in results if r.ok and r.upload_id]
            mark = time.perf_counter()
            table = boto3.resource("dynamodb", **stack.client_kwargs).Table(TABLE)
            read = table_statuses(table)

            def read_while_up(pending: set[str]) -> dict[str, dict[str, object]]:
                if stack.failure:  # a server died and the stack stopped itself
                    raise StackStopped(stack.failure)
                return read(pending)

            docs = _wait_for_statuses(
                read_while_up,
                [r.upload_id for r in accepted if r.upload_id],
                timeout,
                console,
            )
            stages["load, clean, export"] = time.perf_counter() - mark

        mark = time.perf_counter()
        fetched = None
        kept = ""
        done = (UploadStatus.EXPORTED, UploadStatus.SUPERSEDED)
        if any(d.get("status") in done and d.get("export_keys") for d in docs.values()):
            try:
                guard = never_shrink(out, force, expendable=_station_years_of(legacy))
                fetched = fetch_from_s3(stack.client("s3"), BUCKET, out, guard=guard)
            except WouldShrink as exc:
                kept = str(exc)
        # The daily values beside it (what `inmet fetch --daily` writes), by the same guard; a
        # daily file that cannot be written is said, and the run's CSV still stands.
        daily_out = out.parent / "inmet_daily.csv"
        daily: FetchResult | str | None = None
        if fetched is not None:
            try:
                daily_guard = never_shrink(
                    daily_out, force, expendable=_station_years_of(legacy), dataset=DAILY
                )
                daily = fetch_from_s3(
                    stack.client("s3"), BUCKET, daily_out, guard=daily_guard, dataset=DAILY
                )
            except FetchError as exc:
                daily = str(exc)
        stages["fetch"] = time.perf_counter() - mark
        counts = stack.counts()
        problems = print_files_table(results, docs, fetched, stages, console)
        if kept:
            problems += 1
            console.print(f"[yellow]output: not written:[/] {escape(kept)}", highlight=False)
        exported = sum(1 for d in docs.values() if d.get("status") == UploadStatus.EXPORTED)
        if fetched is not None:
            # The bucket persists in the data dir, so the CSV is everything exported there (the
            # same as `inmet fetch`): this run's files and those of earlier runs on it.
            origin = (
                f"the generated sample ({exported} file(s) exported; not real data, your own "
                f"files go in {raw_dir}/)"
                if sample
                else f"every station-year exported on {data_dir}, {exported} of them from this "
                "run's files; no generated data"
            )
            console.print(
                f"output: {out}: {fetched.rows:,} rows, {fetched.partitions} station-year(s), "
                f"{origin}" + ("; replaced the previous file" if replacing else ""),
                highlight=False,
            )
            if isinstance(daily, FetchResult):
                console.print(
                    f"output: {daily_out}: {daily.rows:,} daily rows (each station's local "
                    "days, incomplete days' values empty beside their valid-hour counts)",
                    highlight=False,
                )
            elif daily is not None:
                console.print(
                    f"[yellow]output: {escape(str(daily_out))} not written:[/] {escape(daily)}",
                    highlight=False,
                )
        console.print(
            f"warehouse ({stack.data_dir / 'warehouse'}, kept between runs): "
            f"{counts['raw_rows']:,} rows in RAW, {counts['clean_rows']:,} in CLEAN — "
            "everything loaded there so far. `inmet local reset` starts over.",
            highlight=False,
        )
        console.print(f"runtime: {stack.stats.describe()}", highlight=False)
        if stack.stats.errors:
            console.print(
                f"[yellow]runtime errors ({len(stack.stats.errors)}), last:[/] "
                f"{stack.stats.last_error}; see {stack.logs}"
            )
    except (httpx.HTTPError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
            FetchError, OSError) as exc:  # fmt: skip
        return fail(f"the local pipeline failed: {type(exc).__name__}: {exc}", 1)
    except StackStopped as exc:
        return fail(str(exc), 1)
    except KeyboardInterrupt:
        return fail("interrupted; the stack is stopped", 130)
    finally:
        stack.stop()
    if stack.cpu_seconds:
        # Where the machine's time went: with every stage overlapping, the sum of these over
        # the number of cores is the least wall time this run could have taken.
        own = time.process_time()
        total = own + sum(stack.cpu_seconds.values())
        console.print(
            f"cpu: {total:.1f} s in all ("
            + ", ".join(f"{name} {sec:.1f} s" for name, sec in stack.cpu_seconds.items())
            + f", runtime and client {own:.1f} s)",
            highlight=False,
        )
    console.print(DONE_LINE)
    return 1 if problems else 0


def _station_years_of(paths: list[Path]) -> frozenset[tuple[str, int]]:
    """The (station, year) of each INMET-named file (from its name: the older demo's sample
    files, whose rows an older run wrote to data/processed/)."""
    found = set()
    for path in paths:
        if match := FILENAME_RE.fullmatch(path.name):
            found.add((match["wmo"].upper(), int(match["start"][-4:])))
    return frozenset(found)
