"""The property test of the task's total transform for longer than `make test` runs it:
arbitrary RAW lines (hostile bytes, huge numbers, bad dates, every column type's edge, missing
metadata) straight into RAW.INMET_RAW, then the task on the local warehouse. Every batch must
run without an error, and every line must end in CLEAN, in RAW.QUARANTINE with its file, or
counted as dropped in CLEAN.FILE_LOADS; every message must parse and stay under SNS's 256 KiB.
Prints the totals and how fast.

Run: `.venv/bin/python benchmarks/fuzz_total_transform.py --examples 300`. A failure prints
hypothesis' smallest failing batch and exits 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

# The strategies live with the tests (tests/raw_fuzz.py), which are not an installed package.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from inmet_local.emulator.servers import fakesnow_connect_kwargs, fakesnow_server  # noqa: E402
from inmet_local.emulator.warehouse import LocalWarehouse  # noqa: E402
from inmet_local.snowflake.sqlproject import variables  # noqa: E402
from tests.raw_fuzz import BatchOutcome, check_batch, raw_batch, summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="batches to try")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="inmet-raw-fuzz-"))
    server = fakesnow_server(log_path=logs / "fakesnow.log").start()
    outcomes: list[BatchOutcome] = []
    started = time.perf_counter()
    try:
        values = variables({"database": f"F{uuid.uuid4().hex[:10].upper()}"})
        kwargs = fakesnow_connect_kwargs(server.url)
        with LocalWarehouse(kwargs, values=values, work_dir=logs / "pipe") as wh:
            wh.deploy()

            @settings(
                max_examples=args.examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(batch=raw_batch)
            def run(batch: list[list[dict[str, object]]]) -> None:
                outcomes.append(check_batch(wh, batch))

            try:
                run()
            except Exception as exc:
                print(f"FAILED: {exc}", file=sys.stderr)
                return 1
    finally:
        server.stop()
    seconds = time.perf_counter() - started
    print(summary(outcomes))
    print(
        f"{len(outcomes)} batches in {seconds:.0f} s ({seconds / max(len(outcomes), 1):.2f} s each)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
