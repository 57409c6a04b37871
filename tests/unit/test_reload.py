"""`inmet snowflake reload`: the one-off COPY … FORCE = TRUE that loads raw/ files again, with
the pipe's own SELECT (ALTER PIPE … REFRESH never reloads a loaded file:
docs/snowflake-operations.md)."""

from __future__ import annotations

import pytest
import sqlglot
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.snowflake.reload import pipe_copy, reload_statement
from inmet_local.snowflake.sqlproject import SqlProjectError, variables

pytestmark = [pytest.mark.unit]

KEY = "raw/inmet/station=A001/year=2024/" + "a" * 64 + ".csv"


def test_the_reload_is_the_pipes_copy_with_the_files_and_force() -> None:
    values = variables()
    sql = reload_statement([KEY], values)
    pipe = pipe_copy(values)
    select = pipe[pipe.index("FROM (") : pipe.index("FILE_FORMAT")].strip()
    assert select in sql  # the pipe's own SELECT: the same columns, metadata and stage
    assert "FILES = ('inmet/station=A001/year=2024/" in sql  # relative to the stage's URL
    assert sql.rstrip().endswith("FORCE = TRUE;")
    assert sql.index("FILES =") < sql.index("FILE_FORMAT =")  # "COPY INTO <table>" syntax
    assert sqlglot.parse_one(sql, read="snowflake") is not None


@pytest.mark.parametrize("keys", [[], ["inmet/x.csv"], ["raw/it's.csv"], [KEY] * 1001])
def test_the_reload_refuses_what_copy_cannot_take(keys: list[str]) -> None:
    with pytest.raises(SqlProjectError):
        reload_statement(keys, variables())


def test_the_reload_command_prints_it() -> None:
    result = CliRunner().invoke(app, ["snowflake", "reload", KEY])
    assert result.exit_code == 0, result.output
    assert "FORCE = TRUE" in result.output
    refused = CliRunner().invoke(app, ["snowflake", "reload", "inmet/x.csv"])
    assert refused.exit_code == 2
