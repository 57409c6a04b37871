"""`inmet fetch`: the contract CSV of CLEAN (docs/contracts.md §3) to one local file; with
--daily, the daily values' CSV (§3.3)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.progress import Progress, TextColumn

from inmet_local.cli.options import (
    DataDirOption,
    FetchSource,
    choice_metavar,
    choice_parser,
)
from inmet_local.cli.output import console, err_console, fail, progress_bar, using
from inmet_local.client.pending import describe
from inmet_local.workspace.discovery import (
    DEFAULT_DATA_DIR,
    StackInfo,
    StackNotFound,
    configured,
    read_stack,
)

DEFAULT_OUT = Path("data/processed/inmet_clean.csv")
DEFAULT_DAILY_OUT = Path("data/processed/inmet_daily.csv")


def fetch_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=f"Where to write the CSV (default {DEFAULT_OUT}, or {DEFAULT_DAILY_OUT} "
            "with --daily).",
        ),
    ] = None,
    daily: Annotated[
        bool,
        typer.Option(
            "--daily",
            help="Fetch the daily values (one row per station and local date, with each "
            "value's count of valid hours) instead of the hourly observations.",
        ),
    ] = False,
    source: Annotated[
        FetchSource,
        typer.Option(
            "--from",
            parser=choice_parser(FetchSource, "--from"),
            metavar=choice_metavar(FetchSource),
            help="s3 (the exported partitions) or snowflake (the export view, or the daily "
            "table with --daily).",
        ),
    ] = FetchSource.S3,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace --out even when it has station-years this fetch does not (by default "
            "such a file is kept and the fetch refused).",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="When uploads are still pending, wait until each is exported or failed (with "
            "progress), then fetch.",
        ),
    ] = False,
    wait_timeout: Annotated[
        float,
        typer.Option("--wait-timeout", min=1, help="How long --wait waits at most."),
    ] = 900.0,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="Write what is exported now even while uploads are pending (the summary says "
            "how many are missing).",
        ),
    ] = False,
) -> None:
    """Write the contract CSV of CLEAN (docs/contracts.md §3) to one local file, at constant memory.

    With --daily, the daily values instead (docs/contracts.md §3.3: one row per station and
    local date, an incomplete day's value empty beside its count of valid hours), to
    data/processed/inmet_daily.csv, by the same rules.

    Reads, by the same precedence as every command: --from s3 the bucket S3_BUCKET names
    (environment or .env, AWS or any endpoint AWS_ENDPOINT_URL gives); --from snowflake the
    account SNOWFLAKE_ACCOUNT names (or INMET_SNOWFLAKE_LOCAL_URL); when those are not set,
    the local stack running with --data-dir (`inmet local up`), with no setting at all.
    The CSV is written whole or not at all. It never looks complete when it is not: while
    uploads are still pending (received, not yet exported) the fetch stops with exit code 3 and
    says how many, unless --wait (wait for them) or --partial (write what is there). It never
    hands over less than it replaces: an existing --out with station-years this fetch lacks is
    kept (exit 1) unless --force.
    """
    from inmet_local.client.fetch import (
        DAILY,
        HOURLY,
        FetchError,
        fetch_from_s3,
        fetch_from_warehouse,
        never_shrink,
        warehouse_source,
    )
    from inmet_pipeline.adapters.snowflake import connection
    from inmet_pipeline.errors import DependencyUnavailable
    from inmet_pipeline.settings import ConfigError

    explicit = (
        configured("S3_BUCKET")
        if source is FetchSource.S3
        else configured("SNOWFLAKE_ACCOUNT") or configured("INMET_SNOWFLAKE_LOCAL_URL")
    )
    stack: StackInfo | None = None
    if not explicit:
        try:
            stack = read_stack(data_dir)
        except StackNotFound as exc:
            names = "S3_BUCKET" if source is FetchSource.S3 else "SNOWFLAKE_ACCOUNT"
            raise fail(
                f"{exc}; or set {names} (environment or .env) to fetch from a deployed pipeline",
                1,
            ) from exc
        using(f"{stack.describe()}, --from {source}")
    else:
        using(f"{'S3_BUCKET' if source is FetchSource.S3 else 'the Snowflake account'} {explicit}")
    if wait and partial:
        raise fail("--wait and --partial exclude each other: choose one")
    pending = _settle(stack, wait=wait, timeout=wait_timeout)
    if pending and not partial:
        raise fail(
            f"{describe(pending)}: the CSV would miss them, so nothing was written. Wait for "
            "them with --wait (or check with `inmet status`), or write what is exported now "
            "with --partial",
            3,
        )
    dataset = DAILY if daily else HOURLY
    if out is None:
        out = DEFAULT_DAILY_OUT if daily else DEFAULT_OUT
    replacing = out.exists()
    guard = never_shrink(out, force, dataset=dataset)
    try:
        with progress_bar("fetching") as progress:
            task = progress.add_task("fetch", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            if source is FetchSource.S3:
                import botocore.exceptions

                s3, bucket = _aws(stack, "s3")
                try:
                    result = fetch_from_s3(s3, bucket, out, advance, guard=guard, dataset=dataset)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                    raise FetchError(f"s3://{bucket}: {e}") from e
            else:
                warehouse = warehouse_settings(stack)
                result = fetch_from_warehouse(
                    connection(warehouse),
                    warehouse_source(dataset, warehouse.view, warehouse.clean),
                    out,
                    progress=advance,
                    guard=guard,
                    dataset=dataset,
                )
    except (ConfigError, FetchError, DependencyUnavailable) as exc:
        raise fail(str(exc), 1) from exc
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", 1) from exc
    what = "daily rows" if daily else "rows"
    console.print(
        f"wrote {result.rows:,} {what} of {result.partitions} station-year(s) "
        f"({result.bytes / 1e6:.1f} MB) to {out}"
        + ("; replaced the previous file" if replacing else "")
        + _origin(stack, source, daily),
        highlight=False,
    )
    if pending:
        err_console.print(
            f"[yellow]partial:[/] {describe(pending)}; fetch again when they are exported",
            highlight=False,
        )


def warehouse_settings(stack: StackInfo | None) -> Any:
    """The warehouse to read: the local stack's when ``stack`` is given, else the Snowflake
    account (or INMET_SNOWFLAKE_LOCAL_URL) the environment or .env names."""
    from inmet_local.emulator.local_adapter import LocalSnowflakeSettings
    from inmet_pipeline.settings import load_settings

    if stack is not None:
        return load_settings(
            LocalSnowflakeSettings,
            inmet_snowflake_local_url=stack.env["INMET_SNOWFLAKE_LOCAL_URL"],
            inmet_local_warehouse_password=stack.env.get("INMET_LOCAL_WAREHOUSE_PASSWORD"),
            snowflake_database=stack.env.get("SNOWFLAKE_DATABASE", "INMET"),
        )
    return load_settings(LocalSnowflakeSettings)


def _origin(stack: StackInfo | None, source: FetchSource, daily: bool = False) -> str:
    """What the fetched rows are, as each source really has them."""
    if source is FetchSource.SNOWFLAKE:
        where = f"the warehouse in {stack.data_dir}" if stack is not None else "the warehouse"
        if daily:
            return f"; every station-year in {where}'s daily table (all it has loaded)"
        return f"; every station-year in {where}'s export view (all it has loaded)"
    if stack is None:
        return "; every partition exported to the bucket"
    what = "the generated sample (not real data)" if stack.sample else "your uploads"
    return f"; every partition this stack's export wrote to S3, from {what}"


def _aws(stack: StackInfo | None, service: Literal["s3", "dynamodb"]) -> tuple[Any, str]:
    """A client of ``service`` (s3 or dynamodb) and the resource fetch reads there (the bucket,
    the status table): the local stack's when one is used, else the settings' (environment or
    .env), by the same precedence as every command."""
    import boto3

    from inmet_pipeline.settings import UploadSettings, load_settings

    if stack is not None:
        kwargs, bucket, table = stack.aws_client_kwargs(), stack.bucket, stack.table
    else:
        settings = load_settings(UploadSettings)
        kwargs, bucket = settings.client_kwargs(), settings.s3_bucket
        table = settings.inmet_status_table
    return boto3.client(service, **kwargs), bucket if service == "s3" else table


def _settle(stack: StackInfo | None, *, wait: bool, timeout: float) -> Counter[str]:
    """The uploads still pending in the status table (after waiting for them with ``wait``); a
    table that cannot be read is said in a warning, never taken for 'nothing pending'."""
    import botocore.exceptions

    from inmet_local.client.pending import pending_uploads, wait_until_settled
    from inmet_pipeline.settings import ConfigError

    try:
        dynamodb, table = _aws(stack, "dynamodb")

        def count() -> Counter[str]:
            return pending_uploads(dynamodb, table)

        if not wait:
            return count()
        said = [-1.0]
        with Progress(
            TextColumn("{task.description}"), console=err_console, transient=True
        ) as progress:
            task = progress.add_task("counting the pending uploads", total=None)

            def show(pending: int, waited: float) -> None:
                text = f"waiting for {pending} pending upload(s): {waited:.0f} s of {timeout:.0f}"
                progress.update(task, description=text)
                if not err_console.is_terminal and waited - said[0] >= 10:  # a log, a pipe
                    said[0] = waited
                    err_console.print(text, highlight=False)

            return wait_until_settled(count, timeout, show).pending
    except (ConfigError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        err_console.print(
            f"[yellow]warning:[/] could not count the pending uploads ({e}); the CSV may miss "
            "uploads still on their way",
            highlight=False,
        )
        return Counter()
