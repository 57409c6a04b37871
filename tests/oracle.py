"""An independent statement of docs/contracts.md §3 in Python, to check the SQL against.

The product's rules live once, in snowflake_sql/; this oracle exists only in the tests. It
reads files with the validator's reader and applies rules 4-7 in plain Python.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURES
from inmet_pipeline.reader import read_observations
from tests.qc_oracle import file_flags, measure_flags

Key = tuple[str, datetime]


def clean_value(value: float | None, index: int) -> float | None:
    measure = MEASURES[index]
    if value is None or not measure.low <= value <= measure.high:
        return None
    return value


def expected_clean(
    files: Iterable[bytes], quality_control: bool = True
) -> dict[Key, tuple[float | None, ...]]:
    """CLEAN after loading ``files`` in order (each file a later load than the previous): rules
    4-7, and a value quality control flags erroneous is NULL (tests/qc_oracle.py, docs/qc.md;
    ``quality_control=False``: CLEAN as it was before quality control)."""
    clean: dict[Key, tuple[float | None, ...]] = {}
    for data in files:
        flags = file_flags(data)[1] if quality_control else {}
        report, rows = read_observations(data)
        for obs in rows:
            assert report.station is not None
            key = (report.station.station_id, obs.observed_at.replace(tzinfo=None))
            values = tuple(clean_value(v, i) for i, v in enumerate(obs.values))
            if all(v is None for v in values):
                clean.pop(key, None)  # rule 6, and rule 7: the later load replaces
            else:
                erroneous = {f.measure for f in flags.get(key, ()) if f.flag == 2}
                clean[key] = tuple(
                    None if MEASURES[i].name in erroneous else v for i, v in enumerate(values)
                )
    return clean


def expected_qc(files: Iterable[bytes]) -> dict[Key, tuple[int | None, ...]]:
    """The 17 `<measure>_qc` flags of each CLEAN row after loading ``files`` in order (the
    rows of expected_clean): empty (None) where the file had no value, else the highest flag of
    the value's tests in tests/qc_oracle.py, 0 when none fired (docs/qc.md)."""
    out: dict[Key, tuple[int | None, ...]] = {}
    for data in files:
        station, flags = file_flags(data)
        for obs in read_observations(data)[1]:
            key = (station, obs.observed_at.replace(tzinfo=None))
            if all(clean_value(v, i) is None for i, v in enumerate(obs.values)):
                out.pop(key, None)  # rule 6: not in CLEAN
                continue
            worst = measure_flags(flags.get(key, []))
            out[key] = tuple(
                None if v is None else worst.get(m.name, 0)
                for m, v in zip(MEASURES, obs.values, strict=True)
            )
    return out


def as_float(value: object) -> float | None:
    if value is None:
        return None
    assert isinstance(value, Decimal | int | float), value
    return float(value)


def expected_clean_csv(files: Iterable[bytes], path: Path) -> Path:
    """The CLEAN contract CSV (docs/contracts.md §3: CLEAN_COLUMNS with the quality-control
    flags, observed_at as ...Z) that
    ``inmet fetch`` would write after loading ``files``: the oracle's rows (rules 4-7) with
    the station attributes its own year's file states (rule 1, the station history; a later
    file of the same station-year wins), read by the validator's reader. Stands in for the full
    local stack where a test only needs the data."""
    datas = list(files)
    attributes: dict[tuple[str, int], tuple[object, ...]] = {}
    for data in datas:
        report, rows = read_observations(data)
        first = next(rows, None)  # the metadata lines are read with the first row
        assert report.station is not None
        if first is None:
            continue  # no row: nothing of the file is in CLEAN
        st = report.station
        attributes[(st.station_id, first.observed_at.year)] = (
            st.station_id,
            st.station_name,
            st.region,
            st.state,
            st.latitude,
            st.longitude,
            st.altitude_m,
        )
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CLEAN_COLUMNS)
        qc = expected_qc(datas)
        for (station_id, observed_at), values in sorted(expected_clean(datas).items()):
            writer.writerow(
                [
                    *attributes[(station_id, observed_at.year)],
                    observed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    *("" if v is None else v for v in values),
                    *("" if f is None else f for f in qc[(station_id, observed_at)]),
                ]
            )
    return path
