"""A generated full year (564 station files, ~440 MB) through `inmet local run --upload`, and in
the same run the same transform as one DuckDB query over the raw files.

Prints wall time, rows per second and peak memory of each, and the ratio (issue 7's goal: at
most 3x the DuckDB time). Also the CPU time each used, and what that means: the local run's CPU
time over the number of cores is a floor under its wall time, whatever overlaps. Peak memory
is the largest single process's high-water mark (getrusage of waited-for children): the
stack's processes each hold their own share.
Run: `.venv/bin/python benchmarks/bench_local_run.py [--stations 564]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import bench_year

from inmet_local.cli.runner import run_command
from inmet_local.emulator.servers import free_port


def child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def child_cpu_s() -> float:
    """User + system CPU of every waited-for descendant so far (the stack's servers are
    waited for by `inmet local run`, so they count)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=564)
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    data = bench_year(args.stations, args.year)
    folder, raw = data.folder, data.raw_dir
    print(f"{len(data.paths)} station files, {data.size / 1e6:.0f} MB")

    code = (
        "import sys, time, duckdb;"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r});"  # benchmarks/baseline.py
        "from baseline import duckdb_clean_rows; t = time.perf_counter();"
        "con = duckdb.connect(); con.execute('SET enable_progress_bar = false');"
        "n = duckdb_clean_rows(con, sys.argv[1]);"
        "print(n, time.perf_counter() - t)"
    )
    before = child_peak_mb()
    cpu_mark = child_cpu_s()
    start = time.perf_counter()
    out = (
        subprocess.run(
            [sys.executable, "-c", code, str(raw / "*.csv")],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.splitlines()[-1]
        .split()
    )  # the last line: DuckDB may print progress before
    duck_s = time.perf_counter() - start
    duck_cpu = child_cpu_s() - cpu_mark
    duck_rows = int(out[0])
    duck_mb = child_peak_mb()
    print(
        f"DuckDB one query:        {duck_s:7.1f} s  {duck_rows / duck_s:>10,.0f} rows/s  "
        f"peak {duck_mb:6.0f} MB  ({duck_rows:,} CLEAN rows)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        cpu_mark = child_cpu_s()
        start = time.perf_counter()
        result = subprocess.run(
            run_command(folder, Path(tmp), free_port(), timeout=3600),
            capture_output=True,
            text=True,
            check=False,
        )
        pipe_s = time.perf_counter() - start
        pipe_cpu = child_cpu_s() - cpu_mark
        with Path(f"{tmp}/inmet_clean.csv").open() as fh:
            rows = sum(1 for _ in fh) - 1
    pipe_mb = max(child_peak_mb(), before)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(
        f"inmet local run --upload: {pipe_s:7.1f} s  {rows / pipe_s:>10,.0f} rows/s  "
        f"peak {pipe_mb:6.0f} MB (largest process)  ({rows:,} CLEAN rows)"
    )
    print(f"ratio: {pipe_s / duck_s:.2f} x DuckDB (goal: <= 3x)")
    cores = os.cpu_count() or 1
    print(
        f"CPU time: DuckDB {duck_cpu:.1f} s, local run {pipe_cpu:.1f} s "
        f"({pipe_cpu / duck_cpu:.1f} x). On {cores} cores the local run cannot take less than "
        f"{pipe_cpu / cores:.1f} s of wall time, {pipe_cpu / cores / duck_s:.2f} x DuckDB's, "
        "however well its stages overlap"
    )
    for line in result.stdout.splitlines():
        if line.startswith(("time:", "warehouse:", "uploads:", "runtime:", "cpu:")):
            print("  " + line)
    assert rows == duck_rows, "the pipeline and the DuckDB query disagree"


if __name__ == "__main__":
    main()
