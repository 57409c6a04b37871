"""The Snowflake Scripting rules no local stand-in enforces (fakesnow never runs a scripting
body; sqlfluff parses only the statements in it), checked on every rendered EXECUTE IMMEDIATE
body of snowflake_sql/ by inmet_local.snowflake.scripting, whose docstring cites the page of
each rule. The check refuses the task body this project shipped before (kept in
tests/data/scripting_previous/), and each rule refuses a body that breaks it."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from inmet_local.snowflake.scripting import check_body, parse_body, scripting_bodies
from inmet_local.snowflake.sqlproject import (
    BOOTSTRAP,
    MODULES_PREFIX,
    SQL_ROOT,
    modules_folder,
    render,
    rendered_statements,
    variables,
)

pytestmark = [pytest.mark.unit]

PREVIOUS = Path(__file__).resolve().parents[1] / "data" / "scripting_previous"


def _bodies() -> list[tuple[str, str]]:
    values = variables()
    found = [(BOOTSTRAP, b) for b in scripting_bodies(render(BOOTSTRAP, values))]
    for statement in rendered_statements(values):
        found += [(f"{statement.script} #{statement.index}", b) for b in
                  scripting_bodies(statement.sql)]  # fmt: skip
    return found


def test_every_scripting_body_follows_the_documented_rules() -> None:
    bodies = _bodies()
    assert len(bodies) >= 3  # both tasks and the bootstrap's region check
    problems = {where: [str(v) for v in check_body(body)] for where, body in bodies}
    assert {w: p for w, p in problems.items() if p} == {}


def test_the_check_refuses_the_previous_task_body() -> None:
    """The body before this check: LET variables read in exception handlers (batch_error,
    suspect, file_error, failed_send), SQLERRM read after ROLLBACK, a transaction with no
    ROLLBACK on its error path."""
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(str(PREVIOUS)),
                jinja2.FileSystemLoader(str(SQL_ROOT)),
                jinja2.PrefixLoader(
                    {MODULES_PREFIX: jinja2.FileSystemLoader(str(modules_folder()))}
                ),
            ]
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - SQL, not HTML
    )
    old = environment.get_template("R__task.sql").render(**variables())
    rules = {v.rule for body in scripting_bodies(old) for v in check_body(body)}
    details = " ".join(str(v) for body in scripting_bodies(old) for v in check_body(body))
    assert rules >= {"handler-variable", "handler-let", "handler-sqlerrm-first", "transaction-end"}
    for name in ("BATCH_ERROR", "SUSPECT", "FILE_ERROR", "FAILED_SEND"):
        assert name in details


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (
            "BEGIN LET x VARCHAR := 'a'; SELECT 1; EXCEPTION WHEN OTHER THEN RETURN x; END;",
            "handler-variable",
        ),
        (
            "BEGIN FOR rec IN c DO SELECT 1; END FOR; EXCEPTION WHEN OTHER THEN RETURN rec.a; END;",
            "handler-variable",
        ),
        ("BEGIN SELECT 1; EXCEPTION WHEN OTHER THEN LET e := SQLERRM; END;", "handler-let"),
        (
            "DECLARE e VARCHAR; BEGIN SELECT 1; EXCEPTION WHEN OTHER THEN ROLLBACK; "
            "e := SQLERRM; END;",
            "handler-sqlerrm-first",
        ),
        ("BEGIN BEGIN TRANSACTION; INSERT INTO t VALUES (1); END;", "transaction-end"),
        (
            "BEGIN BEGIN TRANSACTION; INSERT INTO t VALUES (1); COMMIT; "
            "EXCEPTION WHEN OTHER THEN RAISE; END;",
            "transaction-end",
        ),
        (
            "BEGIN BEGIN TRANSACTION; CREATE TABLE t (a INT); COMMIT; "
            "EXCEPTION WHEN OTHER THEN ROLLBACK; RAISE; END;",
            "transaction-ddl",
        ),
        ("BEGIN SELECT 1; EXCEPTION WHEN oops THEN RAISE; END;", "exception-declared"),
    ],
)
def test_each_rule_refuses_a_body_that_breaks_it(body: str, rule: str) -> None:
    assert rule in {v.rule for v in check_body(body)}


@pytest.mark.parametrize(
    "body",
    [
        # The documentation's own patterns ("Handling exceptions").
        "DECLARE e VARCHAR; BEGIN SELECT 1; EXCEPTION WHEN OTHER THEN e := SQLERRM; "
        "ROLLBACK; RAISE; END;",
        "DECLARE oops EXCEPTION (-20002, 'x'); BEGIN RAISE oops; "
        "EXCEPTION WHEN oops THEN RETURN SQLCODE; END;",
        "BEGIN BEGIN TRANSACTION; UPDATE t SET a = 1 WHERE b = 'END;'; COMMIT; "
        "EXCEPTION WHEN OTHER THEN ROLLBACK; RAISE; END;",
        # A variable of an enclosing block's DECLARE section, read in a nested handler.
        "DECLARE e VARCHAR DEFAULT ''; BEGIN FOR r IN c DO BEGIN CALL p(); "
        "EXCEPTION WHEN OTHER THEN e := SQLERRM; END; END FOR; END;",
    ],
)
def test_bodies_that_follow_the_rules_pass(body: str) -> None:
    assert check_body(body) == []


def test_the_parser_sees_nested_blocks_and_handlers() -> None:
    root = parse_body(
        "DECLARE a VARCHAR; BEGIN IF (a = '') THEN BEGIN SELECT CASE WHEN 1 = 1 THEN 2 END; "
        "EXCEPTION WHEN OTHER THEN a := SQLERRM; END; END IF; END;"
    )
    assert root.declared == {"A"}
    [control] = root.statements
    assert not isinstance(control, str)
    [nested] = control.statements
    assert not isinstance(nested, str)
    assert nested.statements == ["SELECT CASE WHEN 1 = 1 THEN 2 END"]


# -- the bootstrap's region check ----------------------------------------------------------------
def _region_conditions(topic_arn: str) -> list[str]:
    bootstrap = render(BOOTSTRAP, variables({"notification_topic_arn": topic_arn}))
    [body] = scripting_bodies(bootstrap)
    return re.findall(r"IF \((.*?)\) THEN\s+RAISE", body)


@pytest.mark.parametrize(
    ("region", "refused"),
    [
        ("AWS_SA_EAST_1", None),
        ("PUBLIC.AWS_SA_EAST_1", None),  # an organization with several region groups
        ("AZURE_WESTEUROPE", "not_on_aws"),
        ("GCP_US_CENTRAL1", "not_on_aws"),
        ("AWS_US_EAST_1", "wrong_region"),
    ],
)
def test_the_bootstrap_refuses_an_account_off_aws_or_in_another_region(
    region: str, refused: str | None
) -> None:
    """CURRENT_REGION() as documented
    (docs.snowflake.com/en/sql-reference/functions/current_region), put in the bootstrap's two
    conditions; the stack (its load topic) is in sa-east-1."""
    import fakesnow
    import snowflake.connector

    conditions = _region_conditions("arn:aws:sns:sa-east-1:123456789012:inmet-load")
    assert len(conditions) == 2
    with fakesnow.patch(), snowflake.connector.connect(database="D", schema="S") as connection:
        cursor = connection.cursor()
        hits = []
        for name, condition in zip(("not_on_aws", "wrong_region"), conditions, strict=True):
            cursor.execute("SELECT " + condition.replace("CURRENT_REGION()", f"'{region}'"))
            if cursor.fetchone()[0]:  # type: ignore[index]
                hits.append(name)
    assert (hits[0] if hits else None) == refused


def test_the_region_check_comes_before_anything_is_created() -> None:
    bootstrap = render(BOOTSTRAP, variables())
    code = re.sub(r"--[^\n]*", "", bootstrap)
    assert code.index("CURRENT_REGION()") < code.index("CREATE ")
