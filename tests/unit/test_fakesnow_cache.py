"""The local warehouse's translation cache (inmet_local/emulator/fakesnow_cache.py), on an
in-process fakesnow: a long statement is translated once and run every time, in the state it
was translated for; what may not be kept is translated every time; nothing it runs differs
from fakesnow's own way (the task's tables are compared both ways in
tests/integration/test_translation_cache.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import snowflake.connector.errors

from inmet_local.emulator import fakesnow_cache

pytestmark = [pytest.mark.unit]

# Long enough to be kept: a comment is part of the text, as the task's numbered comments are.
PAD = "/* " + "x" * fakesnow_cache.MIN_CHARS + " */ "


@pytest.fixture
def cached() -> Iterator[dict[str, Any]]:
    """fakesnow with the cache installed; ``translations`` counts fakesnow's translations."""
    from fakesnow.cursor import FakeSnowflakeCursor
    from fakesnow.instance import FakeSnow

    counts = {"translations": 0}
    original = FakeSnowflakeCursor._transform

    def counting(self: Any, expression: Any, params: Any) -> Any:
        counts["translations"] += 1
        return original(self, expression, params)

    fakesnow_cache.install()
    FakeSnowflakeCursor._transform = counting  # type: ignore[method-assign]
    try:
        conn = FakeSnow().connect("DB", "S")
        yield {"conn": conn, "counts": counts}
    finally:
        FakeSnowflakeCursor._transform = original  # type: ignore[method-assign]
        fakesnow_cache.uninstall()


def run(conn: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql, params)
    return list(cur.fetchall())


def translations_of(fs: dict[str, Any], sql: str, params: Any = None) -> int:
    before = fs["counts"]["translations"]
    run(fs["conn"], sql, params)
    return int(fs["counts"]["translations"] - before)


def test_a_long_statement_is_translated_once_and_runs_every_time(cached: dict[str, Any]) -> None:
    conn = cached["conn"]
    run(conn, "CREATE TABLE T (v INTEGER, s VARCHAR)")
    insert = PAD + "INSERT INTO T SELECT COUNT(*) + 1, 'a' FROM T"
    assert translations_of(cached, insert) == 1
    assert translations_of(cached, insert) == 0
    assert translations_of(cached, insert) == 0
    # Run each time, each time on the table as it then is.
    assert run(conn, "SELECT v FROM T ORDER BY v") == [(1,), (2,), (3,)]
    assert fakesnow_cache.size() == 1
    # A short statement is not worth keeping.
    assert translations_of(cached, "SELECT COUNT(*) FROM T") == 1
    assert translations_of(cached, "SELECT COUNT(*) FROM T") == 1


def test_a_kept_query_still_returns_its_rows(cached: dict[str, Any]) -> None:
    conn = cached["conn"]
    run(conn, "CREATE TABLE T (v INTEGER)")
    run(conn, "INSERT INTO T VALUES (1), (2)")
    query = PAD + "SELECT SUM(v), IFF(COUNT(*) > 1, 'many', 'one') FROM T"
    assert run(conn, query) == [(3, "many")]
    run(conn, "INSERT INTO T VALUES (4)")
    assert run(conn, query) == [(7, "many")]
    assert fakesnow_cache.size() == 1


def test_the_same_text_in_another_database_is_translated_for_that_database(
    cached: dict[str, Any],
) -> None:
    """fakesnow qualifies an unqualified name with the session's database and schema: they
    are part of what a translation is kept for."""
    conn = cached["conn"]
    for database in ("DB", "OTHER"):
        run(conn, f"CREATE DATABASE IF NOT EXISTS {database}")
        run(conn, f"CREATE SCHEMA IF NOT EXISTS {database}.S")
        run(conn, f"CREATE TABLE {database}.S.T (v VARCHAR)")
    insert = PAD + "INSERT INTO T SELECT CURRENT_DATABASE()"
    run(conn, "USE DATABASE DB")
    run(conn, "USE SCHEMA S")
    assert translations_of(cached, insert) == 1
    run(conn, "USE DATABASE OTHER")
    run(conn, "USE SCHEMA S")
    assert translations_of(cached, insert) == 1
    run(conn, "USE DATABASE DB")
    run(conn, "USE SCHEMA S")
    assert translations_of(cached, insert) == 0
    assert run(conn, "SELECT v FROM DB.S.T") == [("DB",), ("DB",)]
    assert run(conn, "SELECT v FROM OTHER.S.T") == [("OTHER",)]


def test_a_session_variable_is_read_each_time(cached: dict[str, Any]) -> None:
    conn = cached["conn"]
    run(conn, "CREATE TABLE T (v INTEGER)")
    insert = PAD + "INSERT INTO T SELECT $n"
    for n in (1, 2, 1):
        run(conn, f"SET n = {n}")
        run(conn, insert)
    assert run(conn, "SELECT v FROM T ORDER BY v") == [(1,), (1,), (2,)]


def test_statements_with_parameters_of_other_kinds_or_failing_are_not_kept(
    cached: dict[str, Any],
) -> None:
    conn = cached["conn"]
    create = PAD + "CREATE TABLE T AS SELECT 1 AS v"
    assert translations_of(cached, create) == 1
    run(conn, "DROP TABLE T")
    assert translations_of(cached, create) == 1
    with_parameters = PAD + "INSERT INTO T SELECT %s"
    assert translations_of(cached, with_parameters, [5]) == 1
    assert translations_of(cached, with_parameters, [6]) == 1
    failing = PAD + "INSERT INTO MISSING SELECT 1"
    for _ in range(2):
        with pytest.raises(snowflake.connector.errors.ProgrammingError):
            run(conn, failing)
    assert fakesnow_cache.size() == 0
    # Once it can run, it is kept.
    run(conn, "CREATE TABLE MISSING (v INTEGER)")
    assert translations_of(cached, failing) == 1
    assert translations_of(cached, failing) == 0
    assert run(conn, "SELECT v FROM T ORDER BY v") == [(1,), (5,), (6,)]


def test_a_kept_statement_that_fails_later_reports_the_error(cached: dict[str, Any]) -> None:
    conn = cached["conn"]
    run(conn, "CREATE TABLE T (v INTEGER)")
    run(conn, "CREATE TABLE SRC (s VARCHAR)")
    run(conn, "INSERT INTO SRC VALUES ('1')")
    insert = PAD + "INSERT INTO T SELECT CAST(s AS INTEGER) FROM SRC"
    run(conn, insert)
    run(conn, "INSERT INTO SRC VALUES ('one')")
    cur = conn.cursor()
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="one"):
        cur.execute(insert)
    assert cur.sqlstate is not None
    assert run(conn, "SELECT v FROM T") == [(1,)]


def test_a_merge_is_kept_whole_and_counts_its_rows(cached: dict[str, Any]) -> None:
    """fakesnow runs a MERGE as four statements; all four are kept, in order, and the counts
    it answers are the MERGE's own."""
    conn = cached["conn"]
    run(conn, "CREATE TABLE T (k INTEGER, v INTEGER)")
    run(conn, "CREATE TABLE SRC (k INTEGER, v INTEGER)")
    merge = (
        PAD + "MERGE INTO T USING SRC ON T.k = SRC.k "
        "WHEN MATCHED THEN UPDATE SET v = SRC.v "
        "WHEN NOT MATCHED THEN INSERT (k, v) VALUES (SRC.k, SRC.v)"
    )
    run(conn, "INSERT INTO SRC VALUES (1, 10), (2, 20)")
    assert translations_of(cached, merge) == 4
    run(conn, "DELETE FROM SRC")
    run(conn, "INSERT INTO SRC VALUES (2, 21), (3, 30)")
    before = cached["counts"]["translations"]
    assert run(conn, merge) == [(1, 1)]  # one inserted, one updated
    assert cached["counts"]["translations"] == before
    assert run(conn, "SELECT k, v FROM T ORDER BY k") == [(1, 10), (2, 21), (3, 30)]


def test_the_oldest_translations_go_first(
    cached: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fakesnow_cache, "MAX_ENTRIES", 2)
    conn = cached["conn"]
    run(conn, "CREATE TABLE T (v INTEGER)")
    statements = [PAD + f"INSERT INTO T SELECT {n}" for n in range(3)]
    for sql in statements:
        run(conn, sql)
    assert fakesnow_cache.size() == 2
    assert translations_of(cached, statements[0]) == 1  # it went first
    assert translations_of(cached, statements[2]) == 0


def test_install_is_idempotent_and_uninstall_restores_fakesnow() -> None:
    from fakesnow.cursor import FakeSnowflakeCursor

    original = FakeSnowflakeCursor.execute
    fakesnow_cache.install()
    installed = FakeSnowflakeCursor.execute
    fakesnow_cache.install()
    assert FakeSnowflakeCursor.execute is installed
    fakesnow_cache.uninstall()
    assert FakeSnowflakeCursor.execute is original
