"""The data passport: what a run was trained on (the training CSV's sha256, rows, stations,
period, real or generated, features), logged with every run so that a registered model traces
back to its data."""

from __future__ import annotations

from typing import Any

import pandas as pd

from inmet_local.ml.data import data_origin, frame_sha256, origin_label
from inmet_local.ml.features import FEATURES

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
