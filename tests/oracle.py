"""An independent statement of docs/contracts.md §3 in Python, to check the SQL against.

The product's rules live once, in snowflake_sql/; this oracle exists only in the tests. It
reads files with the validator's reader and applies rules 4-7 in plain Python.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date as date_type
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURES
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


def expected_clean_csv(files: Iterable[bytes], path: Path) -> Path:
    """The CLEAN contract CSV (docs/contracts.md §3: CLEAN_COLUMNS, observed_at as ...Z) that
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
        for (station_id, observed_at), values in sorted(expected_clean(datas).items()):
            writer.writerow(
                [
                    *attributes[(station_id, observed_at.year)],
                    observed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    *("" if v is None else v for v in values),
                ]
            )
    return path


# --- daily values (docs/daily.md), restated independently of snowflake_sql/ -----------------
# The local day from the tz database itself (python's zoneinfo), the sun from tests/solar_model,
# ETo from FAO-56's equations written out again here.

StationYear = tuple[str, int]
# (state, latitude, longitude, altitude_m) of a station-year.
Attributes = tuple[str, float, float, float]

DAILY_VALUE_COLUMNS = (
    "precipitation_mm",
    "air_temp_mean_c",
    "air_temp_max_c",
    "air_temp_min_c",
    "humidity_mean_pct",
    "humidity_max_pct",
    "humidity_min_pct",
    "pressure_mean_hpa",
    "wind_speed_mean_ms",
    "wind_direction_deg",
    "wind_gust_max_ms",
    "radiation_mj_m2",
    "eto_mm",
)


def station_zone(state: str, latitude: float, longitude: float) -> str:
    """The tz database zone of a Brazilian station (docs/daily.md's table)."""
    if longitude > -33:
        return "America/Noronha"
    if state == "AC":
        return "America/Rio_Branco"
    if state == "AM":
        # West of the straight line from Tabatinga (4.2525 S, 69.9383 W) to Porto Acre
        # (9.5881 S, 67.5331 W): the side of the line by the sign of a cross product.
        (ay, ax), (by, bx) = (-4.2525, -69.9383), (-9.5881, -67.5331)
        cross = (bx - ax) * (latitude - ay) - (by - ay) * (longitude - ax)
        return "America/Eirunepe" if cross < 0 else "America/Manaus"
    return {
        "MT": "America/Cuiaba",
        "MS": "America/Campo_Grande",
        "RO": "America/Porto_Velho",
        "RR": "America/Boa_Vista",
    }.get(state, "America/Sao_Paulo")


def standard_offset_hours(zone: str, instant: datetime) -> int:
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    local = instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    total = (local.utcoffset() or timedelta(0)) - (local.dst() or timedelta(0))
    return int(total.total_seconds() // 3600)


def local_date_of_hour(zone: str, ts: datetime) -> date_type:
    from datetime import timedelta

    mid = ts - timedelta(minutes=30)
    return (mid + timedelta(hours=standard_offset_hours(zone, mid))).date()


def fao56_eto(
    tmax: float,
    tmin: float,
    rhmax: float,
    rhmin: float,
    u10: float,
    rs: float,
    latitude: float,
    altitude: float,
    j: int,
) -> float:
    """FAO-56 daily Penman-Monteith (eq 6), G = 0, from eqs 7, 8, 11-13, 17, 21, 37-40, 47."""
    import math

    from tests import solar_model

    def e0(t: float) -> float:
        return 0.6108 * math.exp(17.27 * t / (t + 237.3))

    pressure = 101.3 * math.pow((293 - 0.0065 * altitude) / 293, 5.26)
    gamma = 0.665e-3 * pressure
    tmean = (tmax + tmin) / 2
    es = (e0(tmax) + e0(tmin)) / 2
    delta = 4098 * e0(tmean) / (tmean + 237.3) ** 2
    ea = (e0(tmin) * rhmax / 100 + e0(tmax) * rhmin / 100) / 2
    u2 = u10 * 4.87 / math.log(67.8 * 10 - 5.42)
    rso = (0.75 + 2e-5 * altitude) * solar_model.day_extraterrestrial_mj(latitude, j)
    sigma = 4.903e-9
    rnl = (
        sigma
        * ((tmax + 273.16) ** 4 + (tmin + 273.16) ** 4)
        / 2
        * (0.34 - 0.14 * math.sqrt(ea))
        * (1.35 * min(1.0, rs / rso) - 0.35)
    )
    rn = 0.77 * rs - rnl
    return (0.408 * delta * rn + gamma * 900 / (tmean + 273) * u2 * (es - ea)) / (
        delta + gamma * (1 + 0.34 * u2)
    )


def expected_daily(
    clean: dict[Key, tuple[float | None, ...]], attributes: dict[StationYear, Attributes]
) -> dict[tuple[str, date_type], dict[str, float | int | None]]:
    """CLEAN.DAILY from CLEAN's hours and the station history, by the rules of docs/daily.md."""
    import math
    from datetime import timedelta

    from inmet_pipeline.columns import MEASURE_NAMES
    from tests import solar_model

    col = {name: i for i, name in enumerate(MEASURE_NAMES)}
    day_year: dict[tuple[str, date_type], int] = {}
    for station, ts in clean:
        state, lat, lon, _ = attributes[(station, ts.year)]
        key = (station, local_date_of_hour(station_zone(state, lat, lon), ts))
        day_year[key] = min(day_year.get(key, ts.year), ts.year)
    out: dict[tuple[str, date_type], dict[str, float | int | None]] = {}
    for (station, day), year in day_year.items():
        state, lat, lon, alt = attributes[(station, year)]
        zone = station_zone(state, lat, lon)
        midnight = datetime(day.year, day.month, day.day)
        hours = [
            t
            for t in (midnight + timedelta(hours=k) for k in range(1, 31))
            if local_date_of_hour(zone, t) == day
        ]
        rows = [clean.get((station, t)) for t in hours]
        if all(r is None for r in rows):
            continue

        def values(name: str, rows: list[tuple[float | None, ...] | None] = rows) -> list[float]:
            return [v for r in rows if r is not None and (v := r[col[name]]) is not None]

        rec: dict[str, float | int | None] = {
            "utc_offset": standard_offset_hours(zone, midnight + timedelta(hours=16)),
            "day_hours": len(hours),
        }
        precipitation = values("precipitation_mm")
        rec["n_precipitation_mm"] = len(precipitation)
        rec["precipitation_mm"] = sum(precipitation) if len(precipitation) == len(hours) else None
        for name, source, how in (
            ("air_temp_mean_c", "air_temp_c", "mean"),
            ("air_temp_max_c", "air_temp_max_c", "max"),
            ("air_temp_min_c", "air_temp_min_c", "min"),
            ("humidity_mean_pct", "humidity_pct", "mean"),
            ("humidity_max_pct", "humidity_max_pct", "max"),
            ("humidity_min_pct", "humidity_min_pct", "min"),
            ("pressure_mean_hpa", "pressure_hpa", "mean"),
            ("wind_speed_mean_ms", "wind_speed_ms", "mean"),
            ("wind_gust_max_ms", "wind_gust_ms", "max"),
        ):
            got = values(source)
            rec[f"n_{name}"] = len(got)
            if len(got) < 20:
                rec[name] = None
            elif how == "mean":
                rec[name] = sum(got) / len(got)
            else:
                rec[name] = max(got) if how == "max" else min(got)
        # Wind direction: the speed-weighted vector mean of the hours with both.
        pairs: list[tuple[float, float]] = []
        for r in rows:
            if r is not None:
                speed, direction = r[col["wind_speed_ms"]], r[col["wind_direction_deg"]]
                if speed is not None and direction is not None:
                    pairs.append((speed, direction))
        rec["n_wind_direction_deg"] = len(pairs)
        east = sum(s * math.sin(math.radians(d)) for s, d in pairs)
        north = sum(s * math.cos(math.radians(d)) for s, d in pairs)
        calm = sum(s for s, _ in pairs) <= 0
        rec["wind_direction_deg"] = (
            None if len(pairs) < 20 or calm else math.degrees(math.atan2(east, north)) % 360
        )
        # Radiation: the night hours (no extraterrestrial radiation all hour) are zeros.
        total, valid = 0.0, 0
        for t, r in zip(hours, rows, strict=True):
            if solar_model.hour_extraterrestrial_kj(lat, lon, t) == 0:
                valid += 1
            elif r is not None and r[col["radiation_kj_m2"]] is not None:
                valid += 1
                total += r[col["radiation_kj_m2"]]  # type: ignore[operator]
        rec["n_radiation_mj_m2"] = valid
        rec["radiation_mj_m2"] = total / 1000 if valid == len(hours) else None
        inputs = (
            "air_temp_max_c",
            "air_temp_min_c",
            "humidity_max_pct",
            "humidity_min_pct",
            "wind_speed_mean_ms",
            "radiation_mj_m2",
        )
        rec["n_eto_mm"] = min(int(rec[f"n_{name}"] or 0) for name in inputs)
        given = [rec[name] for name in inputs]
        if any(v is None for v in given):
            rec["eto_mm"] = None
        else:
            tmax, tmin, rhmax, rhmin, u10, rs = (float(v or 0) for v in given)
            j = day.timetuple().tm_yday
            rec["eto_mm"] = fao56_eto(tmax, tmin, rhmax, rhmin, u10, rs, lat, alt, j)
        out[(station, day)] = rec
    return out


def station_year_attributes(files: Iterable[bytes]) -> dict[StationYear, Attributes]:
    """Each station-year's (state, latitude, longitude, altitude) as its file sent last states
    them (rule 1, the station history)."""
    attributes: dict[StationYear, Attributes] = {}
    for data in files:
        report, rows = read_observations(data)
        first = next(rows, None)
        if first is None or report.station is None:
            continue
        st = report.station
        attributes[(st.station_id, first.observed_at.year)] = (
            st.state,
            st.latitude,
            st.longitude,
            st.altitude_m,
        )
    return attributes
