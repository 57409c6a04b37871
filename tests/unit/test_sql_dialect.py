"""sqlfluff's Snowflake dialect parses every statement Snowflake receives from snowflake_sql/
(rendered as schemachange renders them) and the Snowflake Scripting body of each task, with no
unparsable section, and the rules chosen in .sqlfluff hold.

sqlglot (inmet snowflake check) falls back to an opaque command for what it does not know and
accepts reserved words as column names; sqlfluff's grammar is stricter: it refused V1.3.0's
``rows`` column, which Snowflake would have refused too.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from sqlfluff.core import FluffConfig, Linter

from inmet_local.snowflake.sqlproject import (
    BOOTSTRAP,
    REPO_ROOT,
    Statement,
    render,
    rendered_statements,
    split_statements,
    variables,
)

pytestmark = [pytest.mark.unit]

_SCRIPTING_BODY = re.compile(r"EXECUTE\s+IMMEDIATE\s+\$\$(?P<body>.*)\$\$", re.S | re.I)


@cache
def _linter() -> Linter:
    return Linter(config=FluffConfig.from_path(str(REPO_ROOT)))


def _statements() -> list[Statement]:
    values = variables()
    bootstrap = [
        Statement(BOOTSTRAP, i, s)
        for i, s in enumerate(split_statements(render(BOOTSTRAP, values)), start=1)
    ]
    found = [*bootstrap, *rendered_statements(values)]
    for statement in list(found):
        if match := _SCRIPTING_BODY.search(statement.sql):
            found.append(
                Statement(f"{statement.script} (scripting body)", statement.index, match["body"])
            )
    return found


def _problems(sql: str) -> list[str]:
    result = _linter().lint_string(sql.strip() + ";\n")
    return [f"line {v.line_no}: {v.rule_code()} {v.desc()}" for v in result.violations]


def test_the_config_is_the_snowflake_dialect() -> None:
    config = FluffConfig.from_path(str(REPO_ROOT))
    assert config.get("dialect") == "snowflake"
    assert "RF04" in str(config.get("rules"))


def test_every_statement_and_task_body_parses_and_follows_the_rules() -> None:
    statements = _statements()
    # both tasks and the bootstrap's region check
    assert sum("scripting body" in s.script for s in statements) == 3
    failures = {
        f"{s.script} statement {s.index} ({s.first_line[:50]})": problems
        for s in statements
        if (problems := _problems(s.sql))
    }
    assert not failures, failures


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        # The defect found in V1.3.0: a reserved word as a column name.
        ("CREATE TABLE IF NOT EXISTS d.s.t (rows NUMBER(10, 0) NOT NULL)", "PRS"),
        ("SELECT a AS value FROM t", "RF04"),
        ("select a from t", "CP01"),
        ("SELECT a FROM t UNION SELECT a FROM u", "AM02"),
    ],
)
def test_the_check_refuses_what_it_must(sql: str, rule: str) -> None:
    assert any(rule in p for p in _problems(sql)), _problems(sql)
