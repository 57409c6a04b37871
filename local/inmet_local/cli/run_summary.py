"""The table `inmet local run` ends with: each file, its upload and pipeline outcome, its rows,
and the reason for anything that did not end exported; and the time each stage took."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from inmet_local.cli.output import file_column_width
from inmet_local.client.client import Outcome, UploadOutcome
from inmet_local.ops.text import issue_text
from inmet_pipeline.status import UploadStatus


def print_files_table(
    results: list[UploadOutcome],
    docs: dict[str, dict[str, object]],
    fetched: object,
    stages: dict[str, float],
    console: Console,
) -> int:
    table = Table(title="Files", title_justify="left")
    names = [Path(r.source).name for r in results]
    table.add_column("file", overflow="fold", min_width=file_column_width(names, console.width))
    for column in ("upload", "pipeline", "station", "rows", "rows clean", "reason"):
        table.add_column(column, overflow="fold")
    problems = 0
    for r in sorted(results, key=lambda r: r.source):
        doc = docs.get(r.upload_id or "", {})
        status = str(doc.get("status", "-")) if r.ok else "-"
        reason = ""
        rows_clean = doc.get("rows_clean")
        if not r.ok:
            problems += 1
            reason = issue_text(r.code, r.message, r.line)
        elif status != UploadStatus.EXPORTED:
            problems += 1
            error = doc.get("error")
            if isinstance(error, dict):
                reason = issue_text(str(error.get("code", "")), str(error.get("message", "")), None)
            else:
                reason = str(error) if error else f"not exported in time (status {status})"
        elif rows_clean == 0 and r.rows:
            reason = "every hour has all its measurements missing: CLEAN keeps none"
        table.add_row(
            escape(Path(r.source).name),
            r.outcome,
            status,
            escape(r.station_id or "-"),
            f"{r.rows:,}" if r.rows is not None else "-",
            f"{rows_clean:,}" if isinstance(rows_clean, int) else "-",
            escape(reason),  # messages quote the file's own text, brackets included
        )
    console.print(table)
    outcome = {k: sum(r.outcome == k for r in results) for k in Outcome}
    console.print("uploads: " + ", ".join(f"{n} {k}" for k, n in outcome.items()))
    if fetched is None:
        console.print("[yellow]output: nothing exported, no CSV written[/]")
        problems += 1
    console.print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
    return problems
