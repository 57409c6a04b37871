"""The figures logged with a run (predicted vs observed, error and residuals by hour, MAE per
station, feature importance), drawn with matplotlib's Agg backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from inmet_local.ml.features import FEATURES, TARGET
from inmet_local.ml.model import NextHourRegressor


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


def mae_by_station_figure(
    per_station: Mapping[str, Mapping[str, Any]], label: str, names: Mapping[str, str]
) -> Any:
    """Test MAE of the model and both baselines, one row of bars per station (its code and
    name), sorted by the model's MAE: readable at any number of stations, where one column per
    station made a 2,480-pixel-wide strip of codes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stations = sorted(per_station, key=lambda s: per_station[s]["mae_model"], reverse=True)
    fig, ax = plt.subplots(figsize=(9.5, 0.55 * len(stations) + 1.8))
    height = 0.27
    rows = np.arange(len(stations))
    for offset, key in ((height, "model"), (0, "persistence"), (-height, "climatology")):
        values = [per_station[s][f"mae_{key}"] for s in stations]
        ax.barh(rows + offset, [np.nan if v is None else v for v in values], height, label=key)
    ax.set_yticks(rows, [f"{s} {names.get(s, '')}".strip() for s in stations])
    ax.set_xlabel("test MAE of the next-hour air temperature (°C)")
    ax.set_title(
        f"Test MAE per station ({label})\nno bar: that baseline could not be computed",
        fontsize=11,
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never over them
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def run_figures(
    test: pd.DataFrame,
    predictions: dict[str, np.ndarray],
    model: NextHourRegressor,
    per_station: dict[str, dict[str, Any]],
    label: str,
    names: Mapping[str, str] | None = None,
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

    figures["mae_by_station.png"] = mae_by_station_figure(per_station, label, names or {})

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
