"""Evaluation: the split, the model's scores and the baselines', per station and overall.

Split: per station (``features.station_split``): the last 20% of each station's own usable
hours is its test part, its earlier hours (less a 24-hour gap) its training part, so every
station is in both; a station with too little history is skipped and listed.

Baselines, per station and from that station's training rows only: persistence (the next hour
is like this hour) and climatology (the station's mean temperature at that local solar hour).
A baseline that cannot be computed for a station is reported as such, never replaced.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from inmet_local.ml.features import MIN_STATION_HOURS, TARGET, build_features, station_split
from inmet_local.ml.model import MODEL_PARAMS, NextHourRegressor, Progress

TEST_FRACTION = 0.2


@dataclass(frozen=True, slots=True)
class Scores:
    mae: float
    rmse: float


def scores(observed: pd.Series | np.ndarray, predicted: pd.Series | np.ndarray) -> Scores:
    error = np.asarray(predicted, dtype="float64") - np.asarray(observed, dtype="float64")
    return Scores(float(np.mean(np.abs(error))), float(math.sqrt(np.mean(error**2))))


def _target_month(frame: pd.DataFrame) -> pd.Series:
    """The calendar month of the hour each row predicts (the next one)."""
    month: pd.Series = (frame["observed_at"] + pd.Timedelta(hours=1)).dt.month
    return month


def climatology(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.Series, dict[str, str]]:
    """Each test row's station mean of the next hour's temperature in that calendar month and
    at that local solar hour, from the station's own training rows; NaN where that cannot be
    computed, with the reason per station (never another station's or another baseline's value).

    By month, not over the whole training part: a station's test part is its last 20%, so a
    mean of all its training hours would be a January-October mean judged on October-December.
    With a single year of data the test months have no training rows, and the baseline is
    reported as not computed rather than computed wrong."""
    keys_train = [train["station_id"], _target_month(train), (train["solar_hour"] + 1) % 24]
    table = train.groupby(keys_train)[TARGET].mean()
    keys = pd.MultiIndex.from_arrays(
        [test["station_id"], _target_month(test), (test["solar_hour"] + 1) % 24]
    )
    predicted = pd.Series(table.reindex(keys).to_numpy(dtype="float64"), index=test.index)
    missing: dict[str, str] = {}
    for station_id, rows in test.groupby("station_id"):
        unknown = rows[predicted[rows.index].isna()]
        if unknown.empty:
            continue
        months = sorted(set(_target_month(unknown)))
        trained = set(_target_month(train[train["station_id"] == station_id]))
        absent = [m for m in months if m not in trained]
        reasons = []
        if absent:
            reasons.append(
                "no training rows in "
                + ", ".join(calendar.month_abbr[m] for m in absent)
                + " (a climatology needs the same months in earlier data)"
            )
        hours = sorted(
            set(((unknown["solar_hour"] + 1) % 24)[~_target_month(unknown).isin(absent)])
        )
        if hours:
            reasons.append(
                "no training rows at local solar hour(s) " + ", ".join(str(h) for h in hours)
            )
        missing[str(station_id)] = "; ".join(reasons)
    return predicted, missing


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
