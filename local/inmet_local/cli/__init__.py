"""`inmet`: the one command-line tool of the project. Every feature is a subcommand.

This module assembles the commands; each lives in the module of what it is about:

- :mod:`.files`: ``validate``, ``synth`` (station files on this machine)
- :mod:`.api`: ``upload``, ``status`` (the upload API)
- :mod:`.fetch`: ``fetch`` (the contract CSV of CLEAN)
- :mod:`.qc`: ``qc`` (what quality control flagged, and why)
- :mod:`.ml`: ``train`` (the model, MLflow)
- :mod:`.snowflake`: ``snowflake check|deploy|bootstrap`` (snowflake_sql/)
- :mod:`.aws`: ``aws redrive`` (a deployed stack)
- :mod:`.local`: ``local up|run|invoke|reset``, and :mod:`.compose`: ``local compose …``

with :mod:`.output` (consoles, the one-line error, tables) and :mod:`.options` (the shared
options and the fixed choices) beside them.

:func:`main` is the console script (pyproject.toml ``[project.scripts] inmet =
"inmet_local.cli:main"``) and ``python -m inmet_local``: it runs :data:`app` with the last line
of defence against tracebacks. The tests call :data:`app` through Typer's runner, which is why
``main`` may look unused from inside the code.
"""

from __future__ import annotations

import os
import sys

import typer

# Powertools reads these when a module creates its Logger: set them before any import of
# the functions' code (as SAM's Globals do in AWS).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "inmet-pipeline")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InmetPipeline")

from inmet_local.cli import helptext
from inmet_local.cli.api import status_command, upload_command
from inmet_local.cli.aws import aws_app
from inmet_local.cli.fetch import fetch_command
from inmet_local.cli.files import synth_command, validate_command
from inmet_local.cli.local import local_app
from inmet_local.cli.ml import train_command
from inmet_local.cli.output import err_console
from inmet_local.cli.qc import qc_command
from inmet_local.cli.snowflake import snowflake_app

helptext.install()

app = typer.Typer(
    name="inmet",
    help="INMET weather-station pipeline: validate, generate, upload and process station files.\n\n"
    "upload, status, fetch and local invoke talk to the running local stack (`inmet local up`, "
    "found through <data-dir>/stack.json) unless --api-url / INMET_API_URL, S3_BUCKET or "
    "SNOWFLAKE_ACCOUNT (environment or .env) point at a deployed pipeline. Each option's "
    "--help names the environment variable it reads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("validate")(validate_command)
app.command("synth")(synth_command)
app.command("upload")(upload_command)
app.command("status")(status_command)
app.command("fetch")(fetch_command)
app.command("qc")(qc_command)
app.command("train")(train_command)
app.add_typer(snowflake_app, name="snowflake")
app.add_typer(aws_app, name="aws")
app.add_typer(local_app, name="local")


def main() -> None:
    """The console script: `app`, with a last line of defence. Every condition a user can
    cause has its own one-line error; anything else is a bug, reported in one line too (the
    traceback with INMET_DEBUG=1) instead of 100 lines of someone else's internals."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("[bold red]error:[/] interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("INMET_DEBUG"):
            raise
        err_console.print(
            f"[bold red]error:[/] unexpected {type(exc).__name__}: {str(exc)[:300]} "
            "(a bug in inmet; run again with INMET_DEBUG=1 for the traceback)",
            highlight=False,
        )
        sys.exit(1)


__all__ = ["app", "main"]
