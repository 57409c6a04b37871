"""An independent statement of CONTRACTS.md §3 in Python, to check the SQL against.

The product's rules live once, in snowflake_sql/; this oracle exists only in the tests. It
reads files with the validator's reader and applies rules 4-7 in plain Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from inmet_pipeline.columns import MEASURES
from inmet_pipeline.reader import read_observations

Key = tuple[str, datetime]


def clean_value(value: float | None, index: int) -> float | None:
    measure = MEASURES[index]
    if value is None or not measure.low <= value <= measure.high:
        return None
    return value


def expected_clean(files: Iterable[bytes]) -> dict[Key, tuple[float | None, ...]]:
    """CLEAN after loading ``files`` in order (each file a later load than the previous)."""
    clean: dict[Key, tuple[float | None, ...]] = {}
    for data in files:
        report, rows = read_observations(data)
        for obs in rows:
            assert report.station is not None
            key = (report.station.station_id, obs.observed_at.replace(tzinfo=None))
            values = tuple(clean_value(v, i) for i, v in enumerate(obs.values))
            if all(v is None for v in values):
                clean.pop(key, None)  # rule 6, and rule 7: the later load replaces
            else:
                clean[key] = values
    return clean


def as_float(value: object) -> float | None:
    if value is None:
        return None
    assert isinstance(value, Decimal | int | float), value
    return float(value)
