"""Train a next-hour air-temperature model on CLEAN and track everything in MLflow.

This module is the MLflow side: the tracking URI, the run (parameters, metrics, the data
passport, figures, the model) and the registered model. What it logs comes from beside it:
the model (:mod:`.model`), the split, scores and baselines (:mod:`.evaluation`), the data
passport (:mod:`.passport`) and the figures (:mod:`.figures`).

Every run logs a data passport so that a registered model traces back to its data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from inmet_local.ml.data import project_root
from inmet_local.ml.evaluation import TEST_FRACTION, evaluate
from inmet_local.ml.features import FEATURES, LOOKBACK_HOURS
from inmet_local.ml.figures import run_figures
from inmet_local.ml.model import MODEL_PARAMS, NextHourRegressor, Progress, train_threads
from inmet_local.ml.passport import PASSPORT_FIELDS, passport

# Imported from here by the CLI, the benchmarks and the notebooks; NextHourRegressor also by
# the models logged before the split (their files name inmet_local.ml.train.NextHourRegressor).
__all__ = [
    "DEFAULT_EXPERIMENT",
    "DEFAULT_MODEL_NAME",
    "MODEL_PARAMS",
    "NextHourRegressor",
    "TrackingUriError",
    "check_tracking_uri",
    "default_tracking_uri",
    "evaluate",
    "train",
    "train_threads",
]

DEFAULT_EXPERIMENT = "inmet-next-hour-temperature"
DEFAULT_MODEL_NAME = "inmet-next-hour-temperature"


class TrackingUriError(ValueError):
    """A tracking URI that MLflow would refuse; the message gives the alternative."""


def check_tracking_uri(uri: str) -> str:
    """``uri`` if MLflow 3 accepts it; a plain-file store (``file:`` or a bare folder) is a
    TrackingUriError that names the SQLite store to use instead (MLflow 3 keeps the file store
    in maintenance mode and refuses it unless MLFLOW_ALLOW_FILE_STORE is set)."""
    plain_path = ":" not in uri and uri != "databricks"
    if plain_path or uri.lower().startswith("file:"):
        folder = Path(uri.removeprefix("file://").removeprefix("file:") or "mlruns")
        sqlite = f"sqlite:///{folder.expanduser().resolve() / 'mlflow.db'}"
        raise TrackingUriError(
            f"tracking URI {uri!r} is MLflow's plain-file store, which MLflow 3 refuses; use "
            f"SQLite instead: --tracking-uri {sqlite} (or leave --tracking-uri and "
            "MLFLOW_TRACKING_URI unset for the project's mlruns/mlflow.db), or a server: http://HOST:5000"
        )
    return uri


def train(
    clean: pd.DataFrame,
    *,
    stations: list[str] | None = None,
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    model_name: str | None = DEFAULT_MODEL_NAME,
    data_source: str = "",
    data_sha256: str | None = None,
    max_iter: int = 300,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train, evaluate and log one run; return the figures as a JSON-able dict (on
    ``train_threads()`` OpenMP threads).

    ``data_sha256`` is the sha256 of the CSV file ``clean`` was read from (without it, the
    passport hashes ``clean`` written as the contract CSV).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=train_threads(), user_api="openmp"):
        return _train(
            clean,
            stations=stations,
            tracking_uri=tracking_uri,
            experiment=experiment,
            model_name=model_name,
            data_source=data_source,
            data_sha256=data_sha256,
            max_iter=max_iter,
            progress=progress,
        )


def _train(
    clean: pd.DataFrame,
    *,
    stations: list[str] | None,
    tracking_uri: str | None,
    experiment: str,
    model_name: str | None,
    data_source: str,
    data_sha256: str | None,
    max_iter: int,
    progress: Progress | None,
) -> dict[str, Any]:
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    if tracking_uri:
        check_tracking_uri(tracking_uri)
    if stations:
        unknown = sorted(set(stations) - set(clean["station_id"].unique()))
        if unknown:
            raise ValueError(f"no data for station(s) {', '.join(unknown)}")
        clean = clean[clean["station_id"].isin(stations)]
    if progress:
        progress("data passport (sha256, real or generated)", 0, 0)
    data = passport(clean, sha256=data_sha256 if not stations else None, source=data_source)
    label = f"{data['data_origin']} data"
    result = evaluate(clean, max_iter=max_iter, progress=progress)
    overall, per_station = result["overall"], result["per_station"]
    model: NextHourRegressor = result["model"]
    train_set, test_set = result["train_set"], result["test_set"]

    if progress:
        progress("logging to MLflow", 0, 0)
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    _use_experiment(mlflow, experiment)
    with mlflow.start_run() as run:
        mlflow.log_params(
            {
                "model": "HistGradientBoostingRegressor",
                "model_target": "change of air_temp_c over the next hour (prediction adds it)",
                "max_iter": max_iter,
                **MODEL_PARAMS,
                "target": "air_temp_c at t+1h",
                "split": (
                    f"per station: its last {TEST_FRACTION:.0%} of usable hours for test, "
                    f"a {LOOKBACK_HOURS} h gap"
                ),
                "stations": ",".join(sorted(per_station)),
                "skipped_stations": ",".join(sorted(result["skipped_stations"])) or "none",
                "train_rows": len(train_set),
                "test_rows": len(test_set),
                "data": data_source[:250],
                **{k: data[k] for k in PASSPORT_FIELDS},
            }
        )
        metrics = {k: v for k, v in overall.items() if v is not None}
        metrics["improvement_vs_persistence"] = (
            1 - overall["mae_model"] / overall["mae_persistence"]
        )
        for station_id, figures in per_station.items():
            for key in (
                "mae_model",
                "rmse_model",
                "mae_persistence",
                "mae_climatology",
                "improvement_vs_persistence",
            ):
                if figures[key] is not None:
                    metrics[f"{key}_{station_id}"] = figures[key]
        mlflow.log_metrics(metrics)
        mlflow.log_dict(data, "passport.json")
        mlflow.log_dict(
            {
                "per_station": per_station,
                "skipped_stations": result["skipped_stations"],
                "baselines_not_computed": result["baselines_not_computed"],
            },
            "per_station.json",
        )
        mlflow.set_tags({"data_sha256": data["data_sha256"], "data_origin": data["data_origin"]})
        first_names = clean.groupby("station_id")["station_name"].first()
        names = {str(k): str(v) for k, v in first_names.items()}
        for name, figure in run_figures(
            test_set, result["predictions"], model, per_station, label, names=names
        ).items():
            mlflow.log_figure(figure, name)
        example = train_set[FEATURES].head(5)
        signature = infer_signature(example, model.predict(example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=example,
            registered_model_name=model_name,
            # Stated, not inferred: MLflow infers them by importing the model in a subprocess
            # (8 s here). Loading the model also needs this project installed: the class is
            # inmet_local.ml.model.NextHourRegressor.
            pip_requirements=_requirements(),
            # MLflow serialises with skops, which refuses types it cannot bound-check; this
            # model is built here, so its classes are trusted.
            skops_trusted_types=[
                "inmet_local.ml.model.NextHourRegressor",
                "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
                "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
            ],
        )
    import matplotlib.pyplot as plt

    plt.close("all")
    return {
        "run_id": run.info.run_id,
        "experiment": experiment,
        "model_uri": info.model_uri,
        "registered_model": model_name,
        "data_origin": data["data_origin"],
        "data_sha256": data["data_sha256"],
        "mae_model": round(overall["mae_model"], 4),
        "mae_persistence": round(overall["mae_persistence"], 4),
        "mae_climatology": _round(overall["mae_climatology"]),
        "rmse_model": round(overall["rmse_model"], 4),
        "improvement_vs_persistence": round(
            1 - overall["mae_model"] / overall["mae_persistence"], 4
        ),
        "stations": per_station,
        "mae_model_by_station": {k: v["mae_model"] for k, v in per_station.items()},
        "skipped_stations": result["skipped_stations"],
        "baselines_not_computed": result["baselines_not_computed"],
        "train_rows": len(train_set),
        "test_rows": len(test_set),
    }


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("scikit-learn", "pandas", "numpy")]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def default_tracking_uri(start: Path | None = None) -> str:
    """Local tracking with no server: runs in <project>/mlruns/mlflow.db (SQLite), artifacts in
    <project>/mlruns/artifacts/, where <project> is :func:`inmet_local.ml.data.project_root`: one
    store and one model registry for `inmet train` and the notebooks, wherever each runs from.
    (MLflow 3 keeps the plain ./mlruns file store in maintenance mode and refuses it by default;
    SQLite is its recommended local store.)"""
    folder = project_root(start) / "mlruns"
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _use_experiment(mlflow: Any, name: str) -> None:
    """Select the experiment; a new one on a local SQLite store keeps artifacts in mlruns/."""
    uri = mlflow.get_tracking_uri()
    if mlflow.get_experiment_by_name(name) is None and uri.startswith("sqlite:///"):
        artifacts = Path(uri.removeprefix("sqlite:///")).parent / "artifacts"
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(name)
