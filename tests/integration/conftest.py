"""Real servers on 127.0.0.1, started and stopped by the tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inmet_local.servers import (
    ManagedProcess,
    aws_env,
    fakesnow_connect_kwargs,
    fakesnow_server,
    moto_client_kwargs,
    moto_server,
    uvicorn_server,
)
from inmet_local.sqlproject import variables
from inmet_local.template import LocalNames, Provisioned, provision
from inmet_local.warehouse import LocalWarehouse

BUCKET = "inmet-it"
TABLE = "inmet-uploads-it"


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


# -- the warehouse target: the local fakesnow server, or a real Snowflake account -------------
LIVE_SNOWFLAKE = "INMET_LIVE_SNOWFLAKE"
LIVE_SETTINGS = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY_PATH")


@dataclass(frozen=True)
class WarehouseTarget:
    """Where the warehouse tests run: the same test bodies against fakesnow (every CI run) or,
    with INMET_LIVE_SNOWFLAKE=1 and the key-pair settings (`make test-snowflake`), against a
    real account, each test in a scratch database that it drops at the end."""

    connect_kwargs: dict[str, Any]
    live: bool

    def warehouse(self, work_dir: Path, **overrides: str) -> LocalWarehouse:
        prefix = "INMET_TEST_" if self.live else "T"
        values = variables({"database": f"{prefix}{uuid.uuid4().hex[:10].upper()}", **overrides})
        wh = LocalWarehouse(self.connect_kwargs, values=values, work_dir=work_dir, live=self.live)
        wh.deploy()
        return wh

    def drop(self, wh: LocalWarehouse) -> None:
        if self.live:
            wh.execute(f"DROP DATABASE IF EXISTS {wh.db}")


def live_connect_kwargs(settings: Any = None) -> dict[str, Any]:
    """Key-pair connection to the account in the environment / .env, or a skip saying what is
    missing."""
    from inmet_pipeline.adapters.snowflake import SnowflakeSettings, connect_kwargs

    settings = settings or SnowflakeSettings()
    missing = [name for name in LIVE_SETTINGS if not getattr(settings, name.lower())]
    if missing:
        pytest.skip(
            f"{LIVE_SNOWFLAKE}=1 but {', '.join(missing)} not set: no live Snowflake target"
        )
    kwargs = connect_kwargs(settings)
    kwargs.pop("database", None)  # each test deploys into a scratch database of its own
    kwargs.pop("schema", None)
    kwargs["session_parameters"] = {**kwargs["session_parameters"], "QUERY_TAG": "inmet-tests"}
    return kwargs


@pytest.fixture(scope="module")
def warehouse_target(request: pytest.FixtureRequest) -> WarehouseTarget:
    if os.environ.get(LIVE_SNOWFLAKE) == "1":
        return WarehouseTarget(live_connect_kwargs(), live=True)
    server: ManagedProcess = request.getfixturevalue("fakesnow")
    return WarehouseTarget(fakesnow_connect_kwargs(server.url), live=False)
