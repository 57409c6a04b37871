"""Features for next-hour air temperature, per station on a complete hourly grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET = "target_air_temp_next_c"
FEATURES = [
    "air_temp_c",
    "lag_1h",
    "lag_2h",
    "lag_3h",
    "lag_24h",
    "change_1h",
    "roll_mean_3h",
    "roll_mean_6h",
    "roll_mean_24h",
    "hour_sin",
    "hour_cos",
    "doy_sin",
    "doy_cos",
    "humidity_pct",
    "dew_point_c",
    "pressure_hpa",
    "pressure_tendency_3h",
    "radiation_kj_m2",
    "wind_speed_ms",
]


def build_features(clean: pd.DataFrame) -> pd.DataFrame:
    """One row per station and hour with the features and the next hour's temperature.

    Each station is put on a complete hourly grid first, so that a lag of 1 h is one hour even
    across missing hours (they become NaN, which the model accepts).
    """
    frames = []
    for station_id, group in clean.groupby("station_id", sort=True):
        series = group.set_index("observed_at").sort_index()
        grid = pd.date_range(series.index.min(), series.index.max(), freq="h", tz="UTC")
        hourly = series.reindex(grid)
        temp = hourly["air_temp_c"]
        out = pd.DataFrame(index=grid)
        out["station_id"] = station_id
        out["observed_at"] = grid
        out["air_temp_c"] = temp
        for lag in (1, 2, 3, 24):
            out[f"lag_{lag}h"] = temp.shift(lag)
        out["change_1h"] = temp - temp.shift(1)
        for window in (3, 6, 24):
            out[f"roll_mean_{window}h"] = temp.rolling(window, min_periods=1).mean()
        hour = grid.hour.to_numpy()
        doy = grid.day_of_year.to_numpy()
        out["hour_sin"] = np.sin(2 * np.pi * hour / 24)
        out["hour_cos"] = np.cos(2 * np.pi * hour / 24)
        out["doy_sin"] = np.sin(2 * np.pi * doy / 365.25)
        out["doy_cos"] = np.cos(2 * np.pi * doy / 365.25)
        for column in (
            "humidity_pct",
            "dew_point_c",
            "pressure_hpa",
            "radiation_kj_m2",
            "wind_speed_ms",
        ):
            out[column] = hourly[column]
        out["pressure_tendency_3h"] = hourly["pressure_hpa"] - hourly["pressure_hpa"].shift(3)
        out["hour"] = hour
        out[TARGET] = temp.shift(-1)
        frames.append(out)
    features = pd.concat(frames, ignore_index=True)
    # Rows usable for training and evaluation: the current and next temperature are known.
    return features.dropna(subset=["air_temp_c", TARGET]).reset_index(drop=True)


def time_split(
    features: pd.DataFrame, test_fraction: float = 0.2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on the earlier hours, test on the last ``test_fraction`` of the time range."""
    start, end = features["observed_at"].min(), features["observed_at"].max()
    cut = start + (end - start) * (1 - test_fraction)
    return (
        features[features["observed_at"] <= cut].reset_index(drop=True),
        features[features["observed_at"] > cut].reset_index(drop=True),
    )
