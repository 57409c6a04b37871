"""`inmet local compose …`: the experiments stack of local/compose.yml (MLflow, MySQL, MinIO,
Jupyter), through the Docker engine's compose plugin."""

from __future__ import annotations

from typing import Annotated

import typer

from inmet_local.cli.options import ComposeService, choice_parser, choice_text
from inmet_local.cli.output import fail

compose_app = typer.Typer(
    help="The experiments stack (local/compose.yml: MLflow, MySQL, "
    "MinIO, Jupyter); needs a Docker engine.",
    no_args_is_help=True,
)


_WITHOUT_DOCKER = (
    "Without Docker: `inmet train` tracks runs in the project's mlruns/ (SQLite), or in any MLflow "
    "server given by MLFLOW_TRACKING_URI (e.g. one backed by MariaDB, as the README describes); "
    "the notebooks in local/notebooks/ run in any Jupyter."
)


def _docker_compose_ready() -> str:
    """The docker binary, once the engine and the compose plugin are known to answer; else a
    one-line error saying which is missing and what to use instead. Checked before anything
    else (.env, the compose file), so the first message is the real obstacle."""
    import shutil
    import subprocess

    docker = shutil.which("docker")
    if docker is None:
        raise fail(f"docker is not installed (not on PATH). {_WITHOUT_DOCKER}", 1)

    def answers(*args: str) -> tuple[bool, str]:
        try:
            done = subprocess.run(
                [docker, *args], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, str(exc)
        text = (done.stderr or done.stdout).strip().splitlines()
        return done.returncode == 0, text[-1] if text else f"exit {done.returncode}"

    ok, detail = answers("compose", "version")
    if not ok:
        raise fail(
            f"the Docker compose plugin is missing (`docker compose version`: {detail}). "
            f"Install docker-compose-plugin. {_WITHOUT_DOCKER}",
            1,
        )
    ok, detail = answers("info", "--format", "{{.ServerVersion}}")
    if not ok:
        raise fail(
            f"the Docker engine is not running or not reachable (`docker info`: {detail}). "
            f"{_WITHOUT_DOCKER}",
            1,
        )
    return docker


def _compose(*args: str) -> None:
    import subprocess

    from inmet_local.workspace.template import REPO_ROOT

    docker = _docker_compose_ready()
    env_file = REPO_ROOT / ".env"
    if not env_file.exists():
        raise fail(
            f"{env_file} is missing: copy .env.example and set the MYSQL_* and MINIO_* passwords", 1
        )
    command = [
        docker,
        "compose",
        "-f",
        str(REPO_ROOT / "local" / "compose.yml"),
        "--env-file",
        str(env_file),
        *args,
    ]
    code = subprocess.call(command)
    if code:
        raise fail(
            f"`{' '.join(command[1:])}` failed (exit {code}); is the Docker engine running?", code
        )


@compose_app.command("up")
def compose_up() -> None:
    """Build and start MLflow (127.0.0.1:5000), MinIO, MySQL and Jupyter (127.0.0.1:8888)."""
    _compose("up", "-d", "--build", "--wait")


@compose_app.command("down")
def compose_down(
    volumes: Annotated[
        bool, typer.Option("--volumes", help="Also delete the MySQL and MinIO data.")
    ] = False,
) -> None:
    """Stop the experiments stack."""
    _compose("down", *(["--volumes"] if volumes else []))


@compose_app.command("logs")
def compose_logs(
    service: Annotated[
        ComposeService | None,
        typer.Argument(
            parser=choice_parser(ComposeService, "SERVICE"),
            metavar="SERVICE",
            help=f"One service of local/compose.yml: {choice_text(ComposeService)} "
            "(default: all of them).",
            show_default=False,
        ),
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
) -> None:
    """Show the experiments stack's logs (`docker compose logs`), of one service or all."""
    _compose("logs", *(["--follow"] if follow else []), *([service.value] if service else []))
