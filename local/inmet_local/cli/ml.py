"""`inmet train`: the next-hour air-temperature model trained on CLEAN and logged to MLflow
(the work itself is in :mod:`inmet_local.ml`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from inmet_local.cli.output import err_console, fail

# ml.model.TRAIN_THREADS_ENV, spelled here so that `inmet --help` does not import scikit-learn
# (tests/unit/test_cli_help.py checks the two agree).
TRAIN_THREADS_ENV = "INMET_TRAIN_THREADS"


def train_command(
    ctx: typer.Context,
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
            envvar="MLFLOW_TRACKING_URI",
            help="MLflow tracking URI: sqlite:///PATH or http://HOST:PORT. Default: the "
            "MLFLOW_TRACKING_URI environment variable, else the project's mlruns/mlflow.db (the "
            "store the notebooks use too). MLflow 3 refuses file: stores.",
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
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            min=1,
            envvar=TRAIN_THREADS_ENV,
            help="CPU threads for fitting. 1 by default: on a machine other work shares, more "
            "threads wait for each other and train slower.",
        ),
    ] = 1,
) -> None:
    """Train the next-hour air-temperature model on CLEAN and log it to MLflow.

    Every station is split on its own series (its last 20% for test); metrics per station and
    overall, against persistence and climatology. Progress goes to stderr; the last line on
    stdout is a JSON object (run_id, mae_model, mae_persistence, stations, …) for scripts.
    """
    import time

    from rich.progress import TaskID

    from inmet_local.ml.data import (
        file_sha256,
        find_clean_csv,
        load_clean,
        quality_summary,
        sample_clean,
    )
    from inmet_local.ml.train import check_tracking_uri, default_tracking_uri, train

    try:
        # A refused URI says where it came from when the option did not give it.
        # (Typer's ParameterSource is in its private vendored click, hence the name.)
        given_by = ctx.get_parameter_source("tracking_uri")
        from_env = given_by is not None and given_by.name == "ENVIRONMENT"
        where = " (from MLFLOW_TRACKING_URI)" if from_env else ""
        if tracking_uri is not None:
            try:
                check_tracking_uri(tracking_uri)
            except ValueError as exc:
                raise fail(f"{exc}{where}", 2) from exc
        path = data if data is not None else find_clean_csv()
        sha256 = None
        if path is not None:
            if not path.exists():
                raise fail(f"{path}: no such file; `inmet fetch` writes the cleaned CSV")
            with err_console.status(f"reading {path}"):
                frame, source = load_clean(path), str(path)
                sha256 = file_sha256(path)
        else:
            frame = sample_clean()
            source = "generated sample (no data/processed/inmet_clean.csv yet: run make demo)"
        uri = tracking_uri or default_tracking_uri()
        err_console.print(f"training on {source} ({len(frame):,} rows); tracking: {uri}")
        err_console.print(quality_summary(frame), highlight=False)
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

            os.environ[TRAIN_THREADS_ENV] = str(threads)  # read by ml.model.train_threads()
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
        raise fail(str(exc), 1) from exc
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
