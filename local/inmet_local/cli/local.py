"""`inmet local …`: the whole pipeline on this machine (moto, fakesnow, uvicorn): start it, run
files through it, invoke one function, start over. `inmet local compose …` is in
:mod:`inmet_local.cli.compose`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from inmet_local.cli.compose import compose_app
from inmet_local.cli.options import DataDirOption, PortOption, choose_port
from inmet_local.cli.output import console, err_console, fail, using
from inmet_local.synth.sample import SAMPLE_DIR
from inmet_local.workspace.discovery import DEFAULT_DATA_DIR, env_file

local_app = typer.Typer(
    help="The whole pipeline on this machine (moto, fakesnow, uvicorn).", no_args_is_help=True
)
local_app.add_typer(compose_app, name="compose")


def check_dotenv() -> None:
    """The local default needs no .env; a .env that is present must be valid."""
    from pydantic import ValidationError

    from inmet_pipeline.settings import AwsSettings

    path = env_file()
    if not path.exists():
        return
    try:
        AwsSettings(_env_file=path)
    except ValidationError as exc:
        names = ", ".join(str(e["loc"][0]).upper() for e in exc.errors())
        raise fail(f"{path} has invalid settings: {names}") from exc
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if text and not text.startswith("#") and "=" not in text:
            raise fail(f"{path} line {number}: expected NAME=value, got {text[:40]!r}")


@local_app.command("up")
def local_up(port: PortOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Start the local stack and keep it running until Ctrl-C (or SIGTERM).

    While it runs, `inmet upload`, `status`, `fetch` and `local invoke` find it through
    <data-dir>/stack.json, with no setting to export. What it accepted persists in <data-dir>
    (the warehouse, the bucket, the statuses), through a crash too: a restart finishes the
    uploads not yet exported. `inmet local reset` deletes it. If a server dies, the stack
    stops and says which.
    """
    import signal
    import threading

    from inmet_local.emulator.servers import ServerError
    from inmet_local.emulator.stack import LocalStack

    check_dotenv()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    port = choose_port(port, lambda text: console.print(text, highlight=False))
    stack = LocalStack(data_dir, port=port)
    try:
        stack.start(say=lambda text: console.print(text, highlight=False))
    except ServerError as exc:
        raise fail(str(exc), 1) from exc
    try:
        console.print(f"ready: http://127.0.0.1:{port}", highlight=False)
        sys.stdout.flush()
        while not stop.wait(0.5):
            if stack.stopping:  # a server died: the stack stopped itself
                break
    finally:
        console.print("stopping …")
        stack.stop()
        console.print("stopped.")
    if stack.failure:
        raise fail(stack.failure, 1)


@local_app.command("run")
def local_run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH",
            help="Files to upload (default: data/raw/; when it has no station files, the "
            "generated sample in data/sample/, on a warehouse of its own).",
        ),
    ] = None,
    upload: Annotated[
        bool,
        typer.Option(
            "--upload",
            help="Upload the files and run them through the pipeline (what `make demo` runs).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where inmet_clean.csv goes (default data/processed/inmet_clean.csv; for the "
            "generated sample data/sample/inmet_clean.csv).",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    port: PortOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace the CSV even when it has station-years this run's files do not (by "
            "default such a file is kept, and the run says so).",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the uploads to be exported.")
    ] = 600.0,
) -> None:
    """Start the stack; with --upload, send the files, wait until each is exported, fetch
    inmet_clean.csv and summarise. Without --upload it only starts the stack (Ctrl-C stops it)."""
    from inmet_local.cli.runner import run_pipeline

    check_dotenv()
    if not upload:
        local_up(port=port, data_dir=data_dir)
        return
    code = run_pipeline(
        paths or None,
        out=out,
        data_dir=data_dir,
        port=choose_port(port, lambda text: console.print(text, highlight=False)),
        timeout=timeout,
        force=force,
        console=console,
        err_console=err_console,
    )
    raise typer.Exit(code)


@local_app.command("invoke")
def local_invoke(
    function: Annotated[
        str,
        typer.Argument(
            metavar="FUNCTION", help="Logical id in template.yaml, e.g. UploadFunction."
        ),
    ],
    event: Annotated[
        Path,
        typer.Option("--event", "-e", help="The event JSON (see events/)."),
    ],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    env_vars: Annotated[
        Path, typer.Option("--env-vars", "-n", help="Per-function variables, as for sam.")
    ] = Path("env.json"),
    built: Annotated[
        bool,
        typer.Option(
            "--built",
            help="Load the code from .aws-sam/build like Lambda (runtime Python, only the "
            "function's folder and its layers on the path) instead of this virtualenv.",
        ),
    ] = False,
) -> None:
    """`sam local invoke` without Docker: run FUNCTION's handler with EVENT against the running
    local stack (`inmet local up`) and print what it returns; its logs go to stderr."""
    from inmet_local.emulator.invoke import (
        InvokeError,
        function_spec,
        invocation_env,
        invoke,
        stack_state,
    )

    if not event.is_file():
        raise fail(f"--event {event}: no such file")
    try:
        state = stack_state(data_dir)
        spec = function_spec(function, names=state.get("names", {}))
        env = invocation_env(spec, state["env"], env_vars)
        using(f"the local stack in {data_dir} (pid {state['pid']}, {state['api_url']})")
        result = invoke(function, event, env, built=built, stream_logs=True)
    except InvokeError as exc:
        raise fail(str(exc), 2) from exc
    sys.stdout.write(json.dumps(result.result, ensure_ascii=False, indent=2) + "\n")
    if not result.ok:
        raise fail(
            f"{function} raised {result.result.get('errorType')}: "
            f"{result.result.get('errorMessage')}",
            1,
        )
    failure = handler_failure(result.result)
    if failure:
        raise fail(f"{function} returned {failure}", 1)


def handler_failure(answer: object) -> str | None:
    """A handler that returned an error instead of raising: an API Gateway answer with a 5xx
    status (Mangum turns the app's unexpected exceptions into 500), or a batch answer that
    names failed records. None when the answer is a success."""
    if not isinstance(answer, dict):
        return None
    status = answer.get("statusCode")
    if isinstance(status, int) and status >= 500:
        body = str(answer.get("body", ""))[:200]
        return f"HTTP {status}: {body}"
    failures = answer.get("batchItemFailures")
    if isinstance(failures, list) and failures:
        return f"{len(failures)} failed record(s)"
    return None


@local_app.command("reset")
def local_reset(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = (
        False
    ),
) -> None:
    """Start over: delete the local stack's data dir (warehouse, pipe history, the bucket's
    objects and the upload statuses it keeps, logs, and the generated sample's own stack in
    <data-dir>/sample) and the generated sample in
    data/sample/. Your files in data/raw/ and the CSV in data/processed/ are kept.

    Refused while a stack runs on the data dir.
    """
    import shutil

    from inmet_local.synth.sample import MARKER
    from inmet_local.workspace.discovery import DataDirInUse, DataDirLock

    targets = [p for p in (data_dir,) if p.exists()]
    sample_dir = SAMPLE_DIR
    if (sample_dir / MARKER).exists():
        targets.append(sample_dir)
    if not targets:
        console.print(f"nothing to reset: {data_dir} and {sample_dir} do not exist.")
        return
    locks = [DataDirLock(d) for d in (data_dir, data_dir / "sample") if d.is_dir()]
    try:
        for lock in locks:
            lock.acquire()
    except DataDirInUse as exc:
        for lock in locks:
            lock.release()
        raise fail(str(exc), 1) from exc
    try:
        if not yes and not typer.confirm(
            "delete " + " and ".join(str(t) for t in targets) + "?", default=False
        ):
            raise fail("nothing deleted", 1)
        for target in targets:
            shutil.rmtree(target)
    except OSError as exc:
        raise fail(f"cannot delete {exc.filename}: {exc.strerror}", 1) from exc
    finally:
        for lock in locks:
            lock.release()
    console.print("deleted " + ", ".join(f"{t}/" for t in targets), highlight=False)
