"""`inmet fetch`: the contract CSV of CLEAN (docs/contracts.md §3) to one local file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inmet_local.cli.options import (
    DataDirOption,
    FetchSource,
    choice_metavar,
    choice_parser,
)
from inmet_local.cli.output import console, fail, progress_bar, using
from inmet_local.workspace.discovery import (
    DEFAULT_DATA_DIR,
    StackInfo,
    StackNotFound,
    configured,
    read_stack,
)

DEFAULT_OUT = Path("data/processed/inmet_clean.csv")


def fetch_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the CSV.")] = DEFAULT_OUT,
    source: Annotated[
        FetchSource,
        typer.Option(
            "--from",
            parser=choice_parser(FetchSource, "--from"),
            metavar=choice_metavar(FetchSource),
            help="s3 (the exported partitions) or snowflake (the export view).",
        ),
    ] = FetchSource.S3,
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
    from inmet_local.client.fetch import FetchError, fetch_from_s3, fetch_from_warehouse
    from inmet_local.emulator.local_adapter import LocalSnowflakeSettings as SnowflakeSettings
    from inmet_pipeline.adapters.snowflake import connection
    from inmet_pipeline.errors import DependencyUnavailable
    from inmet_pipeline.settings import ConfigError, UploadSettings, load_settings

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
    replacing = out.exists()
    try:
        with progress_bar("fetching") as progress:
            task = progress.add_task("fetch", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            if source is FetchSource.S3:
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
                        inmet_local_warehouse_password=stack.env.get(
                            "INMET_LOCAL_WAREHOUSE_PASSWORD"
                        ),
                        snowflake_database=stack.env.get("SNOWFLAKE_DATABASE", "INMET"),
                    )
                else:
                    warehouse = load_settings(SnowflakeSettings)
                result = fetch_from_warehouse(
                    connection(warehouse), warehouse.view, out, progress=advance
                )
    except (ConfigError, FetchError, DependencyUnavailable) as exc:
        raise fail(str(exc), 1) from exc
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", 1) from exc
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
