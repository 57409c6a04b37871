"""Train a next-hour air-temperature model on CLEAN and track everything in MLflow.

Baselines: persistence (the next hour is like this hour) and climatology (the station's mean
temperature at that hour of day, from the training period). Model: gradient boosting
(scikit-learn's HistGradientBoostingRegressor, which takes missing values as they are).
Split: by time — the last 20% of the period is the test set, never seen in training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inmet_local.ml.features import FEATURES, TARGET, build_features, time_split

DEFAULT_EXPERIMENT = "inmet-next-hour-temperature"
DEFAULT_MODEL_NAME = "inmet-next-hour-temperature"


@dataclass(frozen=True, slots=True)
class Scores:
    mae: float
    rmse: float


def scores(observed: pd.Series, predicted: pd.Series | np.ndarray) -> Scores:
    error = np.asarray(predicted, dtype="float64") - observed.to_numpy(dtype="float64")
    return Scores(float(np.mean(np.abs(error))), float(math.sqrt(np.mean(error**2))))


def _climatology(train: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
    target_hour = (train["hour"] + 1) % 24
    means = (
        train.assign(target_hour=target_hour).groupby(["station_id", "target_hour"])[TARGET].mean()
    )
    keys = pd.MultiIndex.from_arrays([test["station_id"], (test["hour"] + 1) % 24])
    predicted = pd.Series(means.reindex(keys).to_numpy(), index=test.index)
    # A station-hour never seen in training falls back to persistence.
    return predicted.fillna(test["air_temp_c"])


def _figures(test: pd.DataFrame, predicted: np.ndarray, model: Any) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.inspection import permutation_importance

    figures: dict[str, Any] = {}
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(test[TARGET], predicted, s=2, alpha=0.3)
    low, high = float(test[TARGET].min()), float(test[TARGET].max())
    ax.plot([low, high], [low, high], color="black", linewidth=1)
    ax.set_xlabel("observed next-hour air temperature (°C)")
    ax.set_ylabel("predicted (°C)")
    ax.set_title("Predicted vs observed (test period)")
    figures["predicted_vs_observed.png"] = fig

    fig, ax = plt.subplots(figsize=(8, 4))
    residuals = pd.DataFrame({"hour": test["hour"], "residual": predicted - test[TARGET]})
    residuals.boxplot(column="residual", by="hour", ax=ax, showfliers=False)
    ax.axhline(0, color="black", linewidth=1)
    ax.set_xlabel("hour of day (UTC)")
    ax.set_ylabel("residual (°C)")
    ax.set_title("Residuals by hour")
    fig.suptitle("")
    figures["residuals_by_hour.png"] = fig

    sample = test.sample(min(len(test), 3000), random_state=0)
    importance = permutation_importance(
        model,
        sample[FEATURES],
        sample[TARGET],
        n_repeats=3,
        random_state=0,
        scoring="neg_mean_absolute_error",
    )
    order = np.argsort(importance.importances_mean)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.barh(np.array(FEATURES)[order], importance.importances_mean[order])
    ax.set_xlabel("increase in MAE when shuffled (°C)")
    ax.set_title("Feature importance (permutation)")
    fig.tight_layout()
    figures["feature_importance.png"] = fig
    return figures


def train(
    clean: pd.DataFrame,
    *,
    stations: list[str] | None = None,
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    model_name: str | None = DEFAULT_MODEL_NAME,
    data_source: str = "",
    max_iter: int = 300,
) -> dict[str, Any]:
    """Train, evaluate and log one run; return the figures as a JSON-able dict."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.ensemble import HistGradientBoostingRegressor

    if stations:
        unknown = sorted(set(stations) - set(clean["station_id"].unique()))
        if unknown:
            raise ValueError(f"no data for station(s) {', '.join(unknown)}")
        clean = clean[clean["station_id"].isin(stations)]
    features = build_features(clean)
    if len(features) < 500:
        raise ValueError(f"only {len(features)} usable hours: too few to train (need 500)")
    train_set, test_set = time_split(features)

    model = HistGradientBoostingRegressor(
        max_iter=max_iter,
        learning_rate=0.05,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        random_state=0,
    )
    model.fit(train_set[FEATURES], train_set[TARGET])
    predicted = model.predict(test_set[FEATURES])
    model_scores = scores(test_set[TARGET], predicted)
    persistence = scores(test_set[TARGET], test_set["air_temp_c"])
    climatology = scores(test_set[TARGET], _climatology(train_set, test_set))

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    _use_experiment(mlflow, experiment)
    with mlflow.start_run() as run:
        mlflow.log_params(
            {
                "model": "HistGradientBoostingRegressor",
                "max_iter": max_iter,
                "learning_rate": 0.05,
                "max_leaf_nodes": 31,
                "l2_regularization": 1.0,
                "features": ",".join(FEATURES),
                "target": "air_temp_c at t+1h",
                "split": "time-based, last 20% for test",
                "stations": ",".join(sorted(features["station_id"].unique())),
                "train_rows": len(train_set),
                "test_rows": len(test_set),
                "data": data_source[:250],
            }
        )
        mlflow.log_metrics(
            {
                "mae_model": model_scores.mae,
                "rmse_model": model_scores.rmse,
                "mae_persistence": persistence.mae,
                "rmse_persistence": persistence.rmse,
                "mae_climatology": climatology.mae,
                "rmse_climatology": climatology.rmse,
            }
        )
        per_station = {}
        for station_id, rows in test_set.groupby("station_id"):
            station_scores = scores(rows[TARGET], predicted[rows.index])
            per_station[str(station_id)] = station_scores
            mlflow.log_metrics(
                {
                    f"mae_model_{station_id}": station_scores.mae,
                    f"rmse_model_{station_id}": station_scores.rmse,
                }
            )
        for name, figure in _figures(test_set, predicted, model).items():
            mlflow.log_figure(figure, name)
        example = train_set[FEATURES].head(5)
        signature = infer_signature(example, model.predict(example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=example,
            registered_model_name=model_name,
            # MLflow serialises with skops, which refuses types it cannot bound-check; this
            # model is built here, so its tree predictor is trusted.
            skops_trusted_types=[
                "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
            ],
        )
    return {
        "run_id": run.info.run_id,
        "experiment": experiment,
        "model_uri": info.model_uri,
        "registered_model": model_name,
        "mae_model": round(model_scores.mae, 4),
        "mae_persistence": round(persistence.mae, 4),
        "mae_climatology": round(climatology.mae, 4),
        "rmse_model": round(model_scores.rmse, 4),
        "improvement_vs_persistence": round(1 - model_scores.mae / persistence.mae, 4),
        "mae_model_by_station": {k: round(v.mae, 4) for k, v in per_station.items()},
        "test_rows": len(test_set),
    }


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
