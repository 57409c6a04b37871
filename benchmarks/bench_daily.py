"""The task's time with and without the daily values, side by side, on a generated year.

Loads the same generated station files (benchmarks/bench_data.py, cached in data/bench/) into
two fresh databases on one fakesnow server: one deployed from the snowflake_sql/ of a given git
revision (default: the commit before the daily values), one from this checkout's. Each load is
one batch (RAW through the emulated pipe, then one task run); the task's seconds are compared,
alternating the two, best of --repeat. Run:
`.venv/bin/python benchmarks/bench_daily.py [--stations N] [--before REV] [--repeat K]`.
"""

from __future__ import annotations

import argparse
import subprocess
import tarfile
import tempfile
import time
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

from bench_data import BENCH_DIR, bench_year

from inmet_local.emulator.servers import fakesnow_server, fakesnow_server_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import REPO_ROOT, SQL_ROOT, variables


def sql_of(revision: str, into: Path) -> Path:
    """snowflake_sql/ as it was at ``revision`` (git archive), extracted under ``into``."""
    tar = subprocess.run(
        ["git", "archive", revision, "snowflake_sql"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return into / "snowflake_sql"


def task_seconds(
    server_kwargs: dict[str, Any], root: Path, objects: list[tuple[str, bytes]], work: Path
) -> tuple[float, list[tuple[str, float]]]:
    """One task run over ``objects`` in a fresh database deployed from ``root``: its seconds
    and its steps'."""
    values = variables({"database": f"B{uuid.uuid4().hex[:10].upper()}"})
    with LocalWarehouse(server_kwargs, values=values, work_dir=work, sql_root=root) as wh:
        wh.deploy()
        wh.load_objects(objects)
        start = time.perf_counter()
        run = wh.run_task()
        seconds = time.perf_counter() - start
        assert run is not None
    return seconds, list(run.step_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=60)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--before", default="9f56812")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    data = bench_year(args.stations, args.year)
    print(f"{len(data.paths)} station files of {args.year}, {data.size / 1e6:.0f} MB")
    server = fakesnow_server(log_path=BENCH_DIR / "fakesnow-daily.log").start()
    try:
        kwargs = fakesnow_server_kwargs(server)
        with tempfile.TemporaryDirectory() as tmp:
            roots = {"before": sql_of(args.before, Path(tmp)), "after": SQL_ROOT}
            best: dict[str, float] = {}
            steps: dict[str, list[tuple[str, float]]] = {}
            for i in range(args.repeat):
                for name, root in roots.items():
                    seconds, run_steps = task_seconds(
                        kwargs, root, data.raw_objects, Path(tmp) / f"{name}-{i}"
                    )
                    print(f"  run {i + 1} {name:6s} task {seconds:6.1f} s")
                    if seconds < best.get(name, float("inf")):
                        best[name], steps[name] = seconds, run_steps
    finally:
        server.stop()
    before, after = best["before"], best["after"]
    print(f"task before (revision {args.before}): {before:6.1f} s")
    print(
        f"task after  (this checkout):        {after:6.1f} s  ({(after / before - 1) * 100:+.1f} %)"
    )
    for step, seconds in steps["after"]:
        if step.startswith("5b") or step.startswith("5c"):
            print(f"    daily step {seconds:6.1f} s  {step[:70]}")


if __name__ == "__main__":
    main()
