"""Fixtures for in-process tests against moto: the template's resources, the upload app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from inmet_local.workspace.template import Provisioned, provision
from inmet_pipeline.settings import upload_settings
from inmet_pipeline.uploads import UploadService
from tests.functional.resources import BUCKET, TABLE
from upload_api import deps
from upload_api.app import app


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_BUCKET": BUCKET,
        "INMET_STATUS_TABLE": TABLE,
        "POWERTOOLS_METRICS_NAMESPACE": "InmetPipeline",
        "POWERTOOLS_SERVICE_NAME": "inmet-pipeline",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "INMET_API_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    upload_settings.cache_clear()
    yield
    upload_settings.cache_clear()


@pytest.fixture
def aws(aws_env: None) -> Iterator[Provisioned]:
    """moto in-process, with the bucket and table declared in template.yaml; the app (through
    TestClient or the Lambda handler) answers with a service on it (``service``)."""
    from inmet_local.emulator.moto_server import apply_fixes
    from inmet_local.workspace.template import LocalNames

    apply_fixes()  # as every in-process user of mock_aws: moto as the local stack runs it
    with mock_aws():
        provisioned = provision(
            {"region_name": "us-east-1"}, LocalNames(bucket=BUCKET, table=TABLE)
        )
        service = deps.build_upload_service(upload_settings())
        app.dependency_overrides[deps.get_service] = lambda: service
        yield provisioned
        app.dependency_overrides.pop(deps.get_service, None)  # the app is module-global


@pytest.fixture
def service(aws: Provisioned) -> UploadService:
    """The upload service the app answers with in this test: replace its adapters to inject a
    fault."""
    service: UploadService = app.dependency_overrides[deps.get_service]()
    return service


@pytest.fixture
def client(aws: Provisioned) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
