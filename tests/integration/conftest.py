"""Real servers on 127.0.0.1, started and stopped by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inmet_local.servers import (
    ManagedProcess,
    aws_env,
    fakesnow_server,
    moto_server,
    uvicorn_server,
)
from inmet_local.template import LocalNames, Provisioned, provision

BUCKET = "inmet-it"
TABLE = "inmet-uploads-it"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    server = moto_server(log_path=tmp_path_factory.mktemp("logs") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def provisioned(moto: ManagedProcess) -> Provisioned:
    env = aws_env(moto.url)
    return provision(
        {
            "endpoint_url": moto.url,
            "region_name": env["AWS_REGION"],
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        },
        LocalNames(bucket=BUCKET, table=TABLE),
    )


@pytest.fixture(scope="module")
def api(
    moto: ManagedProcess, provisioned: Provisioned, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ManagedProcess]:
    env = {
        **aws_env(moto.url),
        "S3_BUCKET": BUCKET,
        "INMET_STATUS_TABLE": TABLE,
        "INMET_API_KEY": "it-key",
        "POWERTOOLS_SERVICE_NAME": "inmet-pipeline",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    server = uvicorn_server(env, log_path=tmp_path_factory.mktemp("logs") / "api.log").start()
    yield server
    server.stop()


@pytest.fixture
def tmp_files(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """A fakesnow server for the module; each test deploys into a database of its own."""
    server = fakesnow_server(log_path=tmp_path_factory.mktemp("logs") / "fakesnow.log").start()
    yield server
    server.stop()
