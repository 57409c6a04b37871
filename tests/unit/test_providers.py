"""Both functions' service providers have one shape (upload_api.deps, export_clean.deps): a
builder from settings, and one cached provider that makes the service on first use, its boto3
clients later still, on the first call that needs them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from export_clean import deps as export_deps
from inmet_local.client.client import Outcome, UploadOutcome
from inmet_pipeline.settings import upload_settings
from upload_api import deps as upload_deps

pytestmark = [pytest.mark.unit]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("S3_BUCKET", "b")
    monkeypatch.setenv("INMET_STATUS_TABLE", "t")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    upload_settings.cache_clear()
    upload_deps.upload_service.cache_clear()
    yield
    upload_deps.upload_service.cache_clear()
    upload_settings.cache_clear()


def test_both_providers_are_a_builder_and_one_cached_instance() -> None:
    for provider in (upload_deps.upload_service, export_deps.export_service):
        assert provider.cache_info().maxsize == 1
    assert callable(upload_deps.build_upload_service)
    assert callable(export_deps.build_export_service)


def test_the_upload_service_is_made_once_and_its_clients_on_first_use(env: None) -> None:
    service = upload_deps.get_service()
    assert upload_deps.get_service() is service
    assert service.objects._client is None  # type: ignore[attr-defined]
    assert service.statuses._table is None  # type: ignore[attr-defined]


def test_the_clients_outcomes_are_not_upload_statuses() -> None:
    assert [str(o) for o in Outcome] == ["accepted", "duplicate", "rejected", "failed"]
    assert UploadOutcome("x", Outcome.DUPLICATE).ok
    assert not UploadOutcome("x", Outcome.FAILED).ok
