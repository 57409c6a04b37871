"""The task's time with and without quality control, side by side, on a generated year slice.

Runs the same load (the pipe, then one task run over every file) with the SQL of this tree and
with the SQL of another commit (default: the one before quality control), alternating, so that
both see the same machine. Prints each run's task time and the ratio of the medians.

Run: `.venv/bin/python benchmarks/bench_qc_task.py [--stations 40] [--rounds 2] [--base REV]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from bench_data import bench_year

from inmet_local.emulator.servers import fakesnow_server, fakesnow_server_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import SQL_ROOT

REPO = SQL_ROOT.parent
BASE = "9f56812"  # the commit before quality control


def sql_of(rev: str, into: Path) -> Path:
    """snowflake_sql/ as commit ``rev`` has it, unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "snowflake_sql"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "snowflake_sql"


def task_seconds(sql_root: Path, objects: list[tuple[str, bytes]], work: Path) -> float:
    server = fakesnow_server(log_path=work / "fakesnow.log").start()
    try:
        kwargs = fakesnow_server_kwargs(server)
        with LocalWarehouse(kwargs, work_dir=work / "pipe", sql_root=sql_root) as wh:
            wh.deploy()
            wh.load_objects(objects)
            start = time.perf_counter()
            assert wh.run_task() is not None
            return time.perf_counter() - start
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--base", default=BASE)
    args = parser.parse_args()
    data = bench_year(args.stations, 2024)
    objects = list(data.raw_objects)
    print(f"{len(objects)} files, {data.size / 1e6:.0f} MB; base {args.base} vs this tree")
    times: dict[str, list[float]] = {"base": [], "this tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"base": sql_of(args.base, Path(tmp) / "base"), "this tree": SQL_ROOT}
        for n in range(args.rounds):
            for name, root in roots.items():
                work = Path(tmp) / f"{name.replace(' ', '_')}-{n}"
                work.mkdir()
                seconds = task_seconds(root, objects, work)
                times[name].append(seconds)
                print(f"round {n + 1}  {name:9}  task {seconds:6.1f} s", flush=True)
    base, this = statistics.median(times["base"]), statistics.median(times["this tree"])
    print(f"median task: base {base:.1f} s, this tree {this:.1f} s, ratio {this / base:.2f}")


if __name__ == "__main__":
    main()
