"""Snowflake's errors for the constraint violations DuckDB reports in its own words.

fakesnow turns most DuckDB errors into the connector's ProgrammingError, but not DuckDB's
ConstraintException (NOT NULL, and the length CHECKs that
inmet_local.emulator.warehouse.enforce_lengths
adds for VARCHAR(n)): its server then answers "HTTP 500: Internal Server Error" and the caller
never learns which row broke which rule. Installed by inmet_local.emulator.fakesnow_server, this
gives each the code and the wording Snowflake uses ("Error messages", 100072 "NULL result in a
non-nullable column", 100078 "String '…' is too long and would be truncated"), followed by
DuckDB's own detail (which table and column).
"""

from __future__ import annotations

import functools
import re
from typing import Any

_LENGTH_CHECK = re.compile(
    r"CHECK constraint failed on table \"?(?P<table>\w+)\"?.*?length\((?:CAST\()?(?P<column>\w+)",
    re.I | re.S,
)
_NOT_NULL = re.compile(r"NOT NULL constraint failed: (?P<where>[\w.]+)")


def snowflake_error(exc: BaseException) -> Any:
    """The connector error Snowflake would raise for DuckDB's constraint error ``exc``."""
    import snowflake.connector.errors

    detail = str(exc).split("\n")[0]
    if match := _NOT_NULL.search(detail):
        return snowflake.connector.errors.ProgrammingError(
            msg=f"NULL result in a non-nullable column ({match['where']})",
            errno=100072,
            sqlstate="22000",
        )
    if match := _LENGTH_CHECK.search(str(exc)):
        return snowflake.connector.errors.ProgrammingError(
            msg="String is too long and would be truncated "
            f"({match['table']}.{match['column'].upper()})",
            errno=100078,
            sqlstate="22000",
        )
    return snowflake.connector.errors.ProgrammingError(msg=detail, errno=100069, sqlstate="22000")


def install() -> None:
    """Wrap fakesnow's cursor so that a ConstraintException (or a PermissionException: a file
    the warehouse may not open) reaches the client as a Snowflake error (idempotent)."""
    import duckdb
    from fakesnow.cursor import FakeSnowflakeCursor

    original = FakeSnowflakeCursor._execute
    if getattr(original, "_inmet_constraint_errors", False):
        return

    @functools.wraps(original)
    def _execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        except (duckdb.ConstraintException, duckdb.PermissionException) as exc:
            # A file outside the warehouse's folders (fakesnow_server.lock_down): refused
            # with DuckDB's own words, not an HTTP 500.
            raise snowflake_error(exc) from exc

    _execute._inmet_constraint_errors = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor._execute = _execute  # type: ignore[method-assign]
