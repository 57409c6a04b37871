"""snowflake_sql/: every statement renders and parses in Snowflake's dialect; the SQL states the
same physical ranges as the Python column spec; deploy --dry-run prints everything in order."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.snowflake.sqlproject import (
    BOOTSTRAP,
    SQL_ROOT,
    TASK_BODY,
    Statement,
    parse_snowflake,
    render,
    rendered_statements,
    scripts,
    snowflake_only_reason,
    split_statements,
    variables,
)
from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURES

pytestmark = [pytest.mark.unit]


def test_scripts_follow_schemachange_order() -> None:
    names = [s.name for s in scripts()]
    versioned = [n for n in names if n.startswith("V")]
    assert versioned == sorted(
        versioned, key=lambda n: [int(x) for x in n[1:].split("__")[0].split(".")]
    )
    assert names.index("R__z_tasks.sql") > names.index(versioned[-1])
    assert all(re.fullmatch(r"(V\d+(\.\d+)*|R)__[a-z_]+\.sql", n) for n in names)


def test_the_views_are_replaced_before_the_tasks_that_read_them() -> None:
    """schemachange applies repeatable scripts in name order: every R script that creates a
    task comes after every R script that creates a view (a task resumed before the views it
    reads are replaced would run the new body on the old views)."""
    repeatable = [s for s in scripts() if s.kind == "repeatable"]
    text = {s.name: s.path.read_text(encoding="utf-8") for s in repeatable}
    with_views = [n for n, t in text.items() if re.search(r"CREATE OR REPLACE VIEW", t)]
    with_tasks = [n for n, t in text.items() if re.search(r"CREATE OR REPLACE TASK", t)]
    order = [s.name for s in repeatable]
    assert with_views
    assert with_tasks
    assert max(order.index(n) for n in with_views) < min(order.index(n) for n in with_tasks)


def test_every_statement_renders_and_parses_in_the_snowflake_dialect() -> None:
    statements = list(rendered_statements())
    bootstrap = [
        Statement(BOOTSTRAP, i, s)
        for i, s in enumerate(split_statements(render(BOOTSTRAP, variables())), start=1)
    ]
    task = [
        Statement(TASK_BODY, i, s)
        for i, s in enumerate(split_statements(render(TASK_BODY, variables())), start=1)
    ]
    assert len(statements) >= 30
    for statement in [*bootstrap, *statements, *task]:
        parse_snowflake(statement)  # raises with the file and statement on error
        assert "{{" not in statement.sql
        assert "{%" not in statement.sql


def test_every_name_is_a_variable() -> None:
    """No database or schema name is hard-coded: rendering with other names changes them all."""
    values = variables({"database": "OTHERDB", "raw_schema": "LANDING", "clean_schema": "GOLD"})
    text = "\n".join(s.sql for s in rendered_statements(values))
    assert "INMET." not in text
    assert "OTHERDB.LANDING.INMET_RAW" in text
    assert "OTHERDB.GOLD.OBSERVATIONS" in text


def test_tables_pipes_and_streams_are_never_replaced() -> None:
    for statement in rendered_statements():
        head = statement.first_line.upper()
        if head.startswith("CREATE OR REPLACE"):
            # The one table re-created: the task's scratch table, emptied by every run (V1.9.0
            # widens it, V1.11.0 narrows it; nothing in it outlives a task run).
            scratch = re.match(r"CREATE OR REPLACE TRANSIENT TABLE \S+\.CLEAN\.BATCH_WORK\b", head)
            assert scratch or re.match(r"CREATE OR REPLACE (VIEW|TASK|FILE FORMAT)\b", head), head


def test_the_sql_states_the_contract_ranges() -> None:
    view = render("R__views.sql", variables())
    for measure in MEASURES:
        pattern = (
            rf"IFF\({measure.name}_raw BETWEEN {measure.low:g} AND {measure.high:g}, "
            rf"{measure.name}_raw, NULL\)"
        )
        assert re.search(pattern, view), measure.name


def test_the_export_view_has_the_contract_columns_in_order() -> None:
    view = render("R__views.sql", variables())
    body = view[
        view.index("VIEW INMET.CLEAN.INMET_CLEAN") : view.index("FROM INMET.CLEAN.OBSERVATIONS")
    ]
    columns = re.findall(r"^\s+[os]\.(\w+),?$", body, flags=re.M)
    assert tuple(columns) == CLEAN_COLUMNS


def test_the_task_includes_the_local_runtimes_statements() -> None:
    task = render("R__z_tasks.sql", variables())
    body = render(TASK_BODY, variables())
    assert body.strip() in task
    assert "SYSTEM$SEND_SNOWFLAKE_NOTIFICATION" in task


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT ';' AS x; SELECT 'it''s;'", ["SELECT ';' AS x", "SELECT 'it''s;'"]),
        ("-- a; comment\nSELECT 1;\n-- trailing only\n", ["-- a; comment\nSELECT 1"]),
        (
            "CREATE TASK t AS EXECUTE IMMEDIATE $$ BEGIN SELECT 1; END; $$; ALTER TASK t RESUME",
            [
                "CREATE TASK t AS EXECUTE IMMEDIATE $$ BEGIN SELECT 1; END; $$",
                "ALTER TASK t RESUME",
            ],
        ),
        ("/* x; */ SELECT 1", ["/* x; */ SELECT 1"]),
    ],
)
def test_split_statements(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


@pytest.mark.parametrize(
    ("sql", "skipped"),
    [
        ("CREATE PIPE IF NOT EXISTS p AS COPY INTO t FROM @s", True),
        ("-- comment\nCREATE STREAM IF NOT EXISTS s ON TABLE t", True),
        ("GRANT SELECT ON VIEW v TO ROLE r", True),
        ("CREATE STAGE IF NOT EXISTS s URL = 's3://b/' STORAGE_INTEGRATION = i", True),
        ("CREATE TABLE IF NOT EXISTS t (a INT)", False),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", False),
        ("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", False),
    ],
)
def test_snowflake_only_statements(sql: str, skipped: bool) -> None:
    assert (snowflake_only_reason(sql) is not None) is skipped


def test_check_and_dry_run_commands() -> None:
    runner = CliRunner()
    check = runner.invoke(app, ["snowflake", "check"])
    assert check.exit_code == 0, check.output
    assert "render and parse in the Snowflake dialect" in check.output
    dry = runner.invoke(app, ["snowflake", "deploy", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    headers = re.findall(r"-- ===== (\S+) =====", dry.output)
    assert headers == [s.name for s in scripts()]
    assert "CREATE PIPE IF NOT EXISTS INMET.RAW.INMET_PIPE" in dry.output
    assert "{{" not in dry.output
    bootstrap = runner.invoke(app, ["snowflake", "bootstrap"])
    assert "TYPE = SERVICE" in bootstrap.output


def test_deploy_without_credentials_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["snowflake", "deploy"])
    assert result.exit_code == 2
    assert "SNOWFLAKE_ACCOUNT" in result.output


def test_sql_root_is_the_repository_folder() -> None:
    assert SQL_ROOT.name == "snowflake_sql"
    assert (SQL_ROOT / "schemachange-config.yml").exists()


_ARNS = {
    "S3_BUCKET": "my-inmet-bucket",
    "INMET_SNOWFLAKE_STORAGE_ROLE_ARN": "arn:aws:iam::123456789012:role/s",
    "INMET_SNOWFLAKE_SNS_ROLE_ARN": "arn:aws:iam::123456789012:role/n",
    "INMET_LOAD_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:l",
    "INMET_ERROR_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:e",
}


def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, dotenv: str) -> None:
    for name in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY_PATH", *_ARNS):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text(dotenv, encoding="utf-8")
    monkeypatch.setenv("INMET_ENV_FILE", str(env))


def test_deploy_reads_dotenv_and_refuses_every_local_placeholder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Credentials only in .env are found (no 'missing setting'); the ARNs and bucket still at
    their local defaults are each named, and nothing is sent to an account."""
    key = tmp_path / "key.p8"
    key.write_text("k")
    _isolate(
        monkeypatch,
        tmp_path,
        f"SNOWFLAKE_ACCOUNT=acme-x1\nSNOWFLAKE_USER=deployer\nSNOWFLAKE_PRIVATE_KEY_PATH={key}\n",
    )
    result = CliRunner().invoke(app, ["snowflake", "deploy"])
    assert result.exit_code == 2, result.output
    assert "missing setting" not in result.output
    for name in _ARNS:
        assert name in result.output


def test_deploy_runs_schemachange_with_dotenv_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    key = tmp_path / "key.p8"
    key.write_text("k")
    lines = [
        "SNOWFLAKE_ACCOUNT=acme-x1",
        "SNOWFLAKE_USER=deployer",
        f"SNOWFLAKE_PRIVATE_KEY_PATH={key}",
        *(f"{k}={v}" for k, v in _ARNS.items()),
    ]
    _isolate(monkeypatch, tmp_path, "\n".join(lines) + "\n")
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_call(command: list[str], cwd: Any, env: dict[str, str]) -> int:
        calls.append((command, env))
        return 0

    monkeypatch.setattr("subprocess.call", fake_call)
    result = CliRunner().invoke(app, ["snowflake", "deploy"])
    assert result.exit_code == 0, result.output
    [(command, env)] = calls
    assert env["SNOWFLAKE_ACCOUNT"] == "acme-x1"  # schemachange renders its config from these
    values = json.loads(command[command.index("--schemachange-vars") + 1])
    assert values["bucket"] == "my-inmet-bucket"
    assert values["storage_role_arn"] == _ARNS["INMET_SNOWFLAKE_STORAGE_ROLE_ARN"]


def test_the_deploy_summary_counts_statements_once() -> None:
    from inmet_local.emulator.warehouse import DeployReport

    statement = Statement("x.sql", 1, "GRANT x")
    report = DeployReport(
        skipped=[(statement, "grants"), (statement, "grants"), (statement, "pipes (emulated)")]
    )
    assert report.skipped_summary() == "3 statements (grants; pipes (emulated))"
    assert DeployReport(skipped=[(statement, "grants")]).skipped_summary() == "1 statement (grants)"
    assert DeployReport().skipped_summary() == "nothing"
