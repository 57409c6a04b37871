"""The property that keeps the pipeline right, on a few random sequences of uploads: after the
pipeline settles, `inmet fetch` (S3) equals `inmet fetch --from snowflake` byte for byte and an
independent model of the contract (tests/oracle.VersionModel), the station history agrees with
the model, and every upload's status document agrees with what survived (tests/upload_sequences.py
says what a sequence holds). The seeds are fixed, so a run is repeatable; a failure names its
seed, and INMET_UPLOAD_SEQUENCE_SEED=<seed> replays that one sequence alone.
benchmarks/fuzz_upload_sequences.py runs the same property on new seeds for N minutes."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from inmet_local.emulator.servers import ManagedProcess
from tests.sequence_pipeline import Pipeline, local_pipeline
from tests.upload_sequences import FEATURES, SEED_ENV, SequenceRun

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEEDS = (9, 17)  # together they meet every case of FEATURES
STEPS = 10  # steps of each sequence (sends, re-sends, pairs, loads), then every pending load


@pytest.fixture(scope="module")
def pipeline(
    fakesnow: ManagedProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    with local_pipeline(fakesnow, tmp_path_factory.mktemp("sequences")) as p:
        yield p


def test_random_sequences_of_uploads_end_as_the_model_says(pipeline: Pipeline) -> None:
    chosen = os.environ.get(SEED_ENV)
    met: Counter[str] = Counter()
    for seed in (int(chosen),) if chosen else SEEDS:
        outcome = SequenceRun(pipeline, seed, STEPS).run()
        met.update(outcome.features)
    if not chosen:  # the fixed sequences meet every case the property is about
        assert [f for f in FEATURES if not met[f]] == [], dict(met)


def test_the_run_reports_its_seed_and_how_to_replay_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A broken model must fail the run, naming the seed and the replay command."""
    run = SequenceRun(pipeline, 9, 2)
    monkeypatch.setattr(run.model, "csv", lambda: b"station_id\n")
    monkeypatch.setattr(run.model, "documents", {})  # (statuses then agree trivially)
    with pytest.raises(AssertionError, match=rf"seed 9: .*\n.*{SEED_ENV}=9"):
        run.run()
