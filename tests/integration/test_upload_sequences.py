"""The property that keeps the pipeline right, on a few random sequences of uploads: after the
pipeline settles, `inmet fetch` (S3) equals `inmet fetch --from snowflake` byte for byte and an
independent model of the contract (tests/oracle.VersionModel), the station history agrees with
the model, and every upload's status document agrees with what survived (tests/upload_sequences.py
says what a sequence holds). The seeds are fixed, so a run is repeatable; a failure names its
seed, and INMET_UPLOAD_SEQUENCE_SEED=<seed> replays that one sequence alone.
benchmarks/fuzz_upload_sequences.py runs the same property on new seeds for N minutes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inmet_local.emulator.servers import ManagedProcess
from tests.upload_sequences import SEED_ENV, Pipeline, SequenceRun, local_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEEDS = (1, 2, 3)
STEPS = 12  # steps of each sequence (sends, re-sends, pairs, loads), then every pending load


@pytest.fixture(scope="module")
def pipeline(
    fakesnow: ManagedProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    with local_pipeline(fakesnow, tmp_path_factory.mktemp("sequences")) as p:
        yield p


def _seeds() -> tuple[int, ...]:
    chosen = os.environ.get(SEED_ENV)
    return (int(chosen),) if chosen else SEEDS


@pytest.mark.parametrize("seed", _seeds())
def test_a_random_sequence_of_uploads_ends_as_the_model_says(pipeline: Pipeline, seed: int) -> None:
    outcome = SequenceRun(pipeline, seed, STEPS).run()
    assert outcome.accepted > 0
    assert outcome.batches > 0


def test_the_run_reports_its_seed_and_how_to_replay_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A broken model must fail the run, naming the seed and the replay command."""
    run = SequenceRun(pipeline, 7, 3)
    monkeypatch.setattr(run.model, "csv", lambda: b"station_id\n")
    monkeypatch.setattr(run.model, "documents", {})  # (statuses then agree trivially)
    with pytest.raises(AssertionError, match=rf"seed 7: .*\n.*{SEED_ENV}=7"):
        run.run()
