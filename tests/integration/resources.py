"""Plain values and helpers of the integration tests (their fixtures are in conftest.py): the
resource names the servers are provisioned with, and the warehouse target."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables

BUCKET = "inmet-it"
TABLE = "inmet-uploads-it"

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


def load(wh: LocalWarehouse, *datas: bytes) -> None:
    """Stage ``datas`` as the pipe would (their raw objects) and run the task once over them."""
    from inmet_pipeline.uploads import raw_object

    wh.load_objects([raw_object(d) for d in datas])
    assert wh.run_task() is not None
