"""The differential, property-based test of issue 15 (point 2): files mutated from real and
generated ones; every file the validator accepts goes through the local pipe, task and export
without failing the task, every file it refuses gets a 4xx over HTTP.

A bounded budget here (a few batches of up to 6 files, one pipe load, task run and export per
batch); `benchmarks/fuzz_valid_file.py --examples N` runs the same property for longer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from inmet_local.emulator.servers import ManagedProcess, fakesnow_client_env
from tests.fuzz import BatchOutcome, FuzzPipeline, all_bases, check_batch, file_batches
from tests.integration.resources import BUCKET
from tests.paths import REAL_DIR

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BASES = all_bases(REAL_DIR)
OUTCOME = BatchOutcome()


@pytest.fixture(scope="module")
def pipeline(
    api: ManagedProcess, fakesnow: ManagedProcess, moto: ManagedProcess
) -> Iterator[FuzzPipeline]:
    pipe = FuzzPipeline(api.url, "it-key", fakesnow_client_env(fakesnow), moto.url, BUCKET)
    yield pipe
    pipe.close()


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=file_batches(BASES))
def test_accepted_files_never_fail_the_pipeline_refused_ones_get_4xx(
    pipeline: FuzzPipeline, batch: list[bytes]
) -> None:
    check_batch(batch, pipeline.post, pipeline.load_and_export, OUTCOME)


def test_the_fuzz_exercised_both_sides() -> None:
    """The budget above produced accepted and refused files (else it proved nothing)."""
    assert OUTCOME.accepted > 0
    assert OUTCOME.refused > 0
    print(f"fuzz: {OUTCOME.accepted} accepted, {OUTCOME.refused} refused, {OUTCOME.statuses}")
