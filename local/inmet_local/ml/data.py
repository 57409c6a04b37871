"""Load inmet_clean.csv (CONTRACTS §3) for analysis, or make a realistic sample without one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURE_NAMES

DEFAULT_CLEAN_CSV = Path("data/processed/inmet_clean.csv")


def load_clean(path: Path) -> pd.DataFrame:
    """The contract CSV as a typed frame: observed_at as UTC timestamps, measures as floats."""
    frame = pd.read_csv(
        path,
        dtype={
            "station_id": "string",
            "station_name": "string",
            "region": "string",
            "state": "string",
        },
    )
    missing = [c for c in CLEAN_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} is not an inmet_clean.csv: missing columns {missing}")
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    for column in (*MEASURE_NAMES, "latitude", "longitude", "altitude_m"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame.sort_values(["station_id", "observed_at"]).reset_index(drop=True)


def sample_clean(stations: int = 3, year: int = 2023, seed: int = 0) -> pd.DataFrame:
    """A CLEAN-shaped frame from the sample generator (for demos and tests without data).

    The generator's values are already in range and all-missing hours are dropped, so this is
    what CLEAN holds for those files.
    """
    from inmet_local.synth import generate_station_year, station_catalogue

    records = []
    for station in station_catalogue(stations, seed):
        synth = generate_station_year(station, year, seed=seed, keep_values=True)
        assert synth.values is not None
        attributes = (
            station.station_id,
            station.name,
            station.region,
            station.state,
            station.latitude,
            station.longitude,
            station.altitude_m,
        )
        for observed_at, values in synth.values:
            if all(v is None for v in values):
                continue
            records.append((*attributes, observed_at, *values))
    frame = pd.DataFrame.from_records(records, columns=list(CLEAN_COLUMNS))
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    for column in MEASURE_NAMES:
        frame[column] = frame[column].astype("float64")
    return frame


def load_or_sample(path: Path | None = None) -> tuple[pd.DataFrame, str]:
    """The CLEAN data at ``path`` (default data/processed/inmet_clean.csv), else a sample."""
    path = path or DEFAULT_CLEAN_CSV
    if path.exists():
        return load_clean(path), str(path)
    return sample_clean(), (
        "generated sample (no data/processed/inmet_clean.csv yet: put your INMET files in "
        "data/raw/ and run make demo)"
    )
