"""Validation throughput (MB/s on one core) on the real INMET files and on generated ones.

Goal (issue 2): at least 20 MB/s; issue 17 asked for 60 MB/s. ``validate`` is measured twice in
the same run, rounds interleaved: with the block path (inmet_pipeline.blockscan, what the upload
function runs) and with every line through the line scanner (the block path switched off), so
the lever's ratio is read side by side. Run `make bench`, or
`.venv/bin/python benchmarks/bench_validate.py [--rounds N] [--stations N]`.
Each corpus is validated in several rounds; the best round counts (the least disturbed by the
machine's noise). Full parsing (read_observations, every value as a float) is printed beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from inmet_local.synth.synth import generate_archive
from inmet_pipeline import blockscan
from inmet_pipeline.reader import read_observations, validate

# INMET_REAL_DATA points at a folder of real INMET files, as for the tests (tests/paths.py).
REAL_DIR = Path(
    os.environ.get("INMET_REAL_DATA")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "inmet_real"
)


def _best_seconds(fn: Callable[[], None], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _measure(name: str, blobs: list[bytes], rounds: int) -> None:
    total = sum(len(b) for b in blobs)

    def run_validate() -> None:
        for blob in blobs:
            report = validate(blob)
            assert report.valid, report.errors[:1]

    def run_scanner() -> None:
        with blockscan.switched_off():
            run_validate()

    def run_parse() -> None:
        for blob in blobs:
            _, rows = read_observations(blob)
            for _ in rows:
                pass

    v = s = float("inf")
    for _ in range(rounds):  # interleaved, so that the machine's noise hits both alike
        v = min(v, _best_seconds(run_validate, 1))
        s = min(s, _best_seconds(run_scanner, 1))
    p = _best_seconds(run_parse, max(1, rounds // 2))
    print(
        f"{name:<28} {len(blobs):>5} files {total / 1e6:>8.1f} MB   "
        f"validate {total / v / 1e6:>6.1f} MB/s (line scanner only {total / s / 1e6:>5.1f}, "
        f"{s / v:.2f}x)   full parse {total / p / 1e6:>6.1f} MB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stations", type=int, default=30, help="generated files")
    args = parser.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(f"validation throughput, one core, best of {args.rounds} rounds")
    if REAL_DIR.is_dir():
        real = [p.read_bytes() for p in sorted(REAL_DIR.glob("*.CSV"))]
        _measure("real INMET files", real, args.rounds)
    else:
        print(f"real INMET files: skipped ({REAL_DIR} not found)")
    with tempfile.TemporaryDirectory() as tmp:
        for year in (2015, 2024):
            paths = list(
                generate_archive(Path(tmp) / str(year), stations=args.stations, year=year, seed=1)
            )
            _measure(
                f"generated {year} (layout {'A' if year < 2019 else 'B'})",
                [p.read_bytes() for p in paths],
                args.rounds,
            )


if __name__ == "__main__":
    main()
