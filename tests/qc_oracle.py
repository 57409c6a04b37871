"""An independent statement of the quality-control tests (docs/qc.md), to check the SQL against.

The product's tests live once, in snowflake_sql/modules/qc.sql; this oracle exists only in the
tests and restates them in plain Python, row by row, per file in time order. It reads files with
the validator's reader and the solar geometry of tests/solar_model.py (itself independent of
modules/solar.sql). The thresholds are written here again, on purpose: the warehouse and this
oracle agreeing flag for flag on the real files is what holds the two statements equal.

Values are compared as CLEAN holds them: the number as written, rounded to one decimal (the
columns' NUMBER(p,1)), as exact decimals (4.0 is not above 4).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from inmet_pipeline.columns import MEASURE_NAMES, MEASURES
from inmet_pipeline.reader import read_observations
from tests.solar_model import hour_extraterrestrial_kj

HOUR = timedelta(hours=1)
TENTH = Decimal("0.1")

# step: WMO-No. 305, Guide on the Global Data-processing System, chapter 6, VI.21 (1 hour apart)
STEP_LIMITS = {"air_temp_c": Decimal(4), "dew_point_c": Decimal(4), "pressure_hpa": Decimal(3)}
PERSISTENCE_HOURS = 6
# internal consistency tolerances
DEW_POINT_TOLERANCE = Decimal(0)
HOUR_RANGE_TOLERANCE = {
    "air_temp_c": Decimal("0.5"),
    "dew_point_c": Decimal("0.5"),
    "humidity_pct": Decimal(2),
    "pressure_hpa": Decimal("0.5"),
}
HOUR_RANGES = (  # (value, max, min) of the hour-window fields
    ("air_temp_c", "air_temp_max_c", "air_temp_min_c"),
    ("dew_point_c", "dew_point_max_c", "dew_point_min_c"),
    ("humidity_pct", "humidity_max_pct", "humidity_min_pct"),
    ("pressure_hpa", "pressure_max_hpa", "pressure_min_hpa"),
)
GUST_TOLERANCE = Decimal(0)
HUMIDITY_TOLERANCE = 10.0  # percentage points
# radiation, kJ/m2 in the hour
TOA_MARGIN = 50.0
NIGHT_LIMIT = 20.0
CLEAR_SKY_MARGIN = 50.0
PRESSURE_TOLERANCE = 50.0  # hPa from FAO-56 eq 7's pressure for the altitude


@dataclass(frozen=True, slots=True)
class Flag:
    measure: str
    test: str
    flag: int
    reference: float


Key = tuple[str, datetime]


def _clean(value: float | None, index: int) -> Decimal | None:
    m = MEASURES[index]
    if value is None or not m.low <= value <= m.high:
        return None
    return Decimal(repr(value)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _persistence_key(name: str, row: dict[str, Decimal | None]) -> Decimal | None:
    v = row[name]
    if v is None:
        return None
    if name == "humidity_pct":
        return v if v < 100 else None
    if name in ("wind_speed_ms", "radiation_kj_m2", "precipitation_mm"):
        return v if v > 0 else None
    if name == "wind_direction_deg":
        speed = row["wind_speed_ms"]
        return v if speed is not None and speed > 0 else None
    return v


PERSISTENCE_MEASURES = (
    "precipitation_mm",
    "pressure_hpa",
    "radiation_kj_m2",
    "air_temp_c",
    "dew_point_c",
    "humidity_pct",
    "wind_direction_deg",
    "wind_speed_ms",
)


def saturation_kpa(t: float) -> float:
    """FAO-56 eq 11 (the Magnus-Tetens form)."""
    return 0.6108 * math.exp(17.27 * t / (t + 237.3))


def station_pressure_hpa(altitude: float) -> float:
    """FAO-56 eq 7, in hPa."""
    return float(1013 * ((293 - 0.0065 * altitude) / 293) ** 5.26)


def file_flags(data: bytes) -> tuple[str, dict[Key, list[Flag]]]:
    """Every flag of one file's rows (all of them, latest or not), by (station, hour)."""
    report, obs_rows = read_observations(data)
    rows = sorted(obs_rows, key=lambda o: (o.observed_at, o.line))  # reads the metadata too
    assert report.station is not None
    st = report.station
    station = st.station_id
    lat, lon, alt = float(st.latitude), float(st.longitude), float(st.altitude_m)
    stamps = [o.observed_at.replace(tzinfo=None) for o in rows]
    clean = [
        {
            name: _clean(v, i)
            for i, (name, v) in enumerate(zip(MEASURE_NAMES, o.values, strict=True))
        }
        for o in rows
    ]
    flags: dict[Key, list[Flag]] = {}

    def add(i: int, measure: str, test: str, flag: int, reference: float) -> None:
        flags.setdefault((station, stamps[i]), []).append(Flag(measure, test, flag, reference))

    for i, o in enumerate(rows):
        row = clean[i]
        for m, raw in zip(MEASURES, o.values, strict=True):
            if raw is not None and not m.low <= raw <= m.high:
                add(i, m.name, "gross_error", 2, float(m.low if raw < m.low else m.high))
        consecutive = i > 0 and stamps[i - 1] == stamps[i] - HOUR
        for name, limit in STEP_LIMITS.items():
            v, pv = row[name], clean[i - 1][name] if consecutive else None
            if v is not None and pv is not None and abs(v - pv) > limit:
                add(i, name, "step", 1, float(pv))
        t, td = row["air_temp_c"], row["dew_point_c"]
        if t is not None and td is not None and td > t + DEW_POINT_TOLERANCE:
            add(i, "dew_point_c", "dew_point_above_temperature", 1, float(t))
        for value, high, low in HOUR_RANGES:
            v, hi, lo = row[value], row[high], row[low]
            tol = HOUR_RANGE_TOLERANCE[value]
            if v is not None and hi is not None and v > hi + tol:
                add(i, value, "outside_hour_range", 1, float(hi))
            elif v is not None and lo is not None and v < lo - tol:
                add(i, value, "outside_hour_range", 1, float(lo))
            if hi is not None and lo is not None and lo > hi:
                add(i, high, "min_above_max", 1, float(lo))
                add(i, low, "min_above_max", 1, float(hi))
        gust, speed = row["wind_gust_ms"], row["wind_speed_ms"]
        if gust is not None and speed is not None and gust < speed - GUST_TOLERANCE:
            add(i, "wind_gust_ms", "gust_below_speed", 1, float(speed))
        rh = row["humidity_pct"]
        if t is not None and td is not None and rh is not None:
            expected = 100 * saturation_kpa(float(td)) / saturation_kpa(float(t))
            if abs(float(rh) - expected) > HUMIDITY_TOLERANCE:
                add(i, "humidity_pct", "humidity_inconsistent", 1, expected)
        rad = row["radiation_kj_m2"]
        if rad is not None:
            ra = hour_extraterrestrial_kj(lat, lon, stamps[i])
            rso = (0.75 + 2e-5 * alt) * ra
            if float(rad) > ra + TOA_MARGIN:
                add(i, "radiation_kj_m2", "radiation_above_toa", 2, ra)
            elif ra <= 0 and float(rad) > NIGHT_LIMIT:
                add(i, "radiation_kj_m2", "radiation_at_night", 1, ra)
            elif ra > 0 and float(rad) > rso + CLEAR_SKY_MARGIN:
                add(i, "radiation_kj_m2", "radiation_above_clear_sky", 1, rso)
        p = row["pressure_hpa"]
        if p is not None:
            expected = station_pressure_hpa(alt)
            if abs(float(p) - expected) > PRESSURE_TOLERANCE:
                add(i, "pressure_hpa", "pressure_vs_altitude", 1, expected)
    for name in PERSISTENCE_MEASURES:
        keys = [_persistence_key(name, r) for r in clean]
        start = 0
        for i in range(1, len(rows) + 1):
            same = (
                i < len(rows)
                and keys[i] is not None
                and keys[i] == keys[i - 1]
                and stamps[i - 1] == stamps[i] - HOUR
            )
            if same:
                continue
            length = i - start
            if keys[start] is not None and length >= PERSISTENCE_HOURS:
                for k in range(start, i):
                    add(k, name, "persistence", 1, float(PERSISTENCE_HOURS))
            start = i
    return station, flags


def expected_flags(files: Iterable[bytes]) -> dict[Key, list[Flag]]:
    """The flags of the rows of CLEAN after loading ``files`` in order (a later file replaces an
    hour: its flags come with it), by (station, hour); rows without a flag are absent."""
    out: dict[Key, list[Flag]] = {}
    for data in files:
        station, flags = file_flags(data)
        for o in read_observations(data)[1]:
            key = (station, o.observed_at.replace(tzinfo=None))
            out.pop(key, None)
            if all(_clean(v, i) is None for i, v in enumerate(o.values)):
                continue  # rule 6: not in CLEAN, nor are its flags
            if key in flags:
                out[key] = flags[key]
    return out


def measure_flags(flags: list[Flag]) -> dict[str, int]:
    """The `<measure>_qc` value of each flagged measure: the highest flag of its tests."""
    worst: dict[str, int] = {}
    for f in flags:
        worst[f.measure] = max(worst.get(f.measure, 0), f.flag)
    return worst
