"""The privilege check: each role can run the SQL it really runs, under the grants of
snowflake_sql/ (inmet_local.snowflake.privileges, a small model of Snowflake's access control).

- The deploy: bootstrap/admin.sql as ACCOUNTADMIN, then schemachange as its configured role
  (its change-history table, every rendered script, in order).
- The task: every statement of each task's body, as the task's owner.
- The export: the SQL the export code sends, recorded by running ExportService and every
  SnowflakeExporter method against a recording connection, as the export role.
- The model itself, on small accounts, so that the check cannot pass vacuously.

Nothing here names the project's objects: they come from the rendered SQL and from the
recorded queries. When the export reads or writes a new object (say it INSERTs into an
acknowledgement table), the recorded statement names it and the test fails until
snowflake_sql/ grants the export role what that statement needs.

Why one module of ~450 lines (issue 16): the three roles are checked against one model built from
one rendering of snowflake_sql/ (module fixtures); the model's own tests sit beside them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

import inmet_pipeline.adapters.snowflake as snowflake_adapter
from inmet_local.snowflake.privileges import (
    ADMIN,
    Account,
    Deployment,
    Violation,
    deploy,
    scripting_statements,
)
from inmet_local.snowflake.sqlaccess import Access, analyse, stage_name
from inmet_local.snowflake.sqlproject import TASK_BODY, render, split_statements, variables
from inmet_pipeline.adapters.snowflake import SnowflakeExporter, SnowflakeSettings
from inmet_pipeline.exports import ExportedPartition, ExportService
from inmet_pipeline.notifications import ErrorNotification, LoadNotification, Partition
from tests.fakes import MemoryStatuses

pytestmark = [pytest.mark.unit]

SHA = ["a" * 64, "b" * 64]
RAW_KEYS = [
    f"raw/inmet/station=A001/year=2024/{SHA[0]}.csv",
    f"raw/inmet/station=A002/year=2023/{SHA[1]}.csv",
]


def _code(sql: str) -> str:
    return " ".join(re.sub(r"--[^\n]*", "", sql).split())


def _report(violations: list[Violation]) -> str:
    return f"{len(violations)} statement(s) refused:\n" + "\n".join(str(v) for v in violations)


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return deploy()


# -- the deploy and the task -------------------------------------------------------------------
def test_the_deploy_runs_as_the_schemachange_role(deployment: Deployment) -> None:
    """Every bootstrap statement (as ACCOUNTADMIN) and every schemachange statement (as the
    role of schemachange-config.yml) is allowed, the change-history database included."""
    assert deployment.violations == [], _report(deployment.violations)


def test_each_task_run_is_allowed_to_its_owner(deployment: Deployment) -> None:
    runs = deployment.task_runs()
    assert runs, "snowflake_sql/ creates no task"
    body = {_code(s) for s in split_statements(render(TASK_BODY, variables()))}
    seen = {_code(s) for _, statements in runs.values() for s in statements}
    missing = [s[:80] for s in body - seen]
    assert not missing, f"statements of {TASK_BODY} that no task runs: {missing}"
    violations = [
        v
        for owner, statements in runs.values()
        for v in deployment.account.run_all(owner, statements)
    ]
    assert violations == [], _report(violations)


# -- the export --------------------------------------------------------------------------------
class RecordingCursor:
    """Records each statement and answers with rows shaped like Snowflake's."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.description: list[tuple[str]] | None = None
        self.rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        self.log.append(sql)
        head = " ".join(sql.split()).upper()
        self.description = [("result",)]
        if "/YEAR=2022/INMET_DAILY.CSV" in head:  # a daily partition with no row: removed
            self.rows = [(0, 0, 0)]
        elif head.startswith("COPY INTO @") or head.startswith("COPY INTO '@"):
            self.rows = [(8760, 1_000_000, 900_000)]  # rows_unloaded, input_bytes, output_bytes
        elif "ROWS_CLEAN" in head:
            self.rows = [(key, 8760) for key in params or []]
        elif "UNPROCESSED_FILES" in head:
            self.rows = [(key,) for key in RAW_KEYS]
        else:
            self.rows = []

    # The connector's asynchronous execution (SnowflakeExporter runs a wave's COPYs at once).
    def execute_async(self, sql: str, params: list[Any] | None = None) -> None:
        self.execute(sql, params)
        self.sfqid = f"q{len(self.log)}"
        RecordingCursor.results[self.sfqid] = self.rows

    def get_results_from_sfqid(self, query_id: str) -> None:
        self.rows = RecordingCursor.results[query_id]

    results: dict[str, list[tuple[Any, ...]]] = {}  # noqa: RUF012 - shared by the fake's cursors

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        return None


class RecordingConnection:
    def __init__(self) -> None:
        self.log: list[str] = []

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self.log)

    def is_closed(self) -> bool:
        return False

    def get_query_status_throw_if_error(self, query_id: str) -> str:
        return "SUCCESS"

    def is_still_running(self, status: str) -> bool:
        return False


def _settings() -> SnowflakeSettings:
    values = variables()
    return SnowflakeSettings(
        snowflake_account="account",
        snowflake_user=values["export_user"],
        snowflake_warehouse=values["warehouse"],
        snowflake_database=values["database"],
        snowflake_schema=values["clean_schema"],
        snowflake_table=values["clean_view"],
        inmet_snowflake_raw_schema=values["raw_schema"],
    )


# Arguments for calling any exporter method directly, by parameter name. A new method with a
# parameter not listed here fails the test below with its name: add a plausible value.
ARGUMENTS: dict[str, Any] = {
    "raw_keys": RAW_KEYS,
    "station_id": "A001",
    "year": 2024,
    "key": "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv",
    "partitions": [("A001", 2024, "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv")],
    "batch_id": "batch-1",
    "part": 1,
    "uploads": 1,
    "done": [
        ExportedPartition(
            "A001", 2024, "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv", 8760
        )
    ],
}


def _public_methods() -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(SnowflakeExporter, inspect.isfunction)
        if not name.startswith("_")
    )


@pytest.fixture
def export_sql(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL the export code sends: ExportService.export_batch and record_failure (both
    forms), then every public SnowflakeExporter method, on a recording connection."""
    conn = RecordingConnection()
    monkeypatch.setattr(snowflake_adapter, "connection", lambda settings: conn)
    called: set[str] = set()
    for name in _public_methods():
        original: Callable[..., Any] = getattr(SnowflakeExporter, name)

        def spy(self: Any, *args: Any, _f: Any = original, _n: str = name, **kw: Any) -> Any:
            called.add(_n)
            return _f(self, *args, **kw)

        monkeypatch.setattr(SnowflakeExporter, name, spy)
    exporter = SnowflakeExporter(_settings())
    statuses = MemoryStatuses()
    for sha, (station, year) in zip(SHA, [("A001", 2024), ("A002", 2023)], strict=True):
        statuses.items[sha] = {"upload_id": sha, "station_id": station, "year": year}
    service = ExportService(exporter, statuses)
    service.export_batch(
        LoadNotification(
            event="inmet.clean.loaded",
            batch_id="batch-1",
            files=RAW_KEYS,
            partitions=[
                Partition(station_id="A001", year=2024, rows=8760),
                Partition(station_id="A002", year=2023, rows=0),  # emptied: removed
            ],
            loaded_at="2024-06-01T00:00:00Z",
        )
    )
    service.record_failure(ErrorNotification(message_type="USER_TASK_FAILED", files=[], error="x"))
    service.record_failure(
        ErrorNotification(message_type="INGEST_FAILED_FILE", files=RAW_KEYS[:1], error="x")
    )
    for name in _public_methods():
        if name in called:
            continue
        parameters = list(inspect.signature(getattr(SnowflakeExporter, name)).parameters)[1:]
        unknown = [p for p in parameters if p not in ARGUMENTS and p not in ("_f", "_n")]
        if unknown:
            pytest.fail(f"SnowflakeExporter.{name}: add a value for {unknown} to ARGUMENTS")
        getattr(exporter, name)(*[ARGUMENTS[p] for p in parameters if p in ARGUMENTS])
    assert called == set(_public_methods())
    return conn.log


def test_the_export_records_what_it_runs(export_sql: list[str]) -> None:
    heads = [" ".join(s.split()).split(" ")[0].upper() for s in export_sql]
    assert {"SELECT", "COPY", "REMOVE"} <= set(heads), heads


def test_every_export_statement_is_allowed_to_the_export_role(
    deployment: Deployment, export_sql: list[str]
) -> None:
    role = variables()["export_role"].upper()
    settings = _settings()
    defaults = (settings.snowflake_database.upper(), settings.snowflake_schema.upper())
    account = deployment.account
    assert settings.snowflake_warehouse is not None
    session = account.check(
        role, Access("USAGE", "WAREHOUSE", settings.snowflake_warehouse.upper()), "(session)"
    )
    violations = [session] if session else []
    for sql in dict.fromkeys(export_sql):
        violations += account.run(role, sql, defaults)
    assert violations == [], _report(violations)


# -- the model ---------------------------------------------------------------------------------
BASE = """
CREATE ROLE R; CREATE ROLE P; CREATE ROLE O;
CREATE DATABASE D; CREATE SCHEMA D.S;
CREATE TABLE D.S.T (x INT);
CREATE VIEW D.S.V AS SELECT x FROM D.S.T;
CREATE STORAGE INTEGRATION I TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE;
CREATE STAGE D.S.EXT URL = 's3://b/p/' STORAGE_INTEGRATION = I;
CREATE STAGE D.S.INT;
CREATE NOTIFICATION INTEGRATION N TYPE = QUEUE DIRECTION = OUTBOUND;
GRANT USAGE ON DATABASE D TO ROLE R;
"""


def _account(extra: str = "") -> Account:
    account = Account()
    violations = account.run_all(ADMIN, split_statements(BASE + extra))
    assert violations == [], _report(violations)
    return account


def _refused(account: Account, role: str, sql: str) -> list[tuple[str, str, str]]:
    return [(v.privilege, v.object_kind, v.object_name) for v in account.run(role, sql)]


def test_a_role_without_usage_on_the_schema_cannot_read() -> None:
    account = _account("GRANT SELECT ON TABLE D.S.T TO ROLE R;")
    assert _refused(account, "R", "SELECT x FROM D.S.T") == [("USAGE", "SCHEMA", "D.S")]
    account.run(ADMIN, "GRANT USAGE ON SCHEMA D.S TO ROLE R")
    assert _refused(account, "R", "SELECT x FROM D.S.T") == []
    assert _refused(account, "R", "DELETE FROM D.S.T") == [("DELETE", "TABLE", "D.S.T")]


def test_a_role_inherits_the_roles_granted_to_it() -> None:
    account = _account(
        "GRANT USAGE ON SCHEMA D.S TO ROLE R; GRANT SELECT ON TABLE D.S.T TO ROLE R;"
    )
    assert _refused(account, "P", "SELECT x FROM D.S.T") != []
    account.run(ADMIN, "GRANT ROLE R TO ROLE P")
    assert _refused(account, "P", "SELECT x FROM D.S.T") == []


def test_a_view_needs_select_on_the_view_only() -> None:
    account = _account("GRANT USAGE ON SCHEMA D.S TO ROLE R; GRANT SELECT ON VIEW D.S.V TO ROLE R;")
    assert _refused(account, "R", "WITH t AS (SELECT x FROM D.S.V) SELECT x FROM t") == []
    assert _refused(account, "R", "SELECT x FROM D.S.T") == [("SELECT", "TABLE", "D.S.T")]


def test_ownership_covers_everything_and_creating_needs_the_schema_privilege() -> None:
    account = _account("GRANT USAGE ON DATABASE D TO ROLE O;")
    assert _refused(account, "O", "CREATE TABLE D.S.MINE (x INT)") == [
        ("CREATE TABLE", "SCHEMA", "D.S")
    ]
    account.run(ADMIN, "GRANT CREATE TABLE ON SCHEMA D.S TO ROLE O")
    assert _refused(account, "O", "CREATE TABLE D.S.MINE2 (x INT)") == []
    merge = (
        "MERGE INTO D.S.MINE2 t USING (SELECT 1 AS x) s ON t.x = s.x "
        "WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT (x) VALUES (s.x)"
    )
    assert _refused(account, "O", merge) == []
    assert _refused(account, "O", "GRANT SELECT ON TABLE D.S.MINE2 TO ROLE R") == []
    assert _refused(account, "R", "GRANT SELECT ON TABLE D.S.MINE2 TO ROLE P") == [
        ("OWNERSHIP", "TABLE", "D.S.MINE2")
    ]


def test_merge_needs_the_privilege_of_each_clause() -> None:
    accesses, _ = analyse(
        "MERGE INTO D.S.T t USING D.S.V s ON t.x = s.x WHEN MATCHED AND s.x > 1 THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET x = s.x WHEN NOT MATCHED THEN INSERT (x) VALUES (s.x)"
    )
    on_target = {a.privilege for a in accesses if a.name == "D.S.T"}
    assert on_target == {"DELETE", "UPDATE", "INSERT"}
    assert Access("SELECT", "RELATION", "D.S.V") in accesses


def test_stage_writes_need_usage_on_an_external_stage_and_write_on_an_internal_one() -> None:
    account = _account("GRANT USAGE ON SCHEMA D.S TO ROLE R; GRANT SELECT ON VIEW D.S.V TO ROLE R;")
    unload = (
        "COPY INTO '@D.S.{}/station=A001/year=2024/f.csv' FROM (SELECT x FROM D.S.V) HEADER = TRUE"
    )
    assert _refused(account, "R", unload.format("EXT")) == [("USAGE", "STAGE", "D.S.EXT")]
    assert _refused(account, "R", unload.format("INT")) == [("WRITE", "STAGE", "D.S.INT")]
    account.run(ADMIN, "GRANT USAGE ON STAGE D.S.EXT TO ROLE R")
    assert _refused(account, "R", unload.format("EXT").replace("'", "")) == []
    # REMOVE on an external stage with a storage integration also needs USAGE on it.
    remove = "REMOVE '@D.S.EXT/station=A001/year=2024/f.csv'"
    assert _refused(account, "R", remove) == [("USAGE", "INTEGRATION", "I")]
    account.run(ADMIN, "GRANT USAGE ON INTEGRATION I TO ROLE R")
    assert _refused(account, "R", remove) == []


def test_sending_a_notification_needs_usage_on_the_integration() -> None:
    account = _account()
    call = (
        "CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(SNOWFLAKE.NOTIFICATION.APPLICATION_JSON(:m), "
        "SNOWFLAKE.NOTIFICATION.INTEGRATION('N'))"
    )
    assert _refused(account, "R", call) == [("USAGE", "INTEGRATION", "N")]
    account.run(ADMIN, "GRANT USAGE ON INTEGRATION N TO ROLE R")
    assert _refused(account, "R", call) == []


def test_a_serverless_task_needs_execute_managed_task_and_resuming_needs_execute_task() -> None:
    account = _account(
        "GRANT USAGE ON DATABASE D TO ROLE O; GRANT CREATE TASK ON SCHEMA D.S TO ROLE O;"
    )
    task = "CREATE TASK D.S.K USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL' AS SELECT 1"
    assert _refused(account, "O", task) == [("EXECUTE MANAGED TASK", "ACCOUNT", "")]
    assert _refused(account, "O", "ALTER TASK D.S.K RESUME") == [("EXECUTE TASK", "ACCOUNT", "")]
    account.run(ADMIN, "GRANT EXECUTE TASK ON ACCOUNT TO ROLE O")
    assert _refused(account, "O", "ALTER TASK D.S.K RESUME") == []
    assert account.owners[("TASK", "D.S.K")] == "O"


def test_future_grants_cover_later_objects_and_all_grants_existing_ones() -> None:
    account = _account(
        "GRANT USAGE ON SCHEMA D.S TO ROLE R;GRANT SELECT ON FUTURE TABLES IN SCHEMA D.S TO ROLE R;"
    )
    assert _refused(account, "R", "SELECT x FROM D.S.T") == [("SELECT", "TABLE", "D.S.T")]
    account.run(ADMIN, "CREATE TABLE D.S.LATER (x INT)")
    assert _refused(account, "R", "SELECT x FROM D.S.LATER") == []
    account.run(ADMIN, "GRANT SELECT ON ALL TABLES IN SCHEMA D.S TO ROLE R")
    assert _refused(account, "R", "SELECT x FROM D.S.T") == []
    assert _refused(account, "O", "GRANT SELECT ON FUTURE VIEWS IN SCHEMA D.S TO ROLE R") == [
        ("MANAGE GRANTS", "ACCOUNT", "")
    ]


def test_missing_objects_and_unknown_statements_are_refused() -> None:
    account = _account()
    assert [v.reason for v in account.run(ADMIN, "SELECT x FROM D.NOPE.T")] == [
        "does not exist",
        "does not exist",
    ]
    assert [v.reason for v in account.run(ADMIN, "UNDROP TABLE D.S.T")] == ["not modelled"]


@pytest.mark.parametrize(
    "ref",
    [
        "@INMET.CLEAN.EXPORT_STAGE/station=A001/year=2024/inmet_clean.csv",
        "'@INMET.CLEAN.EXPORT_STAGE/station=A001/year=2024/inmet_clean.csv'",
        "@EXPORT_STAGE/station=A001/",
        '@inmet.clean."EXPORT_STAGE"',
    ],
)
def test_stage_references_resolve_to_the_stage(ref: str) -> None:
    assert stage_name(ref, ("INMET", "CLEAN")) == "INMET.CLEAN.EXPORT_STAGE"


def test_the_failure_message_names_role_statement_object_and_privilege() -> None:
    account = _account()
    violation = account.run("R", "SELECT x FROM D.S.T")[0]
    text = str(violation)
    assert re.search(r"role R: needs USAGE on SCHEMA D\.S\n\s+in: SELECT x FROM D\.S\.T", text)


def test_replacing_a_view_without_copy_grants_drops_its_grants() -> None:
    account = _account("GRANT USAGE ON SCHEMA D.S TO ROLE R; GRANT SELECT ON VIEW D.S.V TO ROLE R;")
    account.run(ADMIN, "CREATE OR REPLACE VIEW D.S.V COPY GRANTS AS SELECT x FROM D.S.T")
    assert _refused(account, "R", "SELECT x FROM D.S.V") == []
    account.run(ADMIN, "CREATE OR REPLACE VIEW D.S.V AS SELECT x FROM D.S.T")
    assert _refused(account, "R", "SELECT x FROM D.S.V") == [("SELECT", "VIEW", "D.S.V")]


def test_reading_a_stream_needs_select_on_its_source_table() -> None:
    account = _account(
        "CREATE STREAM D.S.ST ON TABLE D.S.T APPEND_ONLY = TRUE;"
        "GRANT USAGE ON SCHEMA D.S TO ROLE R; GRANT SELECT ON STREAM D.S.ST TO ROLE R;"
    )
    assert _refused(account, "R", "SELECT x FROM D.S.ST") == [("SELECT", "TABLE", "D.S.T")]


def test_a_scripting_block_yields_the_statements_it_runs() -> None:
    body = """EXECUTE IMMEDIATE $$
    DECLARE
      c CURSOR FOR SELECT x FROM D.S.V;
    BEGIN
      BEGIN TRANSACTION;
      DELETE FROM D.S.T;
      COMMIT;
      FOR rec IN c DO
        LET v VARCHAR := rec.x;
        UPDATE D.S.T SET x = :v;
      END FOR;
    END;
    $$"""
    statements = [" ".join(s.split()) for s in scripting_statements(body)]
    assert statements == [
        "SELECT x FROM D.S.V",
        "BEGIN TRANSACTION",
        "DELETE FROM D.S.T",
        "COMMIT",
        "UPDATE D.S.T SET x = :v",
    ]
    assert scripting_statements("SELECT 1") == ["SELECT 1"]
