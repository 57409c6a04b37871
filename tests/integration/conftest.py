"""Real servers on 127.0.0.1, started and stopped by the tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inmet_local.emulator.servers import (
    ManagedProcess,
    aws_env,
    fakesnow_server,
    fakesnow_server_kwargs,
    moto_client_kwargs,
    moto_server,
    uvicorn_server,
)
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.workspace.template import LocalNames, Provisioned, provision
from tests.integration.resources import (
    BUCKET,
    LIVE_SNOWFLAKE,
    TABLE,
    WarehouseTarget,
    live_connect_kwargs,
)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    server = moto_server(log_path=tmp_path_factory.mktemp("logs") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def provisioned(moto: ManagedProcess) -> Provisioned:
    return provision(moto_client_kwargs(moto.url), LocalNames(bucket=BUCKET, table=TABLE))


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


@pytest.fixture(scope="module")
def warehouse_target(request: pytest.FixtureRequest) -> WarehouseTarget:
    if os.environ.get(LIVE_SNOWFLAKE) == "1":
        return WarehouseTarget(live_connect_kwargs(), live=True)
    server: ManagedProcess = request.getfixturevalue("fakesnow")
    return WarehouseTarget(fakesnow_server_kwargs(server), live=False)


@pytest.fixture
def warehouse(warehouse_target: WarehouseTarget, tmp_path: Path) -> Iterator[LocalWarehouse]:
    """A freshly deployed warehouse in a database of its own, on the local fakesnow server or,
    under `make test-snowflake`, on a real account (dropped afterwards)."""
    with warehouse_target.warehouse(tmp_path / "pipe") as wh:
        try:
            yield wh
        finally:
            warehouse_target.drop(wh)
