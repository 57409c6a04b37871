"""`inmet snowflake …`: the Snowflake SQL project (snowflake_sql/) checked, printed, deployed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from inmet_local.cli.output import console, err_console, fail
from inmet_local.snowflake.sqlproject import settings_read
from inmet_local.workspace.discovery import environment

snowflake_app = typer.Typer(
    help="The Snowflake SQL project (snowflake_sql/).", no_args_is_help=True
)


@snowflake_app.command("check")
def snowflake_check() -> None:
    """Render every script and parse every statement with sqlglot's Snowflake dialect."""
    from inmet_local.snowflake.sqlproject import (
        BOOTSTRAP,
        SqlProjectError,
        Statement,
        parse_snowflake,
        render,
        rendered_statements,
        snowflake_only_reason,
        split_statements,
        variables,
    )

    values = variables()
    count = 0
    opaque = 0
    try:
        bootstrap = [
            Statement(BOOTSTRAP, i, sql)
            for i, sql in enumerate(split_statements(render(BOOTSTRAP, values)), start=1)
        ]
        for statement in [*bootstrap, *rendered_statements(values)]:
            parsed = parse_snowflake(statement)
            count += 1
            if type(parsed).__name__ == "Command":
                opaque += 1
    except SqlProjectError as exc:
        raise fail(str(exc), 1) from exc
    local = sum(1 for s in rendered_statements(values) if snowflake_only_reason(s.sql) is None)
    console.print(
        f"[green]ok[/] {count} statements render and parse in the Snowflake dialect "
        f"({opaque} Snowflake-only commands parsed as opaque commands); {local} of them also "
        "run on the local warehouse."
    )


@snowflake_app.command("deploy", epilog="Settings read: " + ", ".join(settings_read()) + ".")
def snowflake_deploy(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the rendered SQL in order; connect to nothing.")
    ] = False,
) -> None:
    """Apply snowflake_sql/ to the account in .env with schemachange (key-pair auth).

    Reads these settings from the environment or .env (.env.example explains each; the
    environment wins): SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY_PATH (the key
    pair), and the names the SQL project takes from snowflake_sql/schemachange-config.yml (all
    listed below).
    """
    import os
    import subprocess

    from inmet_local.snowflake.sqlproject import (
        SQL_ROOT,
        SqlProjectError,
        placeholder_settings,
        rendered_statements,
        variables,
    )

    try:
        values = variables()
        statements = list(rendered_statements(values))
    except SqlProjectError as exc:
        raise fail(str(exc), 1) from exc
    if dry_run:
        current = ""
        for statement in statements:
            if statement.script != current:
                current = statement.script
                sys.stdout.write(f"\n-- ===== {current} =====\n")
            sys.stdout.write(statement.sql.rstrip() + ";\n\n")
        return
    env = environment()  # the process environment over .env, as every other command reads
    missing = [
        n
        for n in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY_PATH")
        if not env.get(n)
    ]
    if missing:
        raise fail(
            "missing setting " + ", ".join(missing) + " (key-pair authentication; "
            "see .env.example and snowflake_sql/README.md)"
        )
    if placeholders := placeholder_settings(values):
        raise fail(
            "these settings still hold the local placeholders, which a real account would "
            "keep forever (CREATE … IF NOT EXISTS): "
            + ", ".join(placeholders)
            + ". Set them in .env from the first sam deploy's outputs (snowflake_sql/README.md)."
        )
    schemachange = Path(sys.executable).with_name("schemachange")
    if not schemachange.exists():
        raise fail(f"{schemachange} is missing: run `make install` (schemachange is a dev tool)", 1)
    command = [
        str(schemachange),
        "deploy",
        "--config-folder",
        str(SQL_ROOT),
        "--snowflake-authenticator",
        "snowflake_jwt",
        "--snowflake-private-key-path",
        env["SNOWFLAKE_PRIVATE_KEY_PATH"],
        "--schemachange-vars",
        json.dumps(values),
    ]
    console.print(f"running schemachange on {len(statements)} statements …")
    raise typer.Exit(subprocess.call(command, cwd=SQL_ROOT.parent, env={**os.environ, **env}))


@snowflake_app.command("bootstrap")
def snowflake_bootstrap() -> None:
    """Print the one-time admin script (roles, grants, export user) to run as ACCOUNTADMIN."""
    from inmet_local.snowflake.sqlproject import (
        BOOTSTRAP,
        SQL_ROOT,
        placeholder_settings,
        render,
        variables,
    )

    values = variables()
    script = (SQL_ROOT / BOOTSTRAP).read_text(encoding="utf-8")
    if placeholders := placeholder_settings(values, script):
        err_console.print(
            "[yellow]warning[/] the script still holds local placeholders: "
            + ", ".join(placeholders)
            + " (set them in .env before running it on an account)"
        )
    sys.stdout.write(render(BOOTSTRAP, values))


@snowflake_app.command("reload")
def snowflake_reload(
    raw_keys: Annotated[
        list[str],
        typer.Argument(
            metavar="RAW_KEY", help="raw/ keys to load again, e.g. raw/inmet/station=A001/…"
        ),
    ],
) -> None:
    """Print the COPY that loads raw/ files again (FORCE = TRUE), to run as the pipeline role.

    ALTER PIPE … REFRESH never reloads a file the pipe has loaded; this COPY does, with the
    pipe's own SELECT, and the task keeps one copy of each line (docs/snowflake-operations.md).
    """
    from inmet_local.snowflake.reload import reload_statement
    from inmet_local.snowflake.sqlproject import SqlProjectError, variables

    try:
        sys.stdout.write(reload_statement(raw_keys, variables()))
    except SqlProjectError as exc:
        raise fail(str(exc)) from exc
