"""The options and arguments several `inmet` commands share, and the fixed choices.

A fixed choice is a ``StrEnum`` given to Typer with :func:`choice_parser`: `--help` lists the
values, Typer refuses any other one (exit 2, before the command runs) and the command receives
the enum member. The parser (instead of Typer's own enum handling) keeps the project's message,
"--layout must be A or B, not 'C'", and matches case-insensitively as the commands always did.

An option that a setting may give names its variable with Typer's ``envvar=`` so `--help` says
so (tests/unit/test_cli_help.py); the `.env` file is read by :mod:`inmet_local.workspace.discovery`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from inmet_local.cli.output import err_console, fail
from inmet_local.workspace.discovery import DATA_DIR_ENV
from inmet_local.workspace.sources import InputFile, SourceError, iter_input_files


class Layout(StrEnum):
    """`inmet synth --layout`: INMET's two file layouts."""

    A = "A"  # ≤2018 style
    B = "B"  # ≥2019 style


class AuthMode(StrEnum):
    """`--auth`: how requests to the upload API are authenticated."""

    KEY = "key"  # the x-api-key header
    IAM = "iam"  # SigV4 from the AWS credentials (a stack deployed with ApiAuth=Iam)


class FetchSource(StrEnum):
    """`inmet fetch --from`: where the contract CSV is read."""

    S3 = "s3"  # the exported partitions
    SNOWFLAKE = "snowflake"  # the export view


class ComposeService(StrEnum):
    """`inmet local compose logs SERVICE`: the services of local/compose.yml."""

    MLFLOW = "mlflow"
    MYSQL = "mysql"
    MINIO = "minio"
    CREATE_BUCKET = "create-bucket"
    JUPYTER = "jupyter"


def choice_text[E: StrEnum](kind: type[E]) -> str:
    """'A or B', 'a, b or c': the choices as a sentence says them."""
    values = [member.value for member in kind]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def parse_choice[E: StrEnum](kind: type[E], option: str, value: str | E) -> E:
    """``value`` as a member of ``kind`` (case-insensitive), else ``typer.BadParameter``."""
    if isinstance(value, kind):
        return value
    for member in kind:
        if member.value.casefold() == str(value).casefold():
            return member
    raise typer.BadParameter(f"{option} must be {choice_text(kind)}, not {value!r}")


def choice_parser[E: StrEnum](kind: type[E], option: str) -> Callable[[str], E]:
    """The ``parser=`` of a Typer option with the fixed choices of ``kind``."""

    def parse(value: str) -> E:
        return parse_choice(kind, option, value)

    return parse


def choice_metavar(kind: type[StrEnum]) -> str:
    """'A|B': what `--help` shows in place of the value."""
    return "|".join(member.value for member in kind)


ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        envvar="INMET_API_URL",
        help="Upload API base URL (also read from .env). Default: the running local stack's.",
        show_default=False,
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="INMET_API_KEY",
        help="The API's x-api-key (also read from .env). Default: the local stack's, if any.",
        show_default=False,
    ),
]
AuthOption = Annotated[
    AuthMode | None,
    typer.Option(
        "--auth",
        envvar="INMET_API_AUTH",
        parser=choice_parser(AuthMode, "--auth"),
        metavar=choice_metavar(AuthMode),
        help="key: send x-api-key; iam: sign with SigV4 from your AWS credentials (a stack "
        "deployed with ApiAuth=Iam). Default: key.",
    ),
]
DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        help="The local stack's folder: its warehouse, logs and stack.json (which tells the "
        "other commands where the running stack is).",
    ),
]
DEFAULT_PORT = 8000
PortOption = Annotated[
    int | None,
    typer.Option(
        "--port",
        envvar="INMET_PORT",
        help=f"Port of the upload API on 127.0.0.1. Default: {DEFAULT_PORT}, or a free port when "
        f"{DEFAULT_PORT} is busy (the stack says which; other commands find it in stack.json).",
        show_default=False,
    ),
]


def choose_port(port: int | None, say: Callable[[str], None]) -> int:
    """The API's port: the one asked for (a busy one is refused by the stack, naming it), else
    DEFAULT_PORT, else any free port: a busy 8000 (another program, a second stack) must not end
    a demo, and every other command reads the port from stack.json, so none depends on 8000."""
    from inmet_local.emulator.servers import free_port, port_in_use

    if port is not None:
        return port
    if not port_in_use(DEFAULT_PORT):
        return DEFAULT_PORT
    chosen = free_port()
    say(f"port {DEFAULT_PORT} is busy: the upload API uses port {chosen} (or choose with --port)")
    return chosen


def skipped_listing(
    say: Callable[[str], None], shown: int = 10
) -> tuple[Callable[[str, str], None], Callable[[], None]]:
    """(``skipped`` for :func:`iter_input_files`, a function that then says what was skipped):
    one line naming up to ``shown`` files and why, so that nothing in a folder is passed over
    without a word. The generated sample's marker file is not a skipped station file."""
    from inmet_local.synth.sample import MARKER

    found: list[tuple[str, str]] = []

    def note(where: str, why: str) -> None:
        if not where.endswith(MARKER):
            found.append((where, why))

    def tell() -> None:
        if found:
            names = "; ".join(f"{where} ({why})" for where, why in found[:shown])
            more = f"; and {len(found) - shown} more" if len(found) > shown else ""
            say(f"skipped {len(found)} file(s) that are not station files: {names}{more}")

    return note, tell


def input_files(paths: list[Path]) -> list[InputFile]:
    """The station files under ``paths``, or a usage error (exit 2) that says why not; the files
    a folder or an archive held besides station files are listed on stderr."""
    note, tell = skipped_listing(lambda text: err_console.print(text, highlight=False))
    try:
        files = list(iter_input_files(paths, skipped=note))
        tell()
    except SourceError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"{exc.filename or paths[0]}: cannot read ({exc.strerror or exc})") from exc
    if not files:
        raise fail("no .csv files found in " + ", ".join(str(p) for p in paths))
    return files
