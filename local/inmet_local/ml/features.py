"""Features for next-hour air temperature, per station on a complete hourly grid, and the split
that keeps every station in both training and test.

The features are chosen so that one model can serve stations of any climate and any year
(README, "Experiments"): the hour of day is the station's local *solar* hour (UTC + longitude /
15), so 14:00 means early afternoon everywhere; the model predicts the *change* over the next
hour, which is alike across climates, rather than the temperature itself, which a tree model
cannot extrapolate to a station warmer or colder than the ones it was trained on; and the
station's latitude and altitude are features, so it can still tell stations apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TARGET = "target_air_temp_next_c"
FEATURES = [
    "air_temp_c",
    "lag_1h",
    "lag_2h",
    "lag_3h",
    "lag_23h",
    "lag_24h",
    "change_1h",
    "change_2h",
    "change_same_hour_yesterday",
    "anomaly_24h",
    "roll_mean_3h",
    "roll_mean_6h",
    "roll_mean_24h",
    "roll_range_24h",
    "solar_hour_sin",
    "solar_hour_cos",
    "doy_sin",
    "doy_cos",
    "humidity_pct",
    "humidity_change_1h",
    "dew_point_c",
    "dew_point_depression_c",
    "pressure_hpa",
    "pressure_tendency_3h",
    "radiation_kj_m2",
    "radiation_change_1h",
    "precipitation_mm",
    "wind_speed_ms",
    "latitude",
    "altitude_m",
]
# The longest look-back of any feature (lag_24h, the 24-hour windows). The split leaves this many
# hours out between a station's training and test rows, so that no test row's features reach
# into hours the model was trained to predict, and no training row's target is a test hour.
LOOKBACK_HOURS = 24
# A station needs this many usable hours (current and next temperature known) to be split into
# training and test: 30 days, so that its test part (20%) holds at least six days, every hour of
# the day several times, and its training part gives the climatology of every hour.
MIN_STATION_HOURS = 30 * 24


def solar_hour(observed_at: pd.Series | pd.DatetimeIndex, longitude: float) -> np.ndarray:
    """The local mean solar hour (0-24) of UTC timestamps at ``longitude`` (degrees east).

    Falls back to the UTC hour when the longitude is unknown.
    """
    index = pd.DatetimeIndex(observed_at)
    hours = (index.hour + index.minute / 60).to_numpy(dtype="float64")
    if not np.isfinite(longitude):
        return hours
    return np.mod(hours + longitude / 15.0, 24.0)


def _station_value(group: pd.DataFrame, column: str) -> float:
    if column not in group.columns:
        return float("nan")
    values = pd.to_numeric(group[column], errors="coerce").dropna()
    return float(values.iloc[0]) if len(values) else float("nan")


def build_features(clean: pd.DataFrame) -> pd.DataFrame:
    """One row per station and hour with the features and the next hour's temperature.

    Each station is put on a complete hourly grid first, so that a lag of 1 h is one hour even
    across missing hours (they become NaN, which the model accepts). Rows are the hours whose
    temperature and next hour's temperature are both known.
    """
    frames = []
    for station_id, group in clean.groupby("station_id", sort=True):
        series = group.set_index("observed_at").sort_index()
        series = series[~series.index.duplicated(keep="last")]
        grid = pd.date_range(series.index.min(), series.index.max(), freq="h", tz="UTC")
        hourly = series.reindex(grid)
        temp = hourly["air_temp_c"].astype("float64")
        known_now = temp.notna() & temp.shift(-1).notna()
        out = pd.DataFrame(index=grid)
        out["station_id"] = station_id
        out["observed_at"] = grid
        out["air_temp_c"] = temp
        for lag in (1, 2, 3, 23, 24):
            out[f"lag_{lag}h"] = temp.shift(lag)
        out["change_1h"] = temp - temp.shift(1)
        out["change_2h"] = temp - temp.shift(2)
        # What the temperature did over the same hour yesterday (t-24 -> t-23).
        out["change_same_hour_yesterday"] = temp.shift(23) - temp.shift(24)
        for window in (3, 6, 24):
            out[f"roll_mean_{window}h"] = temp.rolling(window, min_periods=1).mean()
        out["anomaly_24h"] = temp - out["roll_mean_24h"]
        out["roll_range_24h"] = (
            temp.rolling(24, min_periods=6).max() - temp.rolling(24, min_periods=6).min()
        )
        longitude = _station_value(group, "longitude")
        hour = solar_hour(grid, longitude)
        doy = grid.day_of_year.to_numpy()
        out["solar_hour_sin"] = np.sin(2 * np.pi * hour / 24)
        out["solar_hour_cos"] = np.cos(2 * np.pi * hour / 24)
        out["doy_sin"] = np.sin(2 * np.pi * doy / 365.25)
        out["doy_cos"] = np.cos(2 * np.pi * doy / 365.25)
        for column in (
            "humidity_pct",
            "dew_point_c",
            "pressure_hpa",
            "radiation_kj_m2",
            "precipitation_mm",
            "wind_speed_ms",
        ):
            out[column] = hourly[column].astype("float64")
        out["humidity_change_1h"] = out["humidity_pct"] - out["humidity_pct"].shift(1)
        out["dew_point_depression_c"] = temp - out["dew_point_c"]
        out["pressure_tendency_3h"] = out["pressure_hpa"] - out["pressure_hpa"].shift(3)
        out["radiation_change_1h"] = out["radiation_kj_m2"] - out["radiation_kj_m2"].shift(1)
        out["latitude"] = _station_value(group, "latitude")
        out["altitude_m"] = _station_value(group, "altitude_m")
        out["hour"] = grid.hour.to_numpy()  # UTC, for reports
        out["solar_hour"] = np.floor(hour).astype("int64") % 24  # local solar, for baselines
        out[TARGET] = temp.shift(-1)
        frames.append(out[known_now.to_numpy()])
    if not frames:
        return pd.DataFrame(columns=["station_id", "observed_at", *FEATURES, "hour", TARGET])
    return pd.concat(frames, ignore_index=True)


@dataclass(slots=True)
class Split:
    """Training and test rows, and the stations left out with the reason."""

    train: pd.DataFrame
    test: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)


def station_split(
    features: pd.DataFrame,
    test_fraction: float = 0.2,
    gap_hours: int = LOOKBACK_HOURS,
    min_hours: int = MIN_STATION_HOURS,
) -> Split:
    """Per station: its last ``test_fraction`` of usable hours for test, its earlier hours for
    training, with ``gap_hours`` between them left out.

    Each station is split on its own series, so a mix of stations of different years keeps
    every station in both parts (a split of the overall time range would put whole stations
    in one part). A station with fewer than ``min_hours`` usable hours is skipped and named in
    ``skipped``, with the reason.
    """
    trains, tests = [], []
    skipped: dict[str, str] = {}
    for station_id, rows in features.groupby("station_id", sort=True):
        rows = rows.sort_values("observed_at")
        if len(rows) < min_hours:
            skipped[str(station_id)] = (
                f"{len(rows)} usable hours, fewer than the {min_hours} "
                f"({min_hours // 24} days) needed to train and test on it"
            )
            continue
        first_test = rows["observed_at"].iloc[int(len(rows) * (1 - test_fraction))]
        last_train = first_test - pd.Timedelta(hours=gap_hours)
        trains.append(rows[rows["observed_at"] < last_train])
        tests.append(rows[rows["observed_at"] >= first_test])
    empty = features.iloc[0:0]
    return Split(
        train=pd.concat(trains, ignore_index=True) if trains else empty.copy(),
        test=pd.concat(tests, ignore_index=True) if tests else empty.copy(),
        skipped=skipped,
    )


def time_split(
    features: pd.DataFrame, test_fraction: float = 0.2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-station split (``station_split``) without the skipped list."""
    split = station_split(features, test_fraction)
    return split.train, split.test
