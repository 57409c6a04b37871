"""`inmet`: the one command-line tool of the project. Every feature is a subcommand."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Powertools reads these when a module creates its Logger: set them before any import of
# the functions' code (as SAM's Globals do in AWS).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "inmet-pipeline")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InmetPipeline")

from inmet_local.client import DEFAULT_API_URL, ApiClient, UploadOutcome, upload_many
from inmet_local.sources import InputFile, SourceError, iter_input_files
from inmet_local.synth import generate_archive
from inmet_pipeline.reader import DEFAULT_MAX_ERRORS, Issue, ValidationReport, validate

app = typer.Typer(
    name="inmet",
    help="INMET weather-station pipeline: validate, generate, upload and process station files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (CI logs, `| less`) gets a fixed wide layout instead of rich's 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)
err_console = Console(stderr=True, soft_wrap=True)

DEFAULT_RAW_DIR = Path("data/raw")


def _input_files(paths: list[Path]) -> list[InputFile]:
    """The station files under ``paths``, or a usage error (exit 2) that says why not."""
    try:
        files = list(iter_input_files(paths))
    except SourceError as exc:
        raise _fail(str(exc)) from exc
    if not files:
        raise _fail("no .csv files found in " + ", ".join(str(p) for p in paths))
    return files


def _progress(label: str, *, disable: bool = False) -> Progress:
    """A transient progress bar on stderr (stdout stays clean for --json and pipes)."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=disable,
    )


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _validate_all(files: list[InputFile], max_errors: int, quiet: bool) -> list[ValidationReport]:
    reports: list[ValidationReport] = []
    with _progress("validating", disable=quiet or len(files) < 5) as progress:
        task = progress.add_task("validating", total=len(files))
        for item in files:
            try:
                data = item.read()
            except OSError as exc:
                # One unreadable (or oversized) file is a failed report, not the end of the run.
                report = ValidationReport(filename=item.display, size_bytes=item.size)
                report.errors.append(Issue("unreadable", f"cannot read: {exc}"))
                reports.append(report)
                progress.advance(task)
                continue
            report = validate(data, item.name, max_errors=max_errors)
            report.filename = item.display
            reports.append(report)
            progress.advance(task)
    return reports


def _period(report: ValidationReport) -> str:
    if report.period_start and report.period_end:
        return f"{report.period_start:%Y-%m-%d}…{report.period_end:%m-%d}"
    return "-"


def print_report_table(reports: list[ValidationReport], title: str = "INMET files") -> None:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("file", max_width=30, overflow="ellipsis", no_wrap=True)
    table.add_column("station", max_width=18, overflow="ellipsis", no_wrap=True)
    table.add_column("lay", justify="center")
    table.add_column("enc", no_wrap=True)
    table.add_column("rows", justify="right")
    table.add_column("period", no_wrap=True)
    table.add_column("missing", justify="right")
    table.add_column("err", justify="right")
    table.add_column("warnings", overflow="fold")
    for rep in reports:
        st = rep.station
        cells = rep.rows * 17
        missing = f"{100 * rep.missing_cells / cells:.1f}%" if cells else "-"
        table.add_row(
            Path(rep.filename or "-").name,
            f"{st.station_id} {st.station_name}" if st else "-",
            rep.layout or "-",
            rep.encoding or "-",
            f"{rep.rows:,}",
            _period(rep),
            missing,
            f"[red]{len(rep.errors)}[/]" if rep.errors else "0",
            ", ".join(sorted({w.code for w in rep.warnings})) or "-",
        )
    console.print(table)
    for rep in reports:
        if rep.errors:
            console.print(f"[bold red]✗ {rep.filename}[/]")
            for issue in rep.errors:
                where = f"line {issue.line}: " if issue.line else ""
                console.print(f"    [red]{issue.code}[/] {where}{issue.message}")
            if rep.truncated:
                console.print(f"    … stopped after {len(rep.errors)} errors")
    valid = sum(r.valid for r in reports)
    console.print(f"{valid} of {len(reports)} file(s) valid.")


@app.command("validate")
def validate_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files, folders (searched for *.csv) or INMET .zip archives."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list for scripts.")] = False,
    max_errors: Annotated[
        int, typer.Option(min=1, help="Stop reading a file after this many errors.")
    ] = DEFAULT_MAX_ERRORS,
) -> None:
    """Check INMET yearly-archive station files before uploading them.

    Exit code 0 when every file is valid, 1 when any is invalid, 2 for a usage problem.
    """
    files = _input_files(paths)
    reports = _validate_all(files, max_errors, quiet=as_json)
    if as_json:
        sys.stdout.write(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
    else:
        print_report_table(reports)
    if not all(r.valid for r in reports):
        raise typer.Exit(1)


@app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into.")] = (
        DEFAULT_RAW_DIR
    ),
    stations: Annotated[int, typer.Option(min=1, max=999, help="Number of stations.")] = 5,
    year: Annotated[int, typer.Option(min=2000, max=2100, help="Data year.")] = 2024,
    layout: Annotated[
        str | None,
        typer.Option(help="A (≤2018 style) or B (≥2019 style); default follows the year."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 0,
) -> None:
    """Generate realistic INMET station-year files (both layouts, with INMET's quirks)."""
    if layout is not None and layout.upper() not in ("A", "B"):
        raise _fail(f"--layout must be A or B, not {layout!r}")
    chosen = layout.upper() if layout else None
    count = 0
    with _progress("generating") as progress:
        task = progress.add_task("synth", total=stations)
        for _path in generate_archive(out, stations=stations, year=year, seed=seed, layout=chosen):  # type: ignore[arg-type]
            count += 1
            progress.advance(task)
    console.print(f"wrote {count} station file(s) for {year} to {out}/")


def _env_default(name: str, fallback: str | None = None) -> str | None:
    import os

    return os.environ.get(name) or fallback


def _local_stack_key(url: str) -> str | None:
    """The running local stack's key (`inmet local up` prints it and keeps it in stack.json)."""
    from inmet_local.invoke import local_api_key

    return local_api_key(url)


ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url", help=f"Upload API base URL [env INMET_API_URL; default {DEFAULT_API_URL}]."
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="x-api-key [env INMET_API_KEY; default the running `inmet local up` stack's key].",
    ),
]


@app.command("upload")
def upload_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files, folders or INMET yearly .zip archives.")
    ],
    api_url: ApiUrlOption = None,
    api_key: ApiKeyOption = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight.")] = 8,
    retries: Annotated[
        int, typer.Option(min=1, max=20, help="Attempts per file on 429/503/connection errors.")
    ] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list for scripts.")] = (
        False
    ),
) -> None:
    """Upload station files to the API (one request per file, retried with backoff).

    Exit code 0 when every file was accepted or already there, 1 when any was rejected or
    failed, 2 for a usage problem.
    """
    url = api_url or _env_default("INMET_API_URL", DEFAULT_API_URL) or DEFAULT_API_URL
    key = api_key or _env_default("INMET_API_KEY") or _local_stack_key(url)
    files = _input_files(paths)
    with (
        ApiClient(url, key, max_attempts=retries) as client,
        _progress("uploading", disable=as_json) as progress,
    ):
        task = progress.add_task("upload", total=len(files))
        results = upload_many(client, files, concurrency, on_done=lambda _r: progress.advance(task))
    results.sort(key=lambda r: r.source)
    if as_json:
        sys.stdout.write(
            json.dumps([_outcome_dict(r) for r in results], ensure_ascii=False, indent=2) + "\n"
        )
    else:
        print_upload_summary(results, url)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _outcome_dict(result: UploadOutcome) -> dict[str, object]:
    return {
        "path": result.source,
        "outcome": result.outcome,
        "status_code": result.status_code,
        "upload_id": result.upload_id,
        "station_id": result.station_id,
        "rows": result.rows,
        "error": None
        if result.ok
        else {"code": result.code, "message": result.message, "line": result.line},
        "attempts": result.attempts,
    }


def print_upload_summary(results: list[UploadOutcome], api_url: str) -> None:
    table = Table(title=f"Uploads to {api_url}", title_justify="left")
    table.add_column("file", max_width=40, overflow="ellipsis", no_wrap=True)
    table.add_column("outcome")
    table.add_column("station")
    table.add_column("rows", justify="right")
    table.add_column("upload id / reason", overflow="fold")
    colours = {"accepted": "green", "duplicate": "cyan", "rejected": "red", "failed": "red"}
    for r in results:
        reason = (
            (r.upload_id or "")[:16]
            if r.ok
            else (f"{r.code or ''} {f'line {r.line}: ' if r.line else ''}{r.message or ''}").strip()
        )
        table.add_row(
            Path(r.source).name,
            f"[{colours[r.outcome]}]{r.outcome}[/]",
            r.station_id or "-",
            f"{r.rows:,}" if r.rows is not None else "-",
            reason,
        )
    console.print(table)
    counts = {k: sum(r.outcome == k for r in results) for k in colours}
    console.print(", ".join(f"{n} {k}" for k, n in counts.items()) + f" of {len(results)} file(s).")


@app.command("status")
def status_command(
    upload_id: Annotated[str, typer.Argument(help="The upload_id that POST /uploads returned.")],
    api_url: ApiUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Print an upload's status document (received → cleaned → exported, or failed)."""
    url = api_url or _env_default("INMET_API_URL", DEFAULT_API_URL) or DEFAULT_API_URL
    key = api_key or _env_default("INMET_API_KEY") or _local_stack_key(url)
    with ApiClient(url, key, max_attempts=1) as client:
        try:
            response = client.status(upload_id)
        except httpx.TransportError as exc:
            raise _fail(f"cannot reach {url}: {exc}") from exc
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise _fail(f"HTTP {response.status_code}: {message}", 1)
    sys.stdout.write(json.dumps(response.json(), ensure_ascii=False, indent=2) + "\n")


snowflake_app = typer.Typer(
    help="The Snowflake SQL project (snowflake_sql/).", no_args_is_help=True
)
app.add_typer(snowflake_app, name="snowflake")


@snowflake_app.command("check")
def snowflake_check() -> None:
    """Render every script and parse every statement with sqlglot's Snowflake dialect."""
    from inmet_local.sqlproject import (
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
        raise _fail(str(exc), 1) from exc
    local = sum(1 for s in rendered_statements(values) if snowflake_only_reason(s.sql) is None)
    console.print(
        f"[green]ok[/] {count} statements render and parse in the Snowflake dialect "
        f"({opaque} Snowflake-only commands parsed as opaque commands); {local} of them also "
        "run on the local warehouse."
    )


@snowflake_app.command("deploy")
def snowflake_deploy(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the rendered SQL in order; connect to nothing.")
    ] = False,
) -> None:
    """Apply snowflake_sql/ to the account in .env with schemachange (key-pair auth)."""
    import os
    import subprocess

    from inmet_local.sqlproject import (
        SQL_ROOT,
        SqlProjectError,
        environment,
        placeholder_settings,
        rendered_statements,
        variables,
    )

    try:
        values = variables()
        statements = list(rendered_statements(values))
    except SqlProjectError as exc:
        raise _fail(str(exc), 1) from exc
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
        raise _fail(
            "missing setting " + ", ".join(missing) + " (key-pair authentication; "
            "see .env.example and snowflake_sql/README.md)"
        )
    if placeholders := placeholder_settings(values):
        raise _fail(
            "these settings still hold the local placeholders, which a real account would "
            "keep forever (CREATE … IF NOT EXISTS): "
            + ", ".join(placeholders)
            + ". Set them in .env from the first sam deploy's outputs (snowflake_sql/README.md)."
        )
    schemachange = Path(sys.executable).with_name("schemachange")
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
    from inmet_local.sqlproject import BOOTSTRAP, SQL_ROOT, placeholder_settings, render, variables

    values = variables()
    script = (SQL_ROOT / BOOTSTRAP).read_text(encoding="utf-8")
    if placeholders := placeholder_settings(values, script):
        err_console.print(
            "[yellow]warning[/] the script still holds local placeholders: "
            + ", ".join(placeholders)
            + " (set them in .env before running it on an account)"
        )
    sys.stdout.write(render(BOOTSTRAP, values))


def main() -> None:  # pragma: no cover - console-script entry point
    app()


# ------------------------------------------------------------------------------------------------
# fetch and the local stack
# ------------------------------------------------------------------------------------------------

DEFAULT_OUT = Path("data/processed/inmet_clean.csv")


@app.command("fetch")
def fetch_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the CSV.")] = DEFAULT_OUT,
    source: Annotated[
        str,
        typer.Option("--from", help="s3 (the exported partitions) or snowflake (the export view)."),
    ] = "s3",
) -> None:
    """Write the contract CSV of CLEAN (CONTRACTS §3) to one local file, at constant memory."""
    from inmet_local.fetch import FetchError, fetch_from_s3, fetch_from_warehouse
    from inmet_pipeline.adapters.snowflake import SnowflakeSettings, connection
    from inmet_pipeline.errors import DependencyUnavailable
    from inmet_pipeline.settings import ConfigError, UploadSettings, load_settings

    if source not in ("s3", "snowflake"):
        raise _fail(f"--from must be s3 or snowflake, not {source!r}")
    try:
        with _progress("fetching") as progress:
            task = progress.add_task("fetch", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            if source == "s3":
                import boto3

                storage = load_settings(UploadSettings)
                s3 = boto3.client("s3", **storage.client_kwargs())
                result = fetch_from_s3(s3, storage.s3_bucket, out, advance)
            else:
                warehouse = load_settings(SnowflakeSettings)
                result = fetch_from_warehouse(
                    connection(warehouse), warehouse.view, out, progress=advance
                )
    except (ConfigError, FetchError, DependencyUnavailable) as exc:
        raise _fail(str(exc), 1) from exc
    console.print(f"wrote {result.rows:,} rows ({result.bytes / 1e6:.1f} MB) to {out}")


local_app = typer.Typer(
    help="The whole pipeline on this machine (moto, fakesnow, uvicorn).", no_args_is_help=True
)
app.add_typer(local_app, name="local")

DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir", help="Where the warehouse, the pipe's work files and the logs live."
    ),
]
PortOption = Annotated[int, typer.Option("--port", help="Port of the upload API on 127.0.0.1.")]


def _check_dotenv() -> None:
    """The local default needs no .env; a .env that is present must be valid."""
    import os

    from pydantic import ValidationError

    from inmet_pipeline.settings import AwsSettings

    env_file = Path(os.environ.get("INMET_ENV_FILE", ".env"))
    if not env_file.exists():
        return
    try:
        AwsSettings(_env_file=env_file)
    except ValidationError as exc:
        names = ", ".join(str(e["loc"][0]).upper() for e in exc.errors())
        raise _fail(f"{env_file} has invalid settings: {names}") from exc
    for number, line in enumerate(env_file.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if text and not text.startswith("#") and "=" not in text:
            raise _fail(f"{env_file} line {number}: expected NAME=value, got {text[:40]!r}")


@local_app.command("up")
def local_up(port: PortOption = 8000, data_dir: DataDirOption = Path(".local")) -> None:
    """Start the local stack and keep it running until Ctrl-C (or SIGTERM)."""
    import signal
    import threading

    from inmet_local.servers import ServerError
    from inmet_local.stack import LocalStack

    _check_dotenv()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stack = LocalStack(data_dir, port=port)
    try:
        stack.start(say=lambda text: console.print(text, highlight=False))
    except ServerError as exc:
        raise _fail(str(exc), 1) from exc
    try:
        console.print(f"ready: http://127.0.0.1:{port}", highlight=False)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        console.print("stopping …")
        stack.stop()
        console.print("stopped.")


@local_app.command("run")
def local_run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files to upload (default data/raw/; a generated sample when it is empty)."
        ),
    ] = None,
    upload: Annotated[
        bool,
        typer.Option(
            "--upload",
            help="Upload the files and run them through "
            "the pipeline (the seed's pipeline.sh --upload).",
        ),
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Where inmet_clean.csv goes.")] = DEFAULT_OUT,
    data_dir: DataDirOption = Path(".local"),
    port: PortOption = 8000,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the uploads to be exported.")
    ] = 600.0,
) -> None:
    """The seed's pipeline.sh: start the stack; with --upload, send the files, wait until each
    is exported, fetch inmet_clean.csv and summarise. Without --upload it only starts the stack
    (Ctrl-C stops it)."""
    from inmet_local.runner import run_pipeline

    _check_dotenv()
    if not upload:
        local_up(port=port, data_dir=data_dir)
        return
    code = run_pipeline(
        paths or [DEFAULT_RAW_DIR],
        out=out,
        data_dir=data_dir,
        port=port,
        timeout=timeout,
        console=console,
        err_console=err_console,
    )
    raise typer.Exit(code)


@local_app.command("invoke")
def local_invoke(
    function: Annotated[
        str, typer.Argument(help="Logical id in template.yaml, e.g. UploadFunction.")
    ],
    event: Annotated[
        Path,
        typer.Option("--event", "-e", help="The event JSON (see events/).", exists=True),
    ],
    data_dir: DataDirOption = Path(".local"),
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
    from inmet_local.invoke import (
        InvokeError,
        function_spec,
        invocation_env,
        invoke,
        stack_state,
    )

    try:
        state = stack_state(data_dir)
        spec = function_spec(function, names=state.get("names", {}))
        env = invocation_env(spec, state["env"], env_vars)
        result = invoke(function, event, env, built=built, stream_logs=True)
    except InvokeError as exc:
        raise _fail(str(exc), 2) from exc
    sys.stdout.write(json.dumps(result.result, ensure_ascii=False, indent=2) + "\n")
    if not result.ok:
        err_console.print(f"[red]{function} raised {result.result['errorType']}[/]")
        raise typer.Exit(1)


@app.command("train")
def train_command(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="An inmet_clean.csv (default "
            "data/processed/inmet_clean.csv; a generated "
            "sample when it does not exist).",
        ),
    ] = None,
    station: Annotated[
        list[str] | None, typer.Option("--station", help="Only these stations (repeat the option).")
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            help="MLflow tracking URI [env MLFLOW_TRACKING_URI; default a local "
            "store under ./mlruns].",
        ),
    ] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment.")] = (
        "inmet-next-hour-temperature"
    ),
    model_name: Annotated[str, typer.Option(help="Registered model name.")] = (
        "inmet-next-hour-temperature"
    ),
) -> None:
    """Train the next-hour air-temperature model on CLEAN and log it to MLflow.

    The last line printed is a JSON object (run_id, mae_model, mae_persistence,
    mae_climatology, …) for scripts.
    """
    from inmet_local.ml.data import load_clean, load_or_sample
    from inmet_local.ml.train import default_tracking_uri, train

    try:
        if data is not None:
            if not data.exists():
                raise _fail(f"{data}: no such file")
            frame, source = load_clean(data), str(data)
        else:
            frame, source = load_or_sample()
        uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
        err_console.print(f"training on {source} ({len(frame):,} rows); tracking: {uri}")
        result = train(
            frame,
            stations=station,
            tracking_uri=uri,
            experiment=experiment,
            model_name=model_name,
            data_source=source,
        )
    except ValueError as exc:
        raise _fail(str(exc), 1) from exc
    sys.stdout.write(json.dumps(result) + "\n")


compose_app = typer.Typer(
    help="The experiments stack (local/compose.yml: MLflow, MySQL, "
    "MinIO, Jupyter); needs a Docker engine.",
    no_args_is_help=True,
)
local_app.add_typer(compose_app, name="compose")


def _compose(*args: str) -> None:
    import shutil
    import subprocess

    from inmet_local.template import REPO_ROOT

    docker = shutil.which("docker")
    if docker is None:
        raise _fail(
            "docker is not installed. Without Docker, train with `inmet train` (runs go "
            "to ./mlruns) and open the notebooks in local/notebooks/ with Jupyter.",
            1,
        )
    env_file = REPO_ROOT / ".env"
    if not env_file.exists():
        raise _fail(
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
        raise _fail(
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
    service: Annotated[str | None, typer.Argument(help="mlflow, mysql, minio or jupyter.")] = (
        None
    ),
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
) -> None:
    """The seed's `docker compose logs …`."""
    _compose("logs", *(["--follow"] if follow else []), *([service] if service else []))
