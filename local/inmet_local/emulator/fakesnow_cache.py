"""The local warehouse translates each long statement from Snowflake's SQL to DuckDB's once.

fakesnow turns every statement it receives into DuckDB's SQL by parsing it (sqlglot) and
walking the tree some 75 times, one rewrite per walk. For the task's long statements that is
most of their cost on a small batch: the daily values' INSERT (11 kB of SQL) spends about
0.5 s in the translation and as long again in DuckDB, the quality-control INSERT about 0.3 s,
the whole task about 1.7 s a run, every run, for the same text.

Installed by ``inmet_local.emulator.fakesnow_server``, this keeps the translation of a long
statement and runs it again when the same text comes back in the same state. What may be
kept, and why it is the same translation:

- only a statement without bind parameters (fakesnow rewrites ``IDENTIFIER(?)`` from them)
  whose text is at least ``MIN_CHARS`` long (a short one costs little to translate);
- only a query or a DML statement (SELECT, INSERT, UPDATE, DELETE, MERGE): of fakesnow's
  rewrites, those that read anything but the statement itself read the session's database and
  schema (part of the key) or act on statements of other kinds (SET, CREATE TABLE (columns)
  AS SELECT *, SHOW, PUT, LIST, CREATE STAGE), which are never kept. fakesnow runs a MERGE as
  four statements, the first a CREATE TEMPORARY TABLE ... AS SELECT without a column list
  (its translation reads nothing but the MERGE); all four are kept;
- session variables are replaced in the text before the key is taken (``$name``);
- the kept trees are only read afterwards: fakesnow's ``_execute`` renders each to DuckDB's
  SQL and inspects it, and changes nothing in it; so each renders its DuckDB text once too.

A statement that fails is not kept. The cache holds ``MAX_ENTRIES`` statements, the least
recently used going first. Nothing changes in what runs: tests/unit/test_fakesnow_cache.py
holds each rule above, and tests/integration/test_translation_cache.py loads the same batches
into a server that keeps translations and one that does not and compares every table the task
writes. benchmarks/bench_translation_cache.py prints the task's time both ways.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Any

MIN_CHARS = 1000
MAX_ENTRIES = 256

_lock = threading.Lock()
_kept: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()


def _key(cursor: Any, command: str) -> tuple[Any, ...]:
    conn = cursor._conn
    return (command, conn.database, conn.schema, conn.database_set, conn.schema_set)


def _keepable(parsed: list[Any], ran: list[Any]) -> bool:
    """A query or a DML statement, whole; or a MERGE, which fakesnow runs as several (a
    temporary table of the source rows, then UPDATE, INSERT and a SELECT of the counts)."""
    from sqlglot import exp

    if len(parsed) != 1 or not ran:
        return False
    if isinstance(parsed[0], exp.Merge):
        return True
    kinds = (exp.Select, exp.Union, exp.Insert, exp.Update, exp.Delete)
    return len(ran) == 1 and isinstance(ran[0], kinds) and not ran[0].args.get("create_stage_name")


def clear() -> None:
    with _lock:
        _kept.clear()


def size() -> int:
    with _lock:
        return len(_kept)


def install() -> None:
    """Wrap fakesnow's cursor ``execute`` and its server's first parse (idempotent)."""
    import importlib

    from fakesnow.cursor import FakeSnowflakeCursor

    server_module: Any = importlib.import_module("fakesnow.server")
    parse = server_module.parse_one
    if not getattr(parse, "_inmet_translation_cache", False):
        server_module.parse_one = _parse_kept(parse)

    original = FakeSnowflakeCursor.execute
    if getattr(original, "_inmet_translation_cache", False):
        return

    @functools.wraps(original)
    def execute(self: Any, command: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if (
            params is not None
            or kwargs.get("binding_params")
            or args
            or not isinstance(command, str)
            or len(command) < MIN_CHARS
            or self._conn.nop_regexes
        ):
            return original(self, command, params, *args, **kwargs)
        key = _key(self, self._inline_variables(command))
        with _lock:
            kept = _kept.get(key)
            if kept is not None:
                _kept.move_to_end(key)
        if kept is None:
            return _translate_and_keep(self, original, key, command, kwargs)
        import snowflake.connector.errors

        try:
            self._sqlstate = None
            for transformed in kept:
                self._execute(transformed, None)
        except snowflake.connector.errors.ProgrammingError as e:
            self._sqlstate = e.sqlstate
            raise
        return self

    execute._inmet_translation_cache = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]


def uninstall() -> None:
    """Undo ``install`` (the tests compare both ways in one process) and forget what was kept."""
    import importlib

    from fakesnow.cursor import FakeSnowflakeCursor

    server_module: Any = importlib.import_module("fakesnow.server")
    if getattr(FakeSnowflakeCursor.execute, "_inmet_translation_cache", False):
        FakeSnowflakeCursor.execute = FakeSnowflakeCursor.execute.__wrapped__  # type: ignore[attr-defined,method-assign]
    if getattr(server_module.parse_one, "_inmet_translation_cache", False):
        server_module.parse_one = server_module.parse_one.__wrapped__
    clear()


def _parse_kept(parse: Any) -> Any:
    """fakesnow's server parses each statement's text once more, only to read its kind (the
    statement type it reports) and count its placeholders: the parse of a long text is kept."""

    @functools.lru_cache(maxsize=MAX_ENTRIES)
    def kept(sql: str) -> Any:
        return parse(sql)

    @functools.wraps(parse)
    def parse_one(sql: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(sql, str) or len(sql) < MIN_CHARS:
            return parse(sql, *args, **kwargs)
        return kept(sql)

    parse_one._inmet_translation_cache = True  # type: ignore[attr-defined]
    return parse_one


def _render_once(transformed: Any) -> None:
    """Have a kept tree give its DuckDB text, rendered the first time, every time after
    (fakesnow's ``_execute`` asks each statement for ``sql(dialect="duckdb")``)."""
    render = type(transformed).sql
    rendered: list[str] = []

    def sql(dialect: Any = None, **opts: Any) -> str:
        if dialect != "duckdb" or opts:
            return str(render(transformed, dialect=dialect, **opts))
        if not rendered:
            rendered.append(str(render(transformed, dialect="duckdb")))
        return rendered[0]

    transformed.sql = sql


def _translate_and_keep(
    cursor: Any, original: Any, key: tuple[Any, ...], command: str, kwargs: dict[str, Any]
) -> Any:
    """Run ``command`` the usual way, noting the DuckDB statements it ran; keep them if it
    succeeded and may be kept."""
    parsed: list[Any] = []
    ran: list[Any] = []
    explode, run_one = cursor._transform_explode, cursor._execute

    def note_parsed(expression: Any) -> Any:
        parsed.append(expression)
        return explode(expression)

    def note_ran(transformed: Any, params: Any = None) -> None:
        ran.append(transformed)
        run_one(transformed, params)

    # This cursor only, for this call.
    cursor._transform_explode, cursor._execute = note_parsed, note_ran
    try:
        result = original(cursor, command, None, **kwargs)
    finally:
        del cursor._transform_explode, cursor._execute
    if _keepable(parsed, ran):
        for transformed in ran:
            _render_once(transformed)
        with _lock:
            _kept[key] = ran
            while len(_kept) > MAX_ENTRIES:
                _kept.popitem(last=False)
    return result
