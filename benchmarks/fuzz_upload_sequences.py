"""The differential test of the whole pipeline over random sequences of uploads
(tests/upload_sequences.py), for longer than `make test` runs it: new seeds one after the
other for N minutes, each sequence played on the local pipeline (the upload service on moto,
the pipe, the task and the export on a fakesnow server) and on the contract's model
(tests/oracle.VersionModel). After each batch every status document must agree with the model;
at the end `inmet fetch` (S3), `inmet fetch --from snowflake` and the model's CSV must be the
same bytes, and the station history the model's.

Run: `.venv/bin/python benchmarks/fuzz_upload_sequences.py --minutes 30` (progress every
sequence, figures at the end). A failing sequence prints its seed and how it ended; replay it
with `--seed <seed>`. Exit code 1 when any sequence failed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

# The harness and the model live with the tests, which are not an installed package.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
# The handlers' own log lines and metrics would drown the progress lines.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

from inmet_local.emulator.servers import fakesnow_server  # noqa: E402
from tests.sequence_pipeline import local_pipeline  # noqa: E402
from tests.upload_sequences import FEATURES, Outcome, SequenceRun  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to run")
    parser.add_argument("--seed", type=int, help="replay this one sequence and stop")
    parser.add_argument(
        "--first",
        type=int,
        help="the first of consecutive seeds (default: a random one, printed)",
    )
    parser.add_argument("--steps", type=int, default=16, help="steps of each sequence")
    parser.add_argument("--keep-going", action="store_true", help="go on after a failing sequence")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="inmet-sequences-"))
    first = args.seed if args.seed is not None else args.first
    if first is None:
        first = random.SystemRandom().randrange(10_000, 10**9)
    print(f"first seed {first}, {args.steps} steps a sequence, logs in {logs}", flush=True)
    server = fakesnow_server(log_path=logs / "fakesnow.log").start()
    outcomes: list[Outcome] = []
    failed: list[int] = []
    started = time.perf_counter()
    deadline = started + args.minutes * 60
    try:
        with local_pipeline(server, logs) as pipeline:
            seed = first
            while True:
                try:
                    outcome = SequenceRun(pipeline, seed, args.steps).run()
                except AssertionError as exc:
                    failed.append(seed)
                    print(f"FAILED seed {seed}: {exc}", file=sys.stderr, flush=True)
                    if not args.keep_going:
                        break
                except Exception:  # a crash of the pipeline is a finding too
                    failed.append(seed)
                    print(f"CRASHED seed {seed}:", file=sys.stderr, flush=True)
                    traceback.print_exc()
                    if not args.keep_going:
                        break
                else:
                    outcomes.append(outcome)
                    elapsed = time.perf_counter() - started
                    print(
                        f"[{elapsed / 60:5.1f} min] seed {seed}: {outcome.uploads} uploads "
                        f"({outcome.accepted} accepted), {outcome.batches} batches, "
                        f"{outcome.rows} rows, {outcome.superseded} superseded",
                        flush=True,
                    )
                if args.seed is not None or time.perf_counter() > deadline:
                    break
                seed += 1
    finally:
        server.stop()
    minutes = (time.perf_counter() - started) / 60
    total = len(outcomes) + len(failed)
    print(
        f"{total} sequences in {minutes:.1f} min: "
        f"{sum(o.uploads for o in outcomes)} uploads "
        f"({sum(o.accepted for o in outcomes)} accepted), "
        f"{sum(o.batches for o in outcomes)} batches, "
        f"{sum(o.rows for o in outcomes)} final rows compared three ways, "
        f"{sum(o.superseded for o in outcomes)} uploads superseded at the end; "
        + (f"FAILED seeds: {failed}" if failed else "no failure")
    )
    met: Counter[str] = Counter()
    for outcome in outcomes:
        met.update(outcome.features)
    for feature in FEATURES:
        print(f"{met[feature]:6d}  {feature}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
