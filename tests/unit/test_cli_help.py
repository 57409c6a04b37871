"""`--help` says what each command reads: every environment variable an option reads (Typer's
``envvar=``) is named in that command's help, and no help text hides one in rich markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from inmet_local.cli import app

pytestmark = [pytest.mark.unit]

runner = CliRunner()


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    # Typer's own (vendored) click: a group is whatever has sub-commands.
    yield path, group
    for name, command in (getattr(group, "commands", None) or {}).items():
        yield from _commands(command, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_subcommand_is_covered() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"upload", "status", "fetch", "local up", "local run", "local reset", "train"} <= names


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "inmet" for p, _ in COMMANDS]
)
def test_help_names_every_environment_variable_it_reads(
    path: tuple[str, ...], command: Any
) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    help_text = result.output
    for param in command.params:
        envvars = param.envvar if isinstance(param.envvar, list | tuple) else [param.envvar]
        for name in filter(None, envvars):
            assert name in help_text, f"`inmet {' '.join(path)} --help` does not name {name}"
    # Hand-written "[env NAME; …]" in a help string is rich markup: it never showed.
    assert not [p.name for p in command.params if "[env" in (getattr(p, "help", None) or "")]


def test_the_options_that_read_the_environment() -> None:
    read = {
        (" ".join(path), str(param.envvar))
        for path, command in COMMANDS
        for param in command.params
        if param.envvar
    }
    for command in ("upload", "status"):
        assert (command, "INMET_API_URL") in read
        assert (command, "INMET_API_KEY") in read
    for command in ("upload", "status", "fetch", "local up", "local run", "local invoke"):
        assert (command, "INMET_DATA_DIR") in read
    for command in ("upload", "status"):
        assert (command, "INMET_API_AUTH") in read
    # train reads MLFLOW_TRACKING_URI itself (to say where a refused file: URI came from); its
    # help still names it.
    [train] = [c for path, c in COMMANDS if path == ("train",)]
    [option] = [p for p in train.params if p.name == "tracking_uri"]
    assert "MLFLOW_TRACKING_URI" in str(option.help)


# The code's types, as Typer would print them: a newcomer reads none of these.
_CODE_TYPES = re.compile(r"<(bool|str|int|float|path|list\[[^\]]*\])>|\{[a-z_]+\}|int range")


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "inmet" for p, _ in COMMANDS]
)
def test_help_speaks_the_users_words_not_the_codes_types(
    path: tuple[str, ...], command: Any
) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    found = _CODE_TYPES.findall(result.output)
    assert not found, f"`inmet {' '.join(path)} --help` shows {found}"


def test_the_type_words() -> None:
    from inmet_local.cli.helptext import user_type

    upload = typer.main.get_command(app).commands["upload"]  # type: ignore[attr-defined]
    words = {p.name: user_type(p) for p in upload.params}
    assert words["paths"] is None  # shown as PATH in the name column
    assert words["as_json"] is None  # a flag
    assert words["concurrency"] == "N"
    assert words["data_dir"] == "PATH"
    assert words["api_url"] == "TEXT"
    assert words["auth"] == "key|iam"
    usage = runner.invoke(app, ["upload", "--help"], env={"COLUMNS": "200"}).output
    assert "inmet upload [OPTIONS] PATH..." in usage
    run = runner.invoke(app, ["local", "run", "--help"], env={"COLUMNS": "200"}).output
    assert "inmet local run [OPTIONS] [PATH]..." in run
    assert "--timeout         SECONDS" in run


def test_train_names_its_threads_setting_and_deploy_every_setting_it_reads() -> None:
    from inmet_local.cli.ml import TRAIN_THREADS_ENV
    from inmet_local.ml.model import TRAIN_THREADS_ENV as MODEL_THREADS_ENV
    from inmet_local.snowflake.sqlproject import settings_read

    assert TRAIN_THREADS_ENV == MODEL_THREADS_ENV
    train = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"}).output
    assert "INMET_TRAIN_THREADS" in train
    deploy = runner.invoke(app, ["snowflake", "deploy", "--help"], env={"COLUMNS": "300"}).output
    names = settings_read()
    assert {"SNOWFLAKE_ACCOUNT", "SNOWFLAKE_PRIVATE_KEY_PATH", "S3_BUCKET"} <= set(names)
    missing = [n for n in names if n not in deploy]
    assert not missing, f"`inmet snowflake deploy --help` does not name {missing}"


def test_a_table_of_inmet_file_names_keeps_each_name_on_one_line_when_the_terminal_can() -> None:
    from inmet_local.cli.output import file_column_width

    name = "INMET_CO_MT_A921_SAO FELIX  DO ARAGUAIA_01-01-2024_A_31-12-2024.CSV"
    assert file_column_width([name, "short.csv"], width=200) == len(name)
    assert file_column_width([name], width=150) == 40  # a narrower terminal folds it
    assert file_column_width([name], width=80) == 20
    assert file_column_width([], width=200) == 4
