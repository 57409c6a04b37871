"""Rules of Snowflake's statements that no parser knows, checked over the rendered SQL. Each
rule cites the documentation page it comes from; fakesnow and sqlglot accept every violation.
"""

from __future__ import annotations

import inspect
import json
import re

import pytest
import sqlglot
from sqlglot import exp

from inmet_local.snowflake.sqlproject import (
    BOOTSTRAP,
    Statement,
    load_config,
    render,
    rendered_statements,
    split_statements,
    variables,
)
from inmet_pipeline.exports import copy_into_statement, remove_statement

pytestmark = [pytest.mark.unit]

# "Reserved & limited keywords" (docs.snowflake.com/en/sql-reference/reserved-keywords): the
# keywords Snowflake reserves, by Snowflake or by ANSI, none usable as an unquoted column name.
RESERVED = frozenset(
    """ACCOUNT ALL ALTER AND ANY AS BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION
    CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER
    DATABASE DELETE DISTINCT DROP ELSE EXISTS FALSE FOLLOWING FOR FROM FULL GRANT GROUP
    GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT INTERSECT INTO IS ISSUE JOIN LATERAL LEFT
    LIKE LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR ORDER ORGANIZATION QUALIFY
    REGEXP REVOKE RIGHT RLIKE ROW ROWS SAMPLE SCHEMA SELECT SET SOME START TABLE TABLESAMPLE
    THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE USING VALUES VIEW WHEN WHENEVER WHERE
    WITH""".split()  # noqa: SIM905 - the page's list, as it reads
)


def _statements() -> list[Statement]:
    return list(rendered_statements())


def _code(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def _creates(kind: str) -> list[str]:
    pattern = re.compile(rf"^\s*CREATE\s+(OR\s+REPLACE\s+)?(TRANSIENT\s+)?{kind}\b", re.I)
    return [_code(s.sql) for s in _statements() if pattern.match(_code(s.sql))]


def test_no_column_is_named_by_a_reserved_keyword() -> None:
    for sql in _creates("TABLE"):
        table = sqlglot.parse_one(sql, read="snowflake")
        for column in table.find_all(exp.ColumnDef):
            assert column.name.upper() not in RESERVED, (column.name, sql.splitlines()[0])


def test_the_reserved_check_would_catch_rows() -> None:
    sql = "CREATE TABLE t (rows NUMBER(10,0))"
    names = [
        c.name.upper() for c in sqlglot.parse_one(sql, read="snowflake").find_all(exp.ColumnDef)
    ]
    assert RESERVED.intersection(names) == {"ROWS"}


def test_serverless_tasks_have_what_snowflake_requires() -> None:
    """ "Triggered tasks" (docs.snowflake.com/en/user-guide/tasks-triggered): a serverless
    triggered task must include TARGET_COMPLETION_INTERVAL and no WAREHOUSE; a scheduled
    serverless task has a SCHEDULE ("Introduction to tasks"). Every task names its
    ERROR_INTEGRATION and its SUSPEND_TASK_AFTER_NUM_FAILURES (decided in R__task.sql)."""
    tasks = _creates("TASK")
    assert len(tasks) == 2
    for sql in tasks:
        head = sql.split(" AS\n")[0].upper()
        assert "WAREHOUSE =" not in head, "serverless tasks name no WAREHOUSE"
        assert re.search(r"SUSPEND_TASK_AFTER_NUM_FAILURES = \d+", head)
        assert "ERROR_INTEGRATION =" in head
        if "WHEN SYSTEM$STREAM_HAS_DATA" in head:
            assert "SCHEDULE" not in head
            assert re.search(r"TARGET_COMPLETION_INTERVAL = '\d+ (MINUTES|HOURS|SECONDS)'", head)
        else:
            assert re.search(r"SCHEDULE = '\d+ MINUTES'", head)


def test_every_task_is_resumed_after_it_is_created() -> None:
    """CREATE TASK leaves a task suspended ("CREATE TASK": a task is suspended when created)."""
    text = "\n".join(_code(s.sql) for s in _statements())
    for name in re.findall(r"CREATE OR REPLACE TASK (\S+)", text):
        assert f"ALTER TASK {name} RESUME" in text


def test_tables_pipes_and_streams_are_created_if_not_exists_never_replaced() -> None:
    """CREATE OR REPLACE PIPE loses the pipe's load history ("CREATE PIPE", usage notes: files
    would load again), a replaced stream its offset ("CREATE STREAM"), a replaced table its
    rows: these are created only when missing. The one exception: the task's scratch table,
    emptied by every run, which V1.9.0 re-creates wider (nothing in it outlives a run)."""
    scratch = re.compile(r"\s*CREATE OR REPLACE TRANSIENT TABLE \S+\.CLEAN\.BATCH_WORK\b")
    for kind in ("TABLE", "PIPE", "STREAM"):
        created = _creates(kind)
        assert created, kind
        for sql in created:
            if kind == "TABLE" and scratch.match(sql):
                continue
            assert re.match(rf"\s*CREATE\s+(TRANSIENT\s+)?{kind} IF NOT EXISTS\b", sql), sql[:80]


def test_no_table_has_a_clustering_key() -> None:
    """OBSERVATIONS is MERGEd by every task run: Automatic Clustering would re-cluster (and
    bill) continuously; the decision and its figures are in V1.3.0 beside the DDL."""
    for sql in _creates("TABLE"):
        assert "CLUSTER BY" not in sql.upper(), sql.splitlines()[0]


def test_the_pipe_takes_its_times_from_the_load_metadata() -> None:
    """ "CREATE PIPE" usage notes: time values from SYSDATE()/CURRENT_TIMESTAMP in a pipe can be
    hours earlier than the load; METADATA$START_SCAN_TIME is the documented load time, and
    METADATA$FILE_LAST_MODIFIED the object's write time ("Querying metadata for staged files")."""
    [pipe] = _creates("PIPE")
    assert "METADATA$START_SCAN_TIME" in pipe
    assert "METADATA$FILE_LAST_MODIFIED" in pipe
    for sql in _creates("TABLE"):
        assert not re.search(r"DEFAULT\s+(SYSDATE|CURRENT_TIMESTAMP)", sql, re.I), sql[:60]


def test_stage_paths_with_special_characters_are_quoted() -> None:
    """A stage path with '=' (station=A001/…) is written as a quoted literal ('@stage/path'),
    the documented safe form ("COPY INTO <location>", "REMOVE")."""
    statements = [
        copy_into_statement("INMET.CLEAN.EXPORT_STAGE", "INMET.CLEAN.INMET_CLEAN", "A001", 2024),
        remove_statement("INMET.CLEAN.EXPORT_STAGE", "A001", 2024),
        *(_code(s.sql) for s in _statements()),
    ]
    for sql in statements:
        for match in re.finditer(r"(?<!')@[\w.$]+/[^\s)]*", sql):
            assert "=" not in match.group(0), match.group(0)
    assert "'@INMET.CLEAN.EXPORT_STAGE/station=A001/year=2024/inmet_clean.csv'" in statements[0]
    assert statements[1] == (
        "REMOVE '@INMET.CLEAN.EXPORT_STAGE/station=A001/year=2024/inmet_clean.csv'"
    )


def test_the_change_history_database_is_created_by_the_bootstrap() -> None:
    """schemachange creates the change-history schema and table but never the database
    (schemachange README, "change-history-table"): the bootstrap creates it, owned by the role
    schemachange runs as."""
    config = load_config()
    database = config["change-history-table"].split(".")[0]
    role = config["snowflake-role"]
    assert config["vars"]["admin_database"] == database
    bootstrap = " ".join(render(BOOTSTRAP, variables()).split())
    assert f"CREATE DATABASE IF NOT EXISTS {database}" in bootstrap
    assert f"GRANT OWNERSHIP ON DATABASE {database} TO ROLE {role}" in bootstrap
    assert [s for s in split_statements(render(BOOTSTRAP, variables())) if database in s]


SNS_LIMIT = (
    256 * 1024
)  # "Amazon SNS message quotas", docs.aws.amazon.com/sns/latest/dg/sns-message-size.html
S3_KEY_BYTES = 1024  # "Naming Amazon S3 objects": a key is at most 1,024 bytes
JSON_BYTES_PER_CHAR = 6  # the longest JSON escape, \u0001


def _message(**fields: object) -> int:
    envelope = {
        "event": "inmet.clean.loaded",
        "batch_id": "0" * 36,
        "part": 999_999,
        "parts": 999_999,
        "files": [],
        "partitions": [],
        "quarantined": [],
        "loaded_at": "2026-01-01T00:00:00Z",
    }
    return len(json.dumps({**envelope, **fields}).encode())


def test_a_message_of_loose_files_or_set_aside_files_stays_under_the_sns_limit() -> None:
    """The worst case of a part after the partitions' (R__views.sql, PENDING_NOTIFICATIONS):
    items_per_message set-aside files, each with the longest key S3 allows and a reason of
    reason_max_chars characters that JSON escapes at 6 bytes each."""
    values = variables()
    items, reason_chars = int(values["items_per_message"]), int(values["reason_max_chars"])
    key = "\x01" * S3_KEY_BYTES
    worst = _message(quarantined=[{"file": key, "error": "\x01" * reason_chars}] * items)
    assert worst < SNS_LIMIT
    assert len(json.dumps("\x01")) - 2 == JSON_BYTES_PER_CHAR


def test_a_message_of_partitions_stays_under_the_sns_limit() -> None:
    """Parts 1..P: step 7 of the task packs partitions by weight (80 bytes and 6 bytes a key
    character, at least budget / partitions_per_message each); a part holds the partitions that
    start inside one budget, so at most budget + one partition's weight. With the raw/ keys the
    upload writes, a message stays under the limit for up to 100 uploads of one station-year
    in one batch (more is the one case not bounded: docs/snowflake-operations.md)."""
    values = variables()
    budget = int(values["message_budget_bytes"])
    per_message = int(values["partitions_per_message"])
    key = "raw/inmet/station=A001/year=2024/" + "f" * 64 + "-000000000001.csv"
    one_partition = max(budget // per_message, 80 + 100 * (JSON_BYTES_PER_CHAR * len(key) + 3))
    partitions = [{"station_id": "A001", "year": 2024, "rows": 8784}] * per_message
    worst = _message(files=["\x01" * len(key)] * (100 + per_message), partitions=partitions)
    assert worst <= 1024 + budget + one_partition < SNS_LIMIT
    step7 = render("task/process_batch.sql", values)
    assert "6 * LENGTH(raw_key) + 3" in step7
    assert f"GREATEST(\n        {budget} / {per_message}" in step7


def test_no_script_builds_a_raw_key_by_hand() -> None:
    """METADATA$FILENAME may hold the stage's prefix or not (modules/keys.sql): every raw key
    comes from the raw_key macro, never from the prefix glued to a file name."""
    values = variables()
    prefix = values["raw_prefix"]
    for statement in _statements():
        code = _code(statement.sql)
        assert f"'{prefix}' || file_name" not in code
        assert not re.search(rf"'{prefix}' \|\| \w+\.file_name", code), statement.first_line


def test_the_tasks_pin_the_session_parameters_the_sql_relies_on() -> None:
    """ "CREATE TASK": a task may set session parameters for its runs; the list the SQL relies on
    (inmet_pipeline.session) is set on every task and on the export's connection."""
    from inmet_pipeline.adapters import snowflake as adapter
    from inmet_pipeline.session import PINNED_SESSION_PARAMETERS

    tasks = _creates("TASK")
    assert len(tasks) == 2
    for task in tasks:
        head = task.split(" AS\n", 1)[0]
        for name, value in PINNED_SESSION_PARAMETERS.items():
            literal = str(value).upper() if isinstance(value, bool) else f"'{value}'"
            assert re.search(rf"\b{name}\s*=\s*{literal}", head), (name, head[:80])
    source = inspect.getsource(adapter)
    assert re.search(r'"session_parameters": \{[^}]*\*\*PINNED_SESSION_PARAMETERS', source)
    assert PINNED_SESSION_PARAMETERS["QUOTED_IDENTIFIERS_IGNORE_CASE"] is False


def test_every_task_has_a_timeout() -> None:
    """ "CREATE TASK", USER_TASK_TIMEOUT_MS: a run that cannot end is stopped instead of billing
    serverless compute (the default is one hour); PROCESS_RAW's is set at most 4 x its
    TARGET_COMPLETION_INTERVAL."""
    for task in _creates("TASK"):
        timeout = re.search(r"USER_TASK_TIMEOUT_MS\s*=\s*(\d+)", task)
        assert timeout, task[:80]
        target = re.search(r"TARGET_COMPLETION_INTERVAL\s*=\s*'(\d+) MINUTES'", task)
        if target:
            assert int(timeout[1]) <= 4 * int(target[1]) * 60_000


def _mixed_bitwise(sql: str) -> list[str]:
    """BITAND and BITOR nested in one another, as sqlglot parses Snowflake's SQL."""
    found = []
    for node in sqlglot.parse_one(sql, read="snowflake").find_all(exp.BitwiseAnd, exp.BitwiseOr):
        other = exp.BitwiseOr if isinstance(node, exp.BitwiseAnd) else exp.BitwiseAnd
        for operand in (node.this, node.expression):
            while isinstance(operand, exp.Paren):
                operand = operand.this
            if isinstance(operand, other):
                found.append(node.sql(dialect="snowflake")[:120])
    return found


def test_bitand_and_bitor_are_never_nested_in_one_another() -> None:
    """The local stand-in (sqlglot) writes BITOR(BITAND(a, b), c) as `a & b | c` for DuckDB,
    where & and | bind equally, left to right: BITOR(a, BITAND(b, c)) would run as
    (a | b) & c locally, not as on Snowflake. modules/qc.sql combines its bit masks one
    function per CTE column instead."""
    for statement in _statements():
        try:
            mixed = _mixed_bitwise(_code(statement.sql))
        except sqlglot.errors.ParseError:
            continue  # scripting blocks: test_sql_dialect parses them with sqlfluff
        assert not mixed, (statement.script, statement.first_line, mixed)


def test_the_bitwise_check_would_catch_a_nested_pair() -> None:
    assert _mixed_bitwise("SELECT BITOR(a, BITAND(b, c)) FROM t")
    assert not _mixed_bitwise("SELECT BITOR(a, BITOR(b, c)), BITAND(d, BITAND(e, f)) FROM t")
