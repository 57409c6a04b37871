"""`inmet qc`: what quality control flagged in CLEAN (docs/qc.md), per station and test, and the
reason for every flag as a CSV."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from inmet_local.cli.fetch import warehouse_settings
from inmet_local.cli.options import DataDirOption
from inmet_local.cli.output import console, fail, using
from inmet_local.workspace.discovery import (
    DEFAULT_DATA_DIR,
    StackInfo,
    StackNotFound,
    configured,
    read_stack,
)


def qc_command(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object a station, year, test and measure (for scripts) "
            "instead of the table.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Also write every flag with its reason (the hour, the measure, the test, the "
            "value as the file wrote it and the limit it was compared with) to this CSV file.",
        ),
    ] = None,
) -> None:
    """Show which values quality control flagged, per station and test.

    Every value in CLEAN carries a flag beside it: 0 passed, 1 suspect (the value is kept),
    2 erroneous (the value is empty). This prints how many values each test flagged at each
    station, read from the warehouse: the local stack running with --data-dir (`inmet local
    up`), or the Snowflake account SNOWFLAKE_ACCOUNT names (environment or .env). docs/qc.md
    explains each test and its threshold.
    """
    from inmet_local.client.qc import per_station, qc_summary, write_details
    from inmet_pipeline.adapters.snowflake import connection
    from inmet_pipeline.errors import DependencyUnavailable
    from inmet_pipeline.settings import ConfigError

    explicit = configured("SNOWFLAKE_ACCOUNT") or configured("INMET_SNOWFLAKE_LOCAL_URL")
    stack: StackInfo | None = None
    if explicit:
        using(f"the Snowflake account {explicit}")
    else:
        try:
            stack = read_stack(data_dir)
        except StackNotFound as exc:
            raise fail(
                f"{exc}; or set SNOWFLAKE_ACCOUNT (environment or .env) to read a deployed "
                "pipeline's warehouse",
                1,
            ) from exc
        using(stack.describe())
    try:
        settings = warehouse_settings(stack)
        conn = connection(settings)
        counts = qc_summary(conn, settings.clean)
        written = write_details(conn, settings.clean, out) if out is not None else None
    except (ConfigError, DependencyUnavailable) as exc:
        raise fail(str(exc), 1) from exc
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", 1) from exc
    if as_json:
        sys.stdout.write(json.dumps([c.as_json() for c in counts], indent=2) + "\n")
    elif not counts:
        console.print("no value in CLEAN is flagged")
    else:
        view = Table(title="values flagged by quality control, per station and test")
        for name in ("station", "test", "flag", "values", "of hours", "measures"):
            view.add_column(name, justify="right" if name in ("values", "of hours") else "left")
        for line in per_station(counts):
            view.add_row(
                line.station_id,
                line.test,
                "erroneous" if line.flag == 2 else "suspect",
                f"{line.values:,}",
                f"{line.hours:,}",
                ", ".join(line.measures),
            )
        console.print(view)
    if written is not None:
        console.print(f"wrote {written:,} flags with their reasons to {out}", highlight=False)
