"""What the `inmet` commands print: the two consoles, the one-line error, progress bars and the
tables of validation reports and upload outcomes.

stdout carries results (tables, --json); stderr carries everything else (progress, which
pipeline is used, errors), so that `inmet … --json | jq` stays clean.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from inmet_local.client.client import Outcome, UploadOutcome
from inmet_local.ops.text import issue_text
from inmet_pipeline.columns import N_MEASURES
from inmet_pipeline.reader import ValidationReport


# Piped output (CI logs, `| less`) gets a fixed wide layout instead of rich's 80 columns.
def _pipe_width() -> int:
    """Output to a pipe or file: COLUMNS when the user set it, else 150 (rich's 80 would fold
    every table of INMET file names)."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) >= 40 else 150


console = Console() if sys.stdout.isatty() else Console(width=_pipe_width())
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise (2: a usage problem)."""
    # Escaped: messages quote paths and file contents, where "[…]" is not rich markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def progress_bar(label: str, *, disable: bool = False) -> Progress:
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


def using(what: str) -> None:
    """Which pipeline a command talks to, on stderr (stdout stays clean for --json)."""
    err_console.print(f"using {what}", highlight=False, style="dim")


def _period(report: ValidationReport) -> str:
    if report.period_start and report.period_end:
        return f"{report.period_start:%Y-%m-%d}…{report.period_end:%m-%d}"
    return "-"


def file_column_width(names: list[str], width: int | None = None) -> int:
    """The file column's minimum width: the longest name when the terminal has room for it beside
    the other columns (about 110 characters), else what is left, at least 20. An INMET name is
    ~50-70 characters and its end, the period, tells files apart; without a minimum rich shares
    the width evenly and folds every name onto 2 or 3 lines."""
    width = console.width if width is None else width
    longest = max((len(n) for n in names), default=4)
    return max(4, min(longest, max(20, width - 110)))


def print_report_table(reports: list[ValidationReport], title: str = "INMET files") -> None:
    table = Table(title=title, title_justify="left", expand=False)
    names = [Path(rep.filename or "-").name for rep in reports]
    # Wrapped, never cut: the end of an INMET file name (its period) is what tells files apart.
    table.add_column("file", overflow="fold", min_width=file_column_width(names))
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
        cells = rep.rows * N_MEASURES
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


def outcome_dict(result: UploadOutcome) -> dict[str, object]:
    """One upload's outcome as `inmet upload --json` prints it."""
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
    names = [Path(r.source).name for r in results]
    table.add_column("file", overflow="fold", min_width=file_column_width(names))
    table.add_column("outcome")
    table.add_column("station")
    table.add_column("rows", justify="right")
    # 16 characters: a unique prefix, which `inmet status` accepts (as git accepts short ids).
    table.add_column("upload id / reason", overflow="fold")
    colours: dict[str, str] = {
        Outcome.ACCEPTED: "green",
        Outcome.DUPLICATE: "cyan",
        Outcome.REJECTED: "red",
        Outcome.FAILED: "red",
    }
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
