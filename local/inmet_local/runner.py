"""`inmet local run --upload` (and `make demo`): the whole pipeline, start to finish, locally."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from inmet_local.client import ApiClient, UploadOutcome, upload_many
from inmet_local.fetch import fetch_from_s3
from inmet_local.servers import ServerError
from inmet_local.sources import SourceError, iter_input_files
from inmet_local.stack import BUCKET, TABLE, LocalStack
from inmet_local.synth import generate_archive
from inmet_pipeline.adapters.aws import plain_item

DONE_LINE = "[DONE] Pipeline concluído!"
FINAL = {"exported", "failed"}


def run_command(folder: Path, work_dir: Path, port: int, timeout: float) -> list[str]:
    """The command line of `inmet local run --upload FOLDER` as a user types it, with the
    stack's data in ``work_dir/local`` and the CSV at ``work_dir/inmet_clean.csv`` (for the
    tools that run it as a subprocess: the end-to-end test and the benchmark)."""
    return [
        sys.executable, "-m", "inmet_local", "local", "run", "--upload", str(folder),
        "--data-dir", str(work_dir / "local"), "--port", str(port),
        "--out", str(work_dir / "inmet_clean.csv"), "--timeout", f"{timeout:g}",
    ]  # fmt: skip


def _sample_if_empty(paths: list[Path], console: Console) -> None:
    """data/raw/ empty (or absent): write a generated sample there, as the seed's demo data."""
    if len(paths) != 1 or paths[0] != Path("data/raw"):
        return
    folder = paths[0]
    if folder.exists() and any(p.suffix.lower() == ".csv" for p in folder.rglob("*")):
        return
    console.print(
        f"{folder}/ is empty: generating a sample (5 stations of 2024 and 3 of 2015, "
        "both INMET layouts) with inmet synth."
    )
    for _ in generate_archive(folder, stations=5, year=2024, seed=0):
        pass
    for _ in generate_archive(folder, stations=3, year=2015, seed=0):
        pass


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
        final = [i for i, doc in docs.items() if doc.get("status") in FINAL]
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
            pending = {i for i in ids if docs.get(i, {}).get("status") not in FINAL}
            docs.update(read(pending))
            counts: dict[str, int] = {}
            for upload_id in ids:
                status = str(docs.get(upload_id, {}).get("status", "received"))
                counts[status] = counts.get(status, 0) + 1
            live.update(
                "waiting for the pipeline: "
                + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            )
            if all(docs.get(i, {}).get("status") in FINAL for i in ids):
                return docs
            if time.monotonic() > deadline:
                return docs
            time.sleep(3.0)  # soon enough to see the end; leaves moto to the pipeline


def run_pipeline(
    paths: list[Path],
    *,
    out: Path,
    data_dir: Path,
    port: int,
    timeout: float,
    console: Console,
    err_console: Console,
) -> int:
    stages: dict[str, float] = {}
    started = time.perf_counter()
    _sample_if_empty(paths, console)
    try:
        files = list(iter_input_files(paths))
    except SourceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        return 2
    if not files:
        err_console.print("[bold red]error:[/] no .csv files in " + ", ".join(map(str, paths)))
        return 2

    stack = LocalStack(data_dir, port=port)
    try:
        stack.start(say=lambda text: console.print(text, highlight=False))
    except ServerError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        return 1
    try:
        assert stack.api is not None
        console.print(f"ready: {stack.api.url}", highlight=False)
        stages["start the stack"] = time.perf_counter() - started

        mark = time.perf_counter()
        with ApiClient(stack.api.url, stack.api_key) as client:
            results = upload_many(client, files, concurrency=8)
            stages["upload"] = time.perf_counter() - mark
            accepted = [r for r in results if r.ok and r.upload_id]
            mark = time.perf_counter()
            table = boto3.resource("dynamodb", **stack.client_kwargs).Table(TABLE)
            docs = _wait_for_statuses(
                table_statuses(table),
                [r.upload_id for r in accepted if r.upload_id],
                timeout,
                console,
            )
            stages["load, clean, export"] = time.perf_counter() - mark

        mark = time.perf_counter()
        fetched = None
        if any(d.get("status") == "exported" and d.get("export_keys") for d in docs.values()):
            fetched = fetch_from_s3(stack.client("s3"), BUCKET, out)
        stages["fetch"] = time.perf_counter() - mark
        counts = stack.counts()
        problems = _summary(results, docs, counts, fetched, stages, console)
        console.print(f"runtime: {stack.stats.describe()}", highlight=False)
        if stack.stats.errors:
            console.print(
                f"[yellow]runtime errors ({len(stack.stats.errors)}), last:[/] "
                f"{stack.stats.last_error}; see {stack.logs}"
            )
    except httpx.HTTPError as exc:
        err_console.print(f"[bold red]error:[/] the upload API failed: {exc}")
        return 1
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


def _summary(
    results: list[UploadOutcome],
    docs: dict[str, dict[str, object]],
    counts: dict[str, int],
    fetched: object,
    stages: dict[str, float],
    console: Console,
) -> int:
    table = Table(title="Files", title_justify="left")
    for column in ("file", "upload", "pipeline", "station", "rows", "rows clean", "reason"):
        table.add_column(column, overflow="fold")
    problems = 0
    for r in sorted(results, key=lambda r: r.source):
        doc = docs.get(r.upload_id or "", {})
        status = str(doc.get("status", "-")) if r.ok else "-"
        reason = ""
        if not r.ok:
            problems += 1
            reason = f"{r.code}: {r.message}" + (f" (line {r.line})" if r.line else "")
        elif status != "exported":
            problems += 1
            error = doc.get("error")
            reason = str(error) if error else f"not exported in time (status {status})"
        table.add_row(
            Path(r.source).name[:48],
            r.outcome,
            status,
            r.station_id or "-",
            f"{r.rows:,}" if r.rows is not None else "-",
            f"{doc.get('rows_clean'):,}" if isinstance(doc.get("rows_clean"), int) else "-",
            reason,
        )
    console.print(table)
    outcome = {
        k: sum(r.outcome == k for r in results)
        for k in ("accepted", "duplicate", "rejected", "failed")
    }
    console.print("uploads: " + ", ".join(f"{n} {k}" for k, n in outcome.items()))
    console.print(
        f"warehouse: {counts['raw_rows']:,} rows in RAW, {counts['clean_rows']:,} in CLEAN"
    )
    if fetched is not None:
        console.print(
            f"output: {getattr(fetched, 'path', '')} ({getattr(fetched, 'rows', 0):,} rows)"
        )
    else:
        console.print("[yellow]output: nothing exported, no CSV written[/]")
        problems += 1
    console.print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
    return problems
