"""The differential fuzz of issue 15 for longer than `make test` runs it: files mutated from
real and generated ones (Unicode digits and spaces, control characters, field counts, extreme
numbers, dates); every file the validator accepts must go through the local pipe, task and
export, every file it refuses must get a 4xx over HTTP. Prints what it tried and how fast.

Run: `.venv/bin/python benchmarks/fuzz_valid_file.py --examples 500` (each example is a batch of
up to 6 files: one HTTP request per refused file, one pipe load, task run and export per batch).
A failure prints hypothesis' smallest failing batch and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# The strategies live with the tests (tests/fuzz.py), which are not an installed package.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
# The export logs a warning per file (the fuzz loads without upload records): keep errors only.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from inmet_local.emulator.servers import (  # noqa: E402
    aws_env,
    fakesnow_client_env,
    fakesnow_server,
    moto_client_kwargs,
    moto_server,
    uvicorn_server,
)
from inmet_local.workspace.template import LocalNames, provision  # noqa: E402
from tests.fuzz import (  # noqa: E402
    BatchOutcome,
    FuzzPipeline,
    all_bases,
    check_batch,
    file_batches,
)

BUCKET = "inmet-fuzz"
TABLE = "inmet-uploads-fuzz"
KEY = "fuzz-key"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="batches to try")
    parser.add_argument("--max-files", type=int, default=6, help="files per batch")
    parser.add_argument(
        "--real-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "inmet_real"
    )
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="inmet-fuzz-"))
    moto = moto_server(log_path=logs / "moto.log").start()
    fakesnow = fakesnow_server(log_path=logs / "fakesnow.log").start()
    api = None
    outcome = BatchOutcome()
    started = time.perf_counter()
    try:
        provision(
            moto_client_kwargs(moto.url),
            LocalNames(bucket=BUCKET, table=TABLE),
        )
        env = {
            **aws_env(moto.url),
            "S3_BUCKET": BUCKET,
            "INMET_STATUS_TABLE": TABLE,
            "INMET_API_KEY": KEY,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "INMET_ENV_FILE": "/dev/null",
        }
        api = uvicorn_server(env, log_path=logs / "api.log").start()
        pipeline = FuzzPipeline(api.url, KEY, fakesnow_client_env(fakesnow), moto.url, BUCKET)
        bases = all_bases(args.real_dir if args.real_dir.is_dir() else None)

        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(batch=file_batches(bases, args.max_files))
        def run(batch: list[bytes]) -> None:
            check_batch(batch, pipeline.post, pipeline.load_and_export, outcome)

        try:
            run()
        except AssertionError as exc:
            print(f"FAILED: {exc}")
            return 1
        finally:
            pipeline.close()
    finally:
        for server in (api, fakesnow, moto):
            if server is not None:
                server.stop()
    seconds = time.perf_counter() - started
    files = outcome.accepted + outcome.refused
    print(f"batches:  {args.examples} (up to {args.max_files} files each), {len(bases)} bases")
    print(f"files:    {files}: {outcome.accepted} accepted and exported, {outcome.refused} refused")
    print("refusals: " + ", ".join(f"HTTP {s}: {n}" for s, n in sorted(outcome.statuses.items())))
    print(f"time:     {seconds:.1f} s ({files / seconds:.1f} files/s); logs in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
