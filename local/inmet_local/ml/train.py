"""Train a next-hour air-temperature model on CLEAN and track everything in MLflow.

Split: per station (``features.station_split``): the last 20% of each station's own usable
hours is its test part, its earlier hours (less a 24-hour gap) its training part, so every
station is in both; a station with too little history is skipped and listed.

Baselines, per station and from that station's training rows only: persistence (the next hour
is like this hour) and climatology (the station's mean temperature at that local solar hour).
A baseline that cannot be computed for a station is reported as such, never replaced.

Model: one global gradient-boosting model (scikit-learn's HistGradientBoostingRegressor, which
takes missing values as they are) that predicts the change over the next hour from the
features of ``features.FEATURES``, station attributes included. Why global and why the
change: README, "Experiments" (measured on every pair of the real files).

Every run logs a data passport (the training CSV's sha256, rows, stations, period, real or
generated, features) so that a registered model traces back to its data.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor

from inmet_local.ml.data import data_origin, frame_sha256, origin_label
from inmet_local.ml.features import (
    FEATURES,
    LOOKBACK_HOURS,
    MIN_STATION_HOURS,
    TARGET,
    build_features,
    station_split,
)

DEFAULT_EXPERIMENT = "inmet-next-hour-temperature"
DEFAULT_MODEL_NAME = "inmet-next-hour-temperature"
TEST_FRACTION = 0.2
# Small trees, strongly regularised: on the smallest mix (Manaus, 2000 and 2020) 31-leaf trees
# with l2 1.0 overfitted (15.1% better than persistence; these: 22.4%), and the larger mixes
# are unchanged (README, "Experiments").
MODEL_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "l2_regularization": 5.0,
    # Reproducible: no random validation hold-out, the same trees for the same data.
    "early_stopping": False,
    "random_state": 0,
}
# The passport's parameter names (a test checks that every run has all of them).
PASSPORT_FIELDS = (
    "data_sha256",
    "data_sha256_of",
    "data_rows",
    "data_stations",
    "data_period_start",
    "data_period_end",
    "data_origin",
    "data_source",
    "features",
)

# OpenMP threads for fitting: 1 unless INMET_TRAIN_THREADS says more. On this project's shared
# 2-core machine, one fit of ~16,000 rows took 2.5 s on one thread and 27-34 s on two: OpenMP's
# threads busy-wait for each other when another process holds a core.
TRAIN_THREADS_ENV = "INMET_TRAIN_THREADS"


def train_threads() -> int:
    try:
        return max(1, int(os.environ.get(TRAIN_THREADS_ENV, "1")))
    except ValueError:
        return 1


Progress = Callable[[str, int, int], None]
"""progress(step, done, total): a step's name and how far it is (total 0: no count)."""


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
            "MLFLOW_TRACKING_URI unset for ./mlruns/mlflow.db), or a server: http://HOST:5000"
        )
    return uri


@dataclass(frozen=True, slots=True)
class Scores:
    mae: float
    rmse: float


def scores(observed: pd.Series | np.ndarray, predicted: pd.Series | np.ndarray) -> Scores:
    error = np.asarray(predicted, dtype="float64") - np.asarray(observed, dtype="float64")
    return Scores(float(np.mean(np.abs(error))), float(math.sqrt(np.mean(error**2))))


class NextHourRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Predicts the next hour's temperature as this hour's plus a boosted-trees estimate of
    the change (a scikit-learn estimator, so MLflow logs and serves it as a scikit-learn
    model: ``predict(features)`` gives °C)."""

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        l2_regularization: float = 5.0,
        early_stopping: bool = False,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.early_stopping = early_stopping
        self.random_state = random_state

    def fit(
        self,
        features: pd.DataFrame,
        target: pd.Series,
        progress: Progress | None = None,
        step: int = 50,
    ) -> NextHourRegressor:
        """Fit on the change ``target - air_temp_c``; ``progress`` hears every ``step`` trees
        (warm start adds trees to the same model: the same trees as one fit).

        Runs on ``TRAIN_THREADS`` OpenMP threads (see there).
        """
        from threadpoolctl import threadpool_limits

        change = target.to_numpy(dtype="float64") - features["air_temp_c"].to_numpy("float64")
        self.model_ = HistGradientBoostingRegressor(
            max_iter=0,
            warm_start=True,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            early_stopping=self.early_stopping,
            random_state=self.random_state,
        )
        done = 0
        with threadpool_limits(limits=train_threads(), user_api="openmp"):
            while done < self.max_iter:
                done = min(done + step, self.max_iter)
                self.model_.set_params(max_iter=done)
                self.model_.fit(features[FEATURES], change)
                if progress:
                    progress("fitting (trees)", done, self.max_iter)
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        current = features["air_temp_c"].to_numpy(dtype="float64")
        return current + np.asarray(self.model_.predict(features[FEATURES]), dtype="float64")


def climatology(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.Series, dict[str, str]]:
    """Each test row's station mean of the next hour's temperature at that local solar hour,
    from the station's own training rows; NaN where that cannot be computed, with the reason
    per station (never another station's or another baseline's value)."""
    target_hour = (train["solar_hour"] + 1) % 24
    means = train.assign(target_hour=target_hour).groupby(["station_id", "target_hour"])[TARGET]
    table = means.mean()
    keys = pd.MultiIndex.from_arrays([test["station_id"], (test["solar_hour"] + 1) % 24])
    predicted = pd.Series(table.reindex(keys).to_numpy(dtype="float64"), index=test.index)
    missing: dict[str, str] = {}
    for station_id, rows in test.groupby("station_id"):
        hours = sorted(set(((rows["solar_hour"] + 1) % 24)[predicted[rows.index].isna()]))
        if hours:
            missing[str(station_id)] = "no training rows at local solar hour(s) " + ", ".join(
                str(h) for h in hours
            )
    return predicted, missing


def _station_periods(clean: pd.DataFrame) -> dict[str, dict[str, Any]]:
    periods = {}
    for station_id, rows in clean.groupby("station_id"):
        periods[str(station_id)] = {
            "rows": len(rows),
            "start": rows["observed_at"].min().isoformat(),
            "end": rows["observed_at"].max().isoformat(),
            "years": sorted({int(y) for y in rows["observed_at"].dt.year}),
        }
    return periods


def passport(clean: pd.DataFrame, *, sha256: str | None = None, source: str = "") -> dict[str, Any]:
    """The data passport: what a run was trained on, to log with it."""
    origin = data_origin(clean)
    return {
        "data_sha256": sha256 or frame_sha256(clean),
        "data_sha256_of": "file" if sha256 else "the data written as the contract CSV",
        "data_rows": len(clean),
        "data_stations": ",".join(sorted(str(s) for s in clean["station_id"].unique())),
        "data_period_start": clean["observed_at"].min().isoformat(),
        "data_period_end": clean["observed_at"].max().isoformat(),
        "data_origin": origin_label(origin),
        "data_source": source[:250],
        "features": ",".join(FEATURES),
        "origin_by_station_year": origin,
        "stations": _station_periods(clean),
    }


def _error_by_hour_figure(
    test: pd.DataFrame, predictions: dict[str, np.ndarray], label: str
) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, hour_column, title in (
        (axes[0], "solar_hour", "local solar hour"),
        (axes[1], "hour", "hour (UTC)"),
    ):
        for name, predicted in predictions.items():
            error = pd.Series(np.abs(predicted - test[TARGET].to_numpy("float64")))
            by_hour = error.groupby(test[hour_column].to_numpy()).mean()
            ax.plot(by_hour.index, by_hour.to_numpy(), marker=".", label=name)
        ax.set_xlabel(title)
        ax.set_xticks(np.arange(0, 24, 3))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean absolute error (°C)")
    axes[0].legend()
    fig.suptitle(f"Test error by hour of day, all stations ({label})")
    fig.tight_layout()
    return fig


def _figures(
    test: pd.DataFrame,
    predictions: dict[str, np.ndarray],
    model: NextHourRegressor,
    per_station: dict[str, dict[str, Any]],
    label: str,
) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.inspection import permutation_importance

    predicted = predictions["model"]
    figures: dict[str, Any] = {}
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(test[TARGET], predicted, s=2, alpha=0.3)
    low, high = float(test[TARGET].min()), float(test[TARGET].max())
    ax.plot([low, high], [low, high], color="black", linewidth=1)
    ax.set_xlabel("observed next-hour air temperature (°C)")
    ax.set_ylabel("predicted (°C)")
    ax.set_title(f"Predicted vs observed, test part ({label})")
    figures["predicted_vs_observed.png"] = fig

    figures["error_by_hour.png"] = _error_by_hour_figure(test, predictions, label)

    fig, ax = plt.subplots(figsize=(8, 4))
    residuals = pd.DataFrame({"hour": test["solar_hour"], "residual": predicted - test[TARGET]})
    residuals.boxplot(column="residual", by="hour", ax=ax, showfliers=False)
    ax.axhline(0, color="black", linewidth=1)
    ax.set_xlabel("local solar hour")
    ax.set_ylabel("residual, predicted - observed (°C)")
    ax.set_title(f"Model residuals by hour ({label})")
    fig.suptitle("")
    figures["residuals_by_hour.png"] = fig

    names = sorted(per_station)
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(names) + 2), 4))
    width = 0.27
    for offset, key in ((-width, "model"), (0, "persistence"), (width, "climatology")):
        values = [per_station[s][f"mae_{key}"] for s in names]
        ax.bar(
            np.arange(len(names)) + offset,
            [np.nan if v is None else v for v in values],
            width,
            label=key,
        )
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("test MAE (°C)")
    ax.set_title(
        f"Test MAE per station ({label})\n(no bar: that baseline could not be computed)",
        fontsize=10,
    )
    ax.legend()
    fig.tight_layout()
    figures["mae_by_station.png"] = fig

    sample = test.sample(min(len(test), 2000), random_state=0)
    # On the boosted trees and the change they predict: shuffling air_temp_c in the full
    # model would mostly measure persistence (the prediction adds the current temperature).
    importance = permutation_importance(
        model.model_,
        sample[FEATURES],
        sample[TARGET] - sample["air_temp_c"],
        n_repeats=3,
        random_state=0,
        scoring="neg_mean_absolute_error",
    )
    order = np.argsort(importance.importances_mean)[-20:]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.barh(np.array(FEATURES)[order], importance.importances_mean[order])
    ax.set_xlabel("increase in MAE of the predicted change when shuffled (°C)")
    ax.set_title(f"Feature importance, top 20\n(permutation, test part; {label})", fontsize=10)
    fig.tight_layout()
    figures["feature_importance.png"] = fig
    return figures


def evaluate(
    clean: pd.DataFrame,
    *,
    max_iter: int = 300,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Features, split, model and baselines, without MLflow: everything ``train`` logs."""
    if progress:
        progress("building features", 0, 0)
    features = build_features(clean)
    split = station_split(features, TEST_FRACTION)
    train_set, test_set = split.train, split.test
    if test_set.empty:
        reasons = "; ".join(f"{s}: {r}" for s, r in split.skipped.items()) or "no rows"
        raise ValueError(
            f"no station has enough history to train and test on ({reasons}); each needs "
            f"{MIN_STATION_HOURS} usable hours (an hour and the next with a temperature)"
        )
    model = NextHourRegressor(max_iter=max_iter, **MODEL_PARAMS)
    model.fit(train_set, train_set[TARGET], progress=progress)
    if progress:
        progress("evaluating", 0, 0)
    predicted = model.predict(test_set)
    persistence = test_set["air_temp_c"].to_numpy(dtype="float64")
    clim, clim_missing = climatology(train_set, test_set)

    per_station: dict[str, dict[str, Any]] = {}
    for station_id, rows in test_set.groupby("station_id"):
        idx = rows.index.to_numpy()
        train_rows = train_set[train_set["station_id"] == station_id]
        observed = rows[TARGET].to_numpy(dtype="float64")
        m, p = scores(observed, predicted[idx]), scores(observed, persistence[idx])
        sid = str(station_id)
        c = None if sid in clim_missing else scores(observed, clim[rows.index].to_numpy())
        per_station[sid] = {
            "train_rows": len(train_rows),
            "test_rows": len(rows),
            "train_period": [
                train_rows["observed_at"].min().isoformat(),
                train_rows["observed_at"].max().isoformat(),
            ],
            "test_period": [
                rows["observed_at"].min().isoformat(),
                rows["observed_at"].max().isoformat(),
            ],
            "mae_model": round(m.mae, 4),
            "rmse_model": round(m.rmse, 4),
            "mae_persistence": round(p.mae, 4),
            "rmse_persistence": round(p.rmse, 4),
            "mae_climatology": None if c is None else round(c.mae, 4),
            "rmse_climatology": None if c is None else round(c.rmse, 4),
            "improvement_vs_persistence": round(1 - m.mae / p.mae, 4),
        }
    observed = test_set[TARGET].to_numpy(dtype="float64")
    model_scores, pers_scores = scores(observed, predicted), scores(observed, persistence)
    clim_scores = None if clim_missing else scores(observed, clim.to_numpy())
    predictions = {"model": predicted, "persistence": persistence}
    if clim_scores is not None:
        predictions["climatology"] = clim.to_numpy()
    return {
        "model": model,
        "train_set": train_set,
        "test_set": test_set,
        "predictions": predictions,
        "skipped_stations": split.skipped,
        "baselines_not_computed": {"climatology": clim_missing} if clim_missing else {},
        "per_station": per_station,
        "overall": {
            "mae_model": model_scores.mae,
            "rmse_model": model_scores.rmse,
            "mae_persistence": pers_scores.mae,
            "rmse_persistence": pers_scores.rmse,
            "mae_climatology": None if clim_scores is None else clim_scores.mae,
            "rmse_climatology": None if clim_scores is None else clim_scores.rmse,
        },
    }


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
        for name, figure in _figures(
            test_set, result["predictions"], model, per_station, label
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
            # inmet_local.ml.train.NextHourRegressor.
            pip_requirements=_requirements(),
            # MLflow serialises with skops, which refuses types it cannot bound-check; this
            # model is built here, so its classes are trusted.
            skops_trusted_types=[
                "inmet_local.ml.train.NextHourRegressor",
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


def summary_json(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False)


def default_tracking_uri() -> str:
    """Local tracking under ./mlruns with no server: runs in mlruns/mlflow.db (SQLite), artifacts
    in mlruns/artifacts/. (MLflow 3 keeps the plain ./mlruns file store in maintenance mode and
    refuses it by default; SQLite is its recommended local store.)"""
    folder = Path("mlruns").resolve()
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _use_experiment(mlflow: Any, name: str) -> None:
    """Select the experiment; a new one on a local SQLite store keeps artifacts in mlruns/."""
    uri = mlflow.get_tracking_uri()
    if mlflow.get_experiment_by_name(name) is None and uri.startswith("sqlite:///"):
        artifacts = Path(uri.removeprefix("sqlite:///")).parent / "artifacts"
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(name)
