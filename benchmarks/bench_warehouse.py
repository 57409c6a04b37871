"""Load a generated INMET year through the local pipe poller and task, and compare with the same
transform written as one plain DuckDB query over the raw files, in the same run.

Goal (issue 4): the pipeline at most 3x the DuckDB query. Default: 564 stations (INMET's 2024
archive size, ~5 M rows). Run: `.venv/bin/python benchmarks/bench_warehouse.py [--stations N]`.
Generated files are cached in data/bench/<year>-<N>/ (git-ignored) between runs.
"""

from __future__ import annotations

import argparse
import resource
import time

import boto3
import duckdb
from baseline import duckdb_clean_rows
from bench_data import BENCH_DIR, bench_year
from moto import mock_aws

from inmet_local.emulator.moto_server import apply_fixes
from inmet_local.emulator.servers import fakesnow_server, fakesnow_server_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.workspace.template import pipe_queue


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=564)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--files-per-poll", type=int, default=1000)
    args = parser.parse_args()

    data = bench_year(args.stations, args.year)
    raw_dir, raw_objects = data.raw_dir, data.raw_objects
    print(f"{len(data.paths)} files, {data.size / 1e6:.0f} MB")

    start = time.perf_counter()
    with duckdb.connect() as duck:
        clean_rows = duckdb_clean_rows(duck, str(raw_dir / "*.csv"))
    duck_s = time.perf_counter() - start
    print(
        f"DuckDB, one CREATE TABLE AS over the raw files: {duck_s:5.1f} s  "
        f"({clean_rows:,} CLEAN rows)"
    )

    apply_fixes()  # moto's SQS drains a full queue in O(n²) without it (see moto_server.py)
    server = fakesnow_server(log_path=BENCH_DIR / "fakesnow.log").start()
    try:
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            sqs = boto3.client("sqs", region_name="us-east-1")
            s3.create_bucket(Bucket="bench")
            queue = pipe_queue(sqs, s3, "bench", "pipe")
            for key, body in raw_objects:  # what the upload API writes (not timed here)
                s3.put_object(Bucket="bench", Key=key, Body=body)
            with LocalWarehouse(fakesnow_server_kwargs(server), work_dir=BENCH_DIR / "pipe") as wh:
                wh.deploy()
                start = time.perf_counter()
                polled = wh.pipe.poll(sqs, queue, s3, "bench", max_files=args.files_per_poll)
                while True:  # keep polling until the queue is drained
                    more = wh.pipe.poll(sqs, queue, s3, "bench", max_files=args.files_per_poll)
                    if not more.messages:
                        break
                    polled.files_loaded += more.files_loaded
                    polled.rows_loaded += more.rows_loaded
                pipe_s = time.perf_counter() - start
                start = time.perf_counter()
                run = wh.run_task()
                task_s = time.perf_counter() - start
                got = wh.scalar(f"SELECT COUNT(*) FROM {wh.clean}.OBSERVATIONS")
    finally:
        server.stop()
    assert run is not None
    total = pipe_s + task_s
    print(
        f"pipe poller (SQS -> S3 -> RAW):       {pipe_s:7.1f} s  ({polled.rows_loaded:,} RAW rows)"
    )
    print(f"task (RAW -> CLEAN, MERGE):           {task_s:7.1f} s  ({got:,} CLEAN rows)")
    print(
        f"pipeline total:                       {total:7.1f} s  "
        f"= {total / duck_s:.2f} x DuckDB (goal: <= 3x); "
        f"{polled.rows_loaded / total:,.0f} rows/s"
    )
    for step, seconds in run.step_seconds:
        print(f"    task step {seconds:6.1f} s  {step[:70]}")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    assert got == clean_rows, "the pipeline and the DuckDB query disagree"


if __name__ == "__main__":
    main()
