"""`inmet validate` and `inmet synth`: the commands about station files on this machine."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from inmet_local.cli.options import Layout, choice_metavar, choice_parser, input_files
from inmet_local.cli.output import console, fail, print_report_table, progress_bar
from inmet_local.synth.sample import SAMPLE_DIR
from inmet_local.synth.synth import generate_archive
from inmet_local.workspace.sources import InputFile
from inmet_pipeline.reader import DEFAULT_MAX_ERRORS, Issue, ValidationReport, validate


def validate_all(files: list[InputFile], max_errors: int, quiet: bool) -> list[ValidationReport]:
    """One report per file, in order; an unreadable file is a failed report."""
    reports: list[ValidationReport] = []
    with progress_bar("validating", disable=quiet or len(files) < 5) as progress:
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


def validate_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH", help="Files, folders (searched for *.csv) or INMET .zip archives."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list for scripts.")] = False,
    max_errors: Annotated[
        int, typer.Option(min=1, help="Stop reading a file after this many errors.")
    ] = DEFAULT_MAX_ERRORS,
) -> None:
    """Check INMET yearly-archive station files before uploading them.

    Exit code 0 when every file is valid, 1 when any is invalid, 2 for a usage problem.
    """
    files = input_files(paths)
    reports = validate_all(files, max_errors, quiet=as_json)
    if as_json:
        sys.stdout.write(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
    else:
        print_report_table(reports)
    if not all(r.valid for r in reports):
        raise typer.Exit(1)


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
        Layout | None,
        typer.Option(
            parser=choice_parser(Layout, "--layout"),
            metavar=choice_metavar(Layout),
            help="A (≤2018 style) or B (≥2019 style); default follows the year.",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Start of the random generator; the same value, the same bytes.")
    ] = 0,
) -> None:
    """Generate realistic INMET station-year files (both layouts, with INMET's quirks).

    Generated, not real: they go to data/sample/ by default (data/raw/ is for your own files)
    and are listed in the folder's GENERATED_BY_INMET_SYNTH.json marker.
    """
    from inmet_local.synth.sample import MARKER, mark_generated

    written: list[Path] = []
    try:
        with progress_bar("generating") as progress:
            task = progress.add_task("synth", total=stations)
            for path in generate_archive(
                out,
                stations=stations,
                year=year,
                seed=seed,
                layout=layout.value if layout else None,
            ):
                written.append(path)
                progress.advance(task)
        mark_generated(out, written)
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc.strerror or exc}", 1) from exc
    console.print(
        f"wrote {len(written)} generated station file(s) for {year} to {out}/ "
        f"(listed in {out / MARKER}: not real data)",
        highlight=False,
    )
