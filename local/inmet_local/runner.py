"""`inmet local run --upload` (and `make demo`): the whole pipeline, start to finish, locally."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from inmet_local.client import ApiClient, UploadOutcome, upload_many
from inmet_local.fetch import fetch_from_s3
from inmet_local.servers import ServerError
from inmet_local.sources import SourceError, iter_input_files
from inmet_local.stack import BUCKET, LocalStack
from inmet_local.synth import generate_archive

DONE_LINE = "[DONE] Pipeline concluído!"
FINAL = {"exported", "failed"}


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


def _wait_for_statuses(
    client: ApiClient, ids: list[str], timeout: float, console: Console
) -> dict[str, dict[str, object]]:
    deadline = time.monotonic() + timeout
    docs: dict[str, dict[str, object]] = {}
    with Live(console=console, refresh_per_second=4, transient=True) as live:
        while True:
            for upload_id in ids:
                if docs.get(upload_id, {}).get("status") in FINAL:
                    continue
                response = client.status(upload_id)
                if response.status_code == 200:
                    docs[upload_id] = response.json()
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
            # Each round asks for every pending upload: space the rounds out with their number
            # so that watching a year of files does not keep the API and DynamoDB busy.
            pending = sum(1 for i in ids if docs.get(i, {}).get("status") not in FINAL)
            time.sleep(min(10.0, max(0.5, pending / 100)))


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
        with ApiClient(stack.api.url) as client:
            results = upload_many(client, files, concurrency=8)
            stages["upload"] = time.perf_counter() - mark
            accepted = [r for r in results if r.ok and r.upload_id]
            mark = time.perf_counter()
            docs = _wait_for_statuses(
                client, [r.upload_id for r in accepted if r.upload_id], timeout, console
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
