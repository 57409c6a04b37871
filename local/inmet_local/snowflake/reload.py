"""The one-off reload of raw/ objects the pipe has already loaded (docs/snowflake-operations.md).

``ALTER PIPE … REFRESH`` never loads a file again: it queues only files staged in the last 7
days that the pipe has not loaded ("ALTER PIPE", REFRESH,
docs.snowflake.com/en/sql-reference/sql/alter-pipe; "Managing Snowpipe",
docs.snowflake.com/en/user-guide/data-load-snowpipe-manage). A file is reloaded with a COPY INTO
that names it and sets ``FORCE = TRUE`` ("COPY INTO <table>", FILES and FORCE: "Boolean that
specifies to load all files, regardless of whether they've been loaded previously",
docs.snowflake.com/en/sql-reference/sql/copy-into-table). The statement is the pipe's own COPY
(V1.4.0__pipe_and_stream.sql, rendered), so the reloaded lines are exactly what the pipe
writes; RAW then holds the file's lines twice, and the task keeps one copy of each
(file_name, file_row_number) (R__views.sql, OPEN_BATCH_LINES).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from inmet_local.snowflake.sqlproject import SqlProjectError, rendered_statements

PIPE_SCRIPT = "V1.4.0__pipe_and_stream.sql"
# "COPY INTO <table>": FILES lists at most 1,000 files.
MAX_FILES = 1000


def pipe_copy(values: Mapping[str, str] | None = None) -> str:
    """The COPY INTO statement of the pipe, as deployed."""
    for statement in rendered_statements(values):
        if statement.script == PIPE_SCRIPT and re.search(r"\bCREATE\s+PIPE\b", statement.sql):
            return statement.sql[re.search(r"\bAS\s*\n", statement.sql).end() :].strip()  # type: ignore[union-attr]
    raise SqlProjectError(f"{PIPE_SCRIPT} creates no pipe")


def reload_statement(raw_keys: Sequence[str], values: Mapping[str, str]) -> str:
    """COPY INTO RAW.INMET_RAW of these raw/ keys again (FORCE = TRUE), with the pipe's SELECT."""
    if not raw_keys:
        raise SqlProjectError("name at least one raw/ key to reload")
    if len(raw_keys) > MAX_FILES:
        raise SqlProjectError(f"at most {MAX_FILES} files in one COPY (FILES); split the list")
    prefix = values["raw_prefix"]
    names = []
    for key in raw_keys:
        if not key.startswith(prefix) or "'" in key:
            raise SqlProjectError(f"not a raw/ key: {key!r} (expected {prefix}inmet/…)")
        names.append("'" + key[len(prefix) :] + "'")  # relative to the stage's URL
    copy = pipe_copy(values)
    files = "FILES = (" + ", ".join(names) + ")"
    copy = re.sub(r"\n\s*FILE_FORMAT\s*=", f"\n{files}\nFILE_FORMAT =", copy, count=1)
    return copy.rstrip(";") + "\nFORCE = TRUE;\n"
