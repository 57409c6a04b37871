"""`--help` says what each command reads: every environment variable an option reads (Typer's
``envvar=``) is named in that command's help, and no help text hides one in rich markup."""

from __future__ import annotations

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
