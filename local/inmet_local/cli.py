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
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Powertools reads these when a module creates its Logger: set them before any import of
# the functions' code (as SAM's Globals do in AWS).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "inmet-pipeline")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InmetPipeline")

from inmet_local.client import ApiClient, UploadOutcome, upload_many
from inmet_local.discovery import (
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    StackInfo,
    StackNotFound,
    configured,
    read_stack,
)
from inmet_local.sample import SAMPLE_DIR
from inmet_local.sources import InputFile, SourceError, iter_input_files
from inmet_local.synth import generate_archive
from inmet_local.text import issue_text
from inmet_pipeline.reader import DEFAULT_MAX_ERRORS, Issue, ValidationReport, validate

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
# Piped output (CI logs, `| less`) gets a fixed wide layout instead of rich's 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)
err_console = Console(stderr=True, soft_wrap=True)


def _input_files(paths: list[Path]) -> list[InputFile]:
    """The station files under ``paths``, or a usage error (exit 2) that says why not."""
    try:
        files = list(iter_input_files(paths))
    except SourceError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"{exc.filename or paths[0]}: cannot read ({exc.strerror or exc})") from exc
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
    # Escaped: messages quote paths and file contents, where "[…]" is not rich markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
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
    # Wrapped, never cut: the end of an INMET file name (its period) is what tells files apart.
    table.add_column("file", overflow="fold")
    table.add_column("station", overflow="fold")
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
            escape(Path(rep.filename or "-").name),
            escape(f"{st.station_id} {st.station_name}") if st else "-",
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
            console.print(f"[bold red]✗ {escape(rep.filename or '-')}[/]")
            for issue in rep.errors:
                console.print(
                    "    " + issue_text(issue.code, issue.message, issue.line),
                    markup=False,  # messages quote the file's own text, brackets included
                    highlight=False,
                )
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
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder to write the files into; a GENERATED_BY_INMET_SYNTH.json there lists "
            "them, so they are never taken for real data.",
        ),
    ] = SAMPLE_DIR,
    stations: Annotated[int, typer.Option(min=1, max=999, help="Number of stations.")] = 5,
    year: Annotated[int, typer.Option(min=2000, max=2100, help="Data year.")] = 2024,
    layout: Annotated[
        str | None,
        typer.Option(help="A (≤2018 style) or B (≥2019 style); default follows the year."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 0,
) -> None:
    """Generate realistic INMET station-year files (both layouts, with INMET's quirks).

    Generated, not real: they go to data/sample/ by default (data/raw/ is for your own files)
    and are listed in the folder's GENERATED_BY_INMET_SYNTH.json marker.
    """
    from inmet_local.sample import MARKER, mark_generated

    if layout is not None and layout.upper() not in ("A", "B"):
        raise _fail(f"--layout must be A or B, not {layout!r}")
    chosen = layout.upper() if layout else None
    written: list[Path] = []
    try:
        with _progress("generating") as progress:
            task = progress.add_task("synth", total=stations)
            for path in generate_archive(
                out,
                stations=stations,
                year=year,
                seed=seed,
                layout=chosen,  # type: ignore[arg-type]
            ):
                written.append(path)
                progress.advance(task)
        mark_generated(out, written)
    except OSError as exc:
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}", 1) from exc
    console.print(
        f"wrote {len(written)} generated station file(s) for {year} to {out}/ "
        f"(listed in {out / MARKER}: not real data)",
        highlight=False,
    )


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
    str | None,
    typer.Option(
        "--auth",
        envvar="INMET_API_AUTH",
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


def _signer(auth: str | None, url: str) -> httpx.Auth | None:
    """The request signer for --auth (None for the API key)."""
    mode = (auth or configured("INMET_API_AUTH") or "key").lower()
    if mode == "key":
        return None
    if mode != "iam":
        raise _fail(f"--auth must be key or iam, not {mode!r}")
    import os

    from inmet_local.signing import (
        CredentialsMissingError,
        SigV4HttpxAuth,
        default_credentials,
        region_of,
    )

    region = region_of(url) or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise _fail(f"--auth iam: cannot tell the region from {url}; set AWS_REGION")
    try:
        return SigV4HttpxAuth(default_credentials(), region)
    except CredentialsMissingError as exc:
        raise _fail(str(exc)) from exc


def _using(what: str) -> None:
    """Which pipeline a command talks to, on stderr (stdout stays clean for --json)."""
    err_console.print(f"using {what}", highlight=False, style="dim")


def _api_target(api_url: str | None, api_key: str | None, data_dir: Path) -> tuple[str, str | None]:
    """(URL, key) of the upload API, by discovery's precedence: --api-url / INMET_API_URL
    (environment or .env), else the local stack running with --data-dir, else an error."""
    url = api_url or configured("INMET_API_URL")
    if url and not url.startswith(("http://", "https://")):
        raise _fail(f"--api-url / INMET_API_URL must start with http:// or https://, not {url!r}")
    if url:
        _using(f"the upload API at {url} (--api-url / INMET_API_URL)")
        return url, api_key or configured("INMET_API_KEY")
    try:
        stack = read_stack(data_dir)
    except StackNotFound as exc:
        raise _fail(f"{exc}; or point at an API with --api-url or INMET_API_URL", 1) from exc
    _using(stack.describe())
    # The stack's own key when it has one (it is the key that works there; a key in .env is
    # for the deployed API), else whatever was given.
    return stack.api_url, stack.api_key or api_key


@app.command("upload")
def upload_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files, folders or INMET yearly .zip archives.")
    ],
    api_url: ApiUrlOption = None,
    api_key: ApiKeyOption = None,
    auth: AuthOption = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight.")] = 8,
    retries: Annotated[
        int, typer.Option(min=1, max=20, help="Attempts per file on 429/503/connection errors.")
    ] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list for scripts.")] = (
        False
    ),
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Upload station files to the API (one request per file, retried with backoff).

    Sends to --api-url / INMET_API_URL when set, else to the local stack running with
    --data-dir (`inmet local up`). A failed upload is started over by uploading it again.

    Exit code 0 when every file was accepted or already there, 1 when any was rejected or
    failed, 2 for a usage problem.
    """
    from inmet_local.sample import is_generated

    files = _input_files(paths)
    url, key = _api_target(api_url, api_key, data_dir)
    generated = sum(1 for f in files if is_generated(f))
    if generated:
        err_console.print(
            f"[yellow]note:[/] {generated} of these {len(files)} file(s) are generated samples "
            "(listed in a GENERATED_BY_INMET_SYNTH.json), not real INMET data",
            highlight=False,
        )
    signer = _signer(auth, url)
    with (
        ApiClient(url, key, max_attempts=retries, auth=signer) as client,
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
    if results and all(r.outcome == "failed" and r.status_code is None for r in results):
        raise _fail(f"cannot reach the upload API at {url}: {results[0].message}", 1)
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
    table.add_column("file", overflow="fold")
    table.add_column("outcome")
    table.add_column("station")
    table.add_column("rows", justify="right")
    # 16 characters: a unique prefix, which `inmet status` accepts (as git accepts short ids).
    table.add_column("upload id / reason", overflow="fold")
    colours = {"accepted": "green", "duplicate": "cyan", "rejected": "red", "failed": "red"}
    for r in results:
        reason = (r.upload_id or "")[:16] if r.ok else issue_text(r.code, r.message, r.line)
        table.add_row(
            escape(Path(r.source).name),
            f"[{colours[r.outcome]}]{r.outcome}[/]",
            escape(r.station_id or "-"),
            f"{r.rows:,}" if r.rows is not None else "-",
            escape(reason),
        )
    console.print(table)
    counts = {k: sum(r.outcome == k for r in results) for k in colours}
    console.print(", ".join(f"{n} {k}" for k, n in counts.items()) + f" of {len(results)} file(s).")


@app.command("status")
def status_command(
    upload_id: Annotated[
        str,
        typer.Argument(
            help="The upload_id that POST /uploads returned, or a unique prefix of it (at "
            "least 4 characters, as `inmet upload` prints them)."
        ),
    ],
    api_url: ApiUrlOption = None,
    api_key: ApiKeyOption = None,
    auth: AuthOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Print an upload's status document (received → exported, or failed).

    Asks --api-url / INMET_API_URL when set, else the local stack running with --data-dir.
    """
    url, key = _api_target(api_url, api_key, data_dir)
    with ApiClient(url, key, max_attempts=1, auth=_signer(auth, url)) as client:
        try:
            response = client.status(upload_id.strip().lower())
        except httpx.TransportError as exc:
            raise _fail(f"cannot reach {url}: {exc}", 1) from exc
    if response.status_code != 200:
        try:
            error = response.json()["error"]
            message = str(error["message"])
        except (ValueError, KeyError, TypeError):
            error, message = {}, response.text[:200]
        candidates = [
            f"{d.get('upload_id', '')[:16]} {d.get('filename') or ''}".strip()
            for d in (error.get("details") or [])
            if isinstance(d, dict) and d.get("upload_id")
        ]
        raise _fail(
            f"HTTP {response.status_code}: {message}"
            + (f" Candidates: {'; '.join(candidates)}" if candidates else ""),
            1,
        )
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
    if not schemachange.exists():
        raise _fail(
            f"{schemachange} is missing: run `make install` (schemachange is a dev tool)", 1
        )
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


aws_app = typer.Typer(
    help="Operations on a deployed stack (AWS credentials from the shell).", no_args_is_help=True
)
app.add_typer(aws_app, name="aws")


@aws_app.command("redrive")
def aws_redrive(
    queue_url: Annotated[
        str | None,
        typer.Option(
            "--queue-url", help="The dead-letter queue (output ExportDeadLetterQueueUrl)."
        ),
    ] = None,
    stack: Annotated[
        str | None, typer.Option("--stack", help="Read the queue URL from this stack's outputs.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be replayed; change nothing.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Replay at most this many messages.")
    ] = None,
) -> None:
    """Replay the failed invocations in the dead-letter queue to the functions they came from.

    Each message is Lambda's on-failure record; its original event is invoked again
    asynchronously and the message deleted once Lambda accepted it. Exit code 0 when every
    message was replayed, 1 when any was skipped or refused, 2 for a usage problem.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from inmet_local.redrive import redrive

    if bool(queue_url) == bool(stack):
        raise _fail("give exactly one of --queue-url or --stack")
    try:
        if stack:
            outputs = (
                boto3.client("cloudformation")
                .describe_stacks(StackName=stack)["Stacks"][0]
                .get("Outputs", [])
            )
            found = {o["OutputKey"]: o["OutputValue"] for o in outputs}
            queue_url = found.get("ExportDeadLetterQueueUrl")
            if not queue_url:
                raise _fail(f"stack {stack} has no output ExportDeadLetterQueueUrl")
        assert queue_url is not None
        report = redrive(
            boto3.client("sqs"),
            boto3.client("lambda"),
            queue_url,
            dry_run=dry_run,
            limit=limit,
            on_message=lambda outcome, detail: err_console.print(f"{outcome}: {detail}"),
        )
    except (BotoCoreError, ClientError) as exc:
        raise _fail(f"AWS refused the redrive: {exc}", 1) from exc
    verb = "would replay" if dry_run else "replayed"
    console.print(
        f"{verb} {len(report.replayed)}, skipped {len(report.skipped)}, "
        f"refused {len(report.failed)} of {report.seen} message(s) in {queue_url}"
    )
    if report.skipped or report.failed:
        raise typer.Exit(1)


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
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Write the contract CSV of CLEAN (docs/contracts.md §3) to one local file, at constant memory.

    Reads, by the same precedence as every command: --from s3 the bucket S3_BUCKET names
    (environment or .env, AWS or any endpoint AWS_ENDPOINT_URL gives); --from snowflake the
    account SNOWFLAKE_ACCOUNT names (or INMET_SNOWFLAKE_LOCAL_URL); when those are not set,
    the local stack running with --data-dir (`inmet local up`), with no setting at all.
    The CSV is written whole or not at all; an existing one is replaced (and the summary says
    so).
    """
    from inmet_local.fetch import FetchError, fetch_from_s3, fetch_from_warehouse
    from inmet_local.local_adapter import LocalSnowflakeSettings as SnowflakeSettings
    from inmet_pipeline.adapters.snowflake import connection
    from inmet_pipeline.errors import DependencyUnavailable
    from inmet_pipeline.settings import ConfigError, UploadSettings, load_settings

    if source not in ("s3", "snowflake"):
        raise _fail(f"--from must be s3 or snowflake, not {source!r}")
    explicit = (
        configured("S3_BUCKET")
        if source == "s3"
        else configured("SNOWFLAKE_ACCOUNT") or configured("INMET_SNOWFLAKE_LOCAL_URL")
    )
    stack: StackInfo | None = None
    if not explicit:
        try:
            stack = read_stack(data_dir)
        except StackNotFound as exc:
            names = "S3_BUCKET" if source == "s3" else "SNOWFLAKE_ACCOUNT"
            raise _fail(
                f"{exc}; or set {names} (environment or .env) to fetch from a deployed pipeline",
                1,
            ) from exc
        _using(f"{stack.describe()}, --from {source}")
    else:
        _using(f"{'S3_BUCKET' if source == 's3' else 'the Snowflake account'} {explicit}")
    replacing = out.exists()
    try:
        with _progress("fetching") as progress:
            task = progress.add_task("fetch", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            if source == "s3":
                import boto3
                import botocore.exceptions

                if stack is not None:
                    s3 = boto3.client("s3", **stack.aws_client_kwargs())
                    bucket = stack.bucket
                else:
                    storage = load_settings(UploadSettings)
                    s3 = boto3.client("s3", **storage.client_kwargs())
                    bucket = storage.s3_bucket
                try:
                    result = fetch_from_s3(s3, bucket, out, advance)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                    raise FetchError(f"s3://{bucket}: {e}") from e
            else:
                if stack is not None:
                    warehouse = load_settings(
                        SnowflakeSettings,
                        inmet_snowflake_local_url=stack.env["INMET_SNOWFLAKE_LOCAL_URL"],
                        snowflake_database=stack.env.get("SNOWFLAKE_DATABASE", "INMET"),
                    )
                else:
                    warehouse = load_settings(SnowflakeSettings)
                result = fetch_from_warehouse(
                    connection(warehouse), warehouse.view, out, progress=advance
                )
    except (ConfigError, FetchError, DependencyUnavailable) as exc:
        raise _fail(str(exc), 1) from exc
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}", 1) from exc
    console.print(
        f"wrote {result.rows:,} rows of {result.partitions} station-year(s) "
        f"({result.bytes / 1e6:.1f} MB) to {out}"
        + ("; replaced the previous file" if replacing else "")
        + _origin(stack),
        highlight=False,
    )


def _origin(stack: StackInfo | None) -> str:
    """What the fetched rows are: generated (the sample's stack) or the user's own."""
    if stack is None:
        return ""
    if stack.sample:
        return "; all from the generated sample (not real data)"
    return "; from the files uploaded to this stack since it started"


local_app = typer.Typer(
    help="The whole pipeline on this machine (moto, fakesnow, uvicorn).", no_args_is_help=True
)
app.add_typer(local_app, name="local")

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
def local_up(port: PortOption = 8000, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Start the local stack and keep it running until Ctrl-C (or SIGTERM).

    While it runs, `inmet upload`, `status`, `fetch` and `local invoke` find it through
    <data-dir>/stack.json, with no setting to export. The warehouse in <data-dir> persists
    between runs; `inmet local reset` deletes it.
    """
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
            help="Files to upload (default: data/raw/; when it has no station files, the "
            "generated sample in data/sample/, on a warehouse of its own)."
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
        paths or None,
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
    from inmet_local.invoke import (
        InvokeError,
        function_spec,
        invocation_env,
        invoke,
        stack_state,
    )

    if not event.is_file():
        raise _fail(f"--event {event}: no such file")
    try:
        state = stack_state(data_dir)
        spec = function_spec(function, names=state.get("names", {}))
        env = invocation_env(spec, state["env"], env_vars)
        _using(f"the local stack in {data_dir} (pid {state['pid']}, {state['api_url']})")
        result = invoke(function, event, env, built=built, stream_logs=True)
    except InvokeError as exc:
        raise _fail(str(exc), 2) from exc
    sys.stdout.write(json.dumps(result.result, ensure_ascii=False, indent=2) + "\n")
    if not result.ok:
        raise _fail(
            f"{function} raised {result.result.get('errorType')}: "
            f"{result.result.get('errorMessage')}",
            1,
        )
    failure = _handler_failure(result.result)
    if failure:
        raise _fail(f"{function} returned {failure}", 1)


def _handler_failure(answer: object) -> str | None:
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
    """Start over: delete the local stack's data dir (warehouse, pipe history, logs, and the
    generated sample's own warehouse in <data-dir>/sample) and the generated sample in
    data/sample/. Your files in data/raw/ and the CSV in data/processed/ are kept.

    Refused while a stack runs on the data dir.
    """
    import shutil

    from inmet_local.discovery import DataDirInUse, DataDirLock
    from inmet_local.sample import MARKER

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
        raise _fail(str(exc), 1) from exc
    try:
        if not yes and not typer.confirm(
            "delete " + " and ".join(str(t) for t in targets) + "?", default=False
        ):
            raise _fail("nothing deleted", 1)
        for target in targets:
            shutil.rmtree(target)
    except OSError as exc:
        raise _fail(f"cannot delete {exc.filename}: {exc.strerror}", 1) from exc
    finally:
        for lock in locks:
            lock.release()
    console.print("deleted " + ", ".join(f"{t}/" for t in targets), highlight=False)


@app.command("train")
def train_command(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="An inmet_clean.csv, the cleaned CSV `inmet fetch` writes (default "
            "data/processed/inmet_clean.csv here or in a folder above; a generated "
            "sample when there is none).",
        ),
    ] = None,
    station: Annotated[
        list[str] | None, typer.Option("--station", help="Only these stations (repeat the option).")
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            # Not envvar=: train reads MLFLOW_TRACKING_URI itself, to say where a refused
            # value came from.
            help="MLflow tracking URI: sqlite:///PATH or http://HOST:PORT. Default: the "
            "MLFLOW_TRACKING_URI environment variable, else sqlite under ./mlruns. MLflow 3 "
            "refuses file: stores.",
            show_default=False,
        ),
    ] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment.")] = (
        "inmet-next-hour-temperature"
    ),
    model_name: Annotated[str, typer.Option(help="Registered model name.")] = (
        "inmet-next-hour-temperature"
    ),
    max_iter: Annotated[
        int, typer.Option("--max-iter", min=10, help="Boosting iterations (trees).")
    ] = 300,
) -> None:
    """Train the next-hour air-temperature model on CLEAN and log it to MLflow.

    Every station is split on its own series (its last 20% for test); metrics per station and
    overall, against persistence and climatology. Progress goes to stderr; the last line on
    stdout is a JSON object (run_id, mae_model, mae_persistence, stations, …) for scripts.
    """
    import time

    from rich.progress import TaskID

    from inmet_local.ml.data import file_sha256, find_clean_csv, load_clean, sample_clean
    from inmet_local.ml.train import check_tracking_uri, default_tracking_uri, train

    try:
        if tracking_uri is None and os.environ.get("MLFLOW_TRACKING_URI"):
            tracking_uri = os.environ["MLFLOW_TRACKING_URI"]
            where = " (from MLFLOW_TRACKING_URI)"
        else:
            where = ""
        if tracking_uri is not None:
            try:
                check_tracking_uri(tracking_uri)
            except ValueError as exc:
                raise _fail(f"{exc}{where}", 2) from exc
        path = data if data is not None else find_clean_csv()
        sha256 = None
        if path is not None:
            if not path.exists():
                raise _fail(f"{path}: no such file; `inmet fetch` writes the cleaned CSV")
            with err_console.status(f"reading {path}"):
                frame, source = load_clean(path), str(path)
                sha256 = file_sha256(path)
        else:
            frame = sample_clean()
            source = "generated sample (no data/processed/inmet_clean.csv yet: run make demo)"
        uri = tracking_uri or default_tracking_uri()
        err_console.print(f"training on {source} ({len(frame):,} rows); tracking: {uri}")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as progress:
            tasks: dict[str, TaskID] = {}
            started = time.monotonic()

            def report(step: str, done: int, total: int) -> None:
                # A bar on a terminal (one task per step, the previous one removed); one line
                # per step (at its end) in logs and pipes.
                if step not in tasks:
                    for previous in tasks.values():
                        progress.remove_task(previous)
                    tasks.clear()
                    tasks[step] = progress.add_task(step, total=total or None)
                progress.update(tasks[step], completed=done)
                if not err_console.is_terminal and (total == 0 or done == total):
                    count = f" {done}/{total}" if total else ""
                    elapsed = time.monotonic() - started
                    err_console.print(f"  {elapsed:5.1f} s  {step}{count}")

            result = train(
                frame,
                stations=station,
                tracking_uri=uri,
                experiment=experiment,
                model_name=model_name,
                data_source=source,
                data_sha256=sha256,
                max_iter=max_iter,
                progress=report,
            )
    except ValueError as exc:
        raise _fail(str(exc), 1) from exc
    for station_id, reason in result["skipped_stations"].items():
        err_console.print(f"[yellow]skipped station {station_id}:[/] {reason}")
    for baseline, stations in result["baselines_not_computed"].items():
        for station_id, reason in stations.items():
            err_console.print(f"[yellow]{baseline} not computed for {station_id}:[/] {reason}")
    gain = result["improvement_vs_persistence"]
    err_console.print(
        f"model MAE {result['mae_model']:.3f} °C, persistence {result['mae_persistence']:.3f} "
        f"°C (improvement over persistence {gain:+.1%}); run {result['run_id']}"
    )
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


compose_app = typer.Typer(
    help="The experiments stack (local/compose.yml: MLflow, MySQL, "
    "MinIO, Jupyter); needs a Docker engine.",
    no_args_is_help=True,
)
local_app.add_typer(compose_app, name="compose")


_WITHOUT_DOCKER = (
    "Without Docker: `inmet train` tracks runs in ./mlruns (SQLite), or in any MLflow server "
    "given by MLFLOW_TRACKING_URI (e.g. one backed by MariaDB, as the README describes); the "
    "notebooks in local/notebooks/ run in any Jupyter."
)


def _docker_compose_ready() -> str:
    """The docker binary, once the engine and the compose plugin are known to answer; else a
    one-line error saying which is missing and what to use instead. Checked before anything
    else (.env, the compose file), so the first message is the real obstacle."""
    import shutil
    import subprocess

    docker = shutil.which("docker")
    if docker is None:
        raise _fail(f"docker is not installed (not on PATH). {_WITHOUT_DOCKER}", 1)

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
        raise _fail(
            f"the Docker compose plugin is missing (`docker compose version`: {detail}). "
            f"Install docker-compose-plugin. {_WITHOUT_DOCKER}",
            1,
        )
    ok, detail = answers("info", "--format", "{{.ServerVersion}}")
    if not ok:
        raise _fail(
            f"the Docker engine is not running or not reachable (`docker info`: {detail}). "
            f"{_WITHOUT_DOCKER}",
            1,
        )
    return docker


def _compose(*args: str) -> None:
    import subprocess

    from inmet_local.template import REPO_ROOT

    docker = _docker_compose_ready()
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
