"""The Snowflake export adapter without an account: a lost session is logged into again once
(error 390114 on a warm Lambda), and a wave's COPY statements run concurrently."""

from __future__ import annotations

from typing import Any

import pytest
import snowflake.connector

from inmet_pipeline.adapters import snowflake as adapter
from inmet_pipeline.adapters.snowflake import SnowflakeExporter, SnowflakeSettings
from inmet_pipeline.errors import DependencyUnavailable

pytestmark = [pytest.mark.unit]


def _expired() -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg="Authentication token has expired.  The user must authenticate again.",
        errno=390114,
        sqlstate="08001",
    )


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.description: list[tuple[str]] | None = [("rows_unloaded",)]
        self.sfqid = ""
        self.rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Any = None) -> None:
        self.conn.executed.append(sql)
        if self.conn.fail_next:
            error, self.conn.fail_next = self.conn.fail_next, None
            raise error
        self.rows = [("raw/x.csv", 3)]

    def execute_async(self, sql: str) -> None:
        self.execute(sql)
        self.sfqid = f"q{len(self.conn.executed)}"
        self.conn.running[self.sfqid] = 2  # still running for two polls

    def get_results_from_sfqid(self, query_id: str) -> None:
        self.rows = [(8760, 1, 1)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        pass


class FakeConnection:
    instances: list[FakeConnection] = []  # noqa: RUF012 - the connections made, in order

    def __init__(self, **kwargs: Any) -> None:
        self.executed: list[str] = []
        self.fail_next: Exception | None = None
        self.running: dict[str, int] = {}
        self.polls = 0
        self.closed = False
        FakeConnection.instances.append(self)

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def is_closed(self) -> bool:
        return self.closed  # stays False after 390114: the session is gone, the object is not

    def close(self) -> None:
        self.closed = True

    def get_query_status_throw_if_error(self, query_id: str) -> str:
        self.polls += 1
        self.running[query_id] -= 1
        return "RUNNING" if self.running[query_id] > 0 else "SUCCESS"

    def is_still_running(self, status: str) -> bool:
        return status == "RUNNING"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> SnowflakeExporter:
    FakeConnection.instances = []
    adapter._CONNECTIONS.clear()
    monkeypatch.setattr(snowflake.connector, "connect", FakeConnection)
    monkeypatch.setattr(adapter, "connect_kwargs", lambda settings: {})
    exp = SnowflakeExporter(SnowflakeSettings(snowflake_account="a", snowflake_user="u"))
    exp.POLL_SECONDS = 0
    return exp


def test_an_expired_session_logs_in_again_once(exporter: SnowflakeExporter) -> None:
    exporter.rows_clean(["raw/x.csv"])  # first use: one connection
    FakeConnection.instances[0].fail_next = _expired()
    assert exporter.rows_clean(["raw/x.csv"]) == {"raw/x.csv": 3}
    assert len(FakeConnection.instances) == 2  # the stale one dropped, a new login
    assert FakeConnection.instances[0].closed


def test_a_session_lost_twice_is_a_clear_dependency_error(
    exporter: SnowflakeExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = FakeConnection.__init__

    def always_expired(self: FakeConnection, **kwargs: Any) -> None:
        original(self, **kwargs)
        self.fail_next = _expired()

    monkeypatch.setattr(FakeConnection, "__init__", always_expired)
    with pytest.raises(DependencyUnavailable, match=r"390114|expired"):
        exporter.rows_clean(["raw/x.csv"])
    assert len(FakeConnection.instances) == 2  # one retry, not a loop


def test_other_errors_are_not_retried(exporter: SnowflakeExporter) -> None:
    exporter.rows_clean(["raw/x.csv"])
    FakeConnection.instances[0].fail_next = snowflake.connector.errors.ProgrammingError(
        msg="Object does not exist or not authorized.", errno=2003
    )
    with pytest.raises(DependencyUnavailable, match="not authorized"):
        exporter.rows_clean(["raw/x.csv"])
    assert len(FakeConnection.instances) == 1


def test_a_wave_submits_every_copy_before_waiting_for_any(exporter: SnowflakeExporter) -> None:
    parts = [
        (f"A00{i}", 2024, f"processed/inmet_clean/station=A00{i}/year=2024/inmet_clean.csv")
        for i in range(1, 5)
    ]
    written = exporter.export_partitions(parts)
    conn = FakeConnection.instances[0]
    assert written == {key: 8760 for _, _, key in parts}
    assert len(conn.executed) == 4
    assert all(sql.startswith("COPY INTO '@") for sql in conn.executed)
    # Each query was polled while the others ran: 4 queries x 2 polls, no sequential waits.
    assert conn.polls == 8


def test_an_expired_session_during_a_wave_resubmits_it(exporter: SnowflakeExporter) -> None:
    exporter.rows_clean(["raw/x.csv"])
    FakeConnection.instances[0].fail_next = _expired()
    parts = [("A001", 2024, "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv")]
    assert exporter.export_partitions(parts) == {parts[0][2]: 8760}
    assert len(FakeConnection.instances) == 2


def test_the_live_target_loads_through_the_tables_stage(tmp_path: Any) -> None:
    """`make test-snowflake` runs the warehouse tests on a real account: the same deploy and
    task statements, and the load by PUT to the table's stage then COPY (no file:// path, no
    local length checks). Exercised here with a recording connection on every run."""
    from inmet_local.emulator.warehouse import LocalWarehouse
    from inmet_local.synth.synth import generate_station_year, station_catalogue
    from inmet_pipeline.uploads import raw_object

    executed: list[str] = []

    class Cursor:
        def execute(self, sql: str, params: Any = None) -> None:
            executed.append(" ".join(sql.split()))

        def fetchall(self) -> list[Any]:
            return []

        def close(self) -> None:
            pass

    class Conn:
        def cursor(self) -> Cursor:
            return Cursor()

        def close(self) -> None:
            pass

    wh = LocalWarehouse({}, work_dir=tmp_path, live=True)
    wh._conn = Conn()
    wh.deploy()
    assert not any("CHECK (LENGTH(" in sql for sql in executed)
    executed.clear()
    data = generate_station_year(station_catalogue(1)[0], 2024, seed=1).data
    wh.load_objects([raw_object(data)])
    put, copy = executed[0], executed[1]
    assert put.startswith("PUT 'file://")
    assert put.endswith("'@INMET.RAW.%INMET_RAW' AUTO_COMPRESS = FALSE")
    assert copy.startswith("COPY INTO INMET.RAW.INMET_RAW FROM @INMET.RAW.%INMET_RAW FILES = (")
    assert copy.endswith("PURGE = TRUE")


def test_the_live_target_without_settings_skips_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.integration.resources import LIVE_SETTINGS, live_connect_kwargs

    for name in LIVE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"SNOWFLAKE_ACCOUNT.*not set"):
        live_connect_kwargs(SnowflakeSettings(_env_file=None))


def test_a_missing_grant_fails_the_wave_as_an_outage_not_as_a_bad_partition(
    exporter: SnowflakeExporter,
) -> None:
    """ "Object does not exist or not authorized" says the deployment is wrong: the message is
    retried (then queued), never acknowledged with every partition marked failed."""
    exporter.rows_clean(["raw/x.csv"])
    FakeConnection.instances[0].fail_next = snowflake.connector.errors.ProgrammingError(
        msg="SQL compilation error: Stage 'INMET.CLEAN.EXPORT_STAGE' does not exist or not "
        "authorized.",
        errno=2003,
    )
    parts = [("A001", 2024, "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv")]
    with pytest.raises(DependencyUnavailable, match="not authorized"):
        exporter.export_partitions(parts)


def test_the_warehouse_adapter_plugs_in_by_name_and_only_when_set() -> None:
    """INMET_WAREHOUSE_ADAPTER: how the local runtime gives the export its own warehouse
    (inmet_local.emulator.local_adapter) while the layer carries no local code."""
    from inmet_local.emulator.local_adapter import (
        LOCAL_ADAPTER,
        LocalExporter,
        LocalSnowflakeSettings,
    )
    from inmet_pipeline.settings import ConfigError

    assert adapter.plugged_exporter(SnowflakeSettings(_env_file=None)) is None
    with pytest.raises(ConfigError, match="INMET_WAREHOUSE_ADAPTER"):
        adapter.plugged_exporter(
            SnowflakeSettings(_env_file=None, inmet_warehouse_adapter="no_such_module:x")
        )
    settings = LocalSnowflakeSettings(_env_file=None, inmet_snowflake_local_url="http://h:1")
    assert settings.connect_kwargs()["host"] == "h"
    assert settings.cache_key() != SnowflakeSettings(_env_file=None).cache_key()
    assert LOCAL_ADAPTER == "inmet_local.emulator.local_adapter:local_exporter"
    assert issubclass(LocalExporter, adapter.WarehouseQueries)


def test_the_lambda_layer_carries_no_local_code() -> None:
    """issue 16: LocalExporter, the local unload route and fakesnow's settings live in
    inmet_local, which neither the layer nor a function imports."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for folder in (root / "layers", root / "functions"):
        for path in folder.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "import inmet_local" not in text, path
            assert "from inmet_local" not in text, path
            assert "LocalExporter(" not in text, path
