"""Generate realistic INMET yearly-archive station files (layouts A and B), deterministically.

The files carry every quirk of the real ones (docs/inmet-format.md): ISO-8859-1
or UTF-8 bytes, three metadata spellings, two founding-date formats, layout A's missing marker
or layout B's empty field, dropped leading zeros, a trailing separator on every line, the three
radiation labels, radiation missing (or 0) at night, outages where whole hours are missing,
single sensors failing, and entirely empty station-years. How each of these is spelt is not
stated here: it comes from ``inmet_pipeline.inmet_format``, the same statement the reader
parses with, so a spelling added there is both read and generated. This module decides only
which variant a file gets (by year and simulated download date) and the weather itself.

The weather itself is plausible:
seasonal and diurnal temperature by latitude and altitude, humidity and dew point that agree
(Magnus formula), pressure from altitude with the semidiurnal tide, solar radiation from the
sun's elevation, rain events and gusty wind.

Every generated value is returned too (``keep_values=True``) so tests check the round trip.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from inmet_local.synth.synth_stations import SynthStation, station_catalogue
from inmet_pipeline.columns import MEASURES, N_MEASURES
from inmet_pipeline.inmet_format import (
    LATIN1,
    LAYOUTS,
    LINE_END,
    UTF8,
    Layout,
    RadiationUnit,
    as_metadata_style,
    format_filename,
    format_founding_date,
    format_header,
    format_metadata_lines,
    format_metadata_number,
    format_value,
    layout_for_year,
)

# Every spelling written here comes from inmet_pipeline.inmet_format, the reader's own statement
# of the format, so what is generated is what is read (tests/unit/test_inmet_format.py).
__all__ = [
    "SynthFile",
    "SynthStation",
    "format_value",
    "generate_archive",
    "generate_station_year",
    "station_catalogue",
]


@dataclass(slots=True)
class SynthFile:
    """One generated station-year file, and (optionally) every value written to it."""

    filename: str
    data: bytes
    station: SynthStation
    layout: Layout
    encoding: str
    metadata_style: str
    year: int
    rows: int
    values: list[tuple[datetime, tuple[float | None, ...]]] | None = field(default=None)


def _dew_point(temp: float, rh: float) -> float:
    a, b = 17.62, 243.12
    gamma = math.log(max(rh, 1.0) / 100.0) + a * temp / (b + temp)
    return b * gamma / (a - gamma)


def _relative_humidity(temp: float, dew_point: float) -> float:
    a, b = 17.62, 243.12
    return 100.0 * math.exp(a * dew_point / (b + dew_point) - a * temp / (b + temp))


def _clip(x: float, low: float, high: float) -> float:
    return low if x < low else high if x > high else x


def _r1(x: float) -> float:
    value = round(x, 1)
    return 0.0 if value == 0 else value  # never -0.0


def _series(
    st: SynthStation,
    start: datetime,
    hours: int,
    rng: random.Random,
    night_zero: bool,
    outlier_rate: float,
) -> Iterator[tuple[datetime, list[float | None]]]:
    """Hourly values in MEASURES order, with None for missing."""
    lat = math.radians(st.latitude)
    abs_lat = abs(st.latitude)
    t_mean = 28.0 - 0.25 * max(0.0, abs_lat - 5.0) - 0.0065 * st.altitude_m
    season_amp = 0.22 * abs_lat
    diurnal_amp = rng.uniform(3.5, 6.5)
    p_base = 1013.25 * (1 - 2.25577e-5 * st.altitude_m) ** 5.25588
    south = -1.0 if st.latitude < 0 else 1.0
    prevailing = rng.uniform(0, 360)
    # Slow weather anomalies (AR(1) per hour), rain state, outages.
    anomaly_t = 0.0
    anomaly_p = 0.0
    anomaly_rh = 0.0
    raining = False
    outage_left = 0
    broken: dict[int, int] = {}  # measure index -> hours left of a failed sensor
    prev_t = prev_td = prev_rh = prev_p = None
    for h in range(hours):
        ts = start + timedelta(hours=h)
        doy = ts.timetuple().tm_yday
        solar_hour = (ts.hour + st.longitude / 15.0) % 24
        season = math.cos(2 * math.pi * (doy - 15) / 365.25)  # 1 in January
        wet_season = 0.5 + 0.5 * season * (-south)  # southern summer is the wet season
        anomaly_t = 0.97 * anomaly_t + rng.gauss(0, 0.6)
        anomaly_p = 0.98 * anomaly_p + rng.gauss(0, 0.25)
        anomaly_rh = 0.95 * anomaly_rh + rng.gauss(0, 1.5)
        if raining:
            raining = rng.random() < 0.75
        else:
            raining = rng.random() < 0.01 + 0.03 * wet_season * (
                0.5 + abs(math.sin(math.pi * solar_hour / 24))
            )
        cloud = 0.7 if raining else _clip(0.25 + 0.3 * wet_season + rng.gauss(0, 0.1), 0, 0.9)
        diurnal = math.cos(2 * math.pi * (solar_hour - 15.0) / 24.0)
        seasonal = season_amp * season * -south  # warmer in the local summer
        temp = (
            t_mean
            + seasonal
            + diurnal_amp * (1 - 0.5 * cloud) * diurnal
            + anomaly_t
            - (2.0 if raining else 0)
        )
        # Relative humidity falls as the day warms; cold-front air (negative anomaly) is dry.
        daily_swing = diurnal_amp * (1 - 0.5 * cloud) * diurnal
        rh = _clip(
            70
            - 4.0 * daily_swing
            + 2.0 * anomaly_t
            + anomaly_rh
            + (18 if raining else 0)
            + 12 * wet_season,
            12,
            100,
        )
        td = _dew_point(temp, rh)
        ceiling = 26.0 + rng.gauss(0, 0.4)  # tropical dew points rarely pass ~27 °C
        if td > ceiling:
            td = ceiling
            rh = _relative_humidity(temp, td)
        pressure = (
            p_base
            + 1.1 * math.cos(4 * math.pi * (solar_hour - 10) / 24)
            + anomaly_p
            - 2.5 * season * south
        )
        # Sun: declination and hour angle give the elevation; ~3.6 kJ/m² per W/m² hour.
        decl = math.radians(23.44) * math.sin(2 * math.pi * (doy - 81) / 365.0)
        # At the middle of the hour the value covers (INMET stamps the hour's end): the sun at
        # the stamp itself put morning values above the hour's top-of-atmosphere radiation.
        hour_angle = math.radians(15.0 * (solar_hour - 0.5 - 12.0))
        sin_el = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(
            hour_angle
        )
        radiation: float | None
        if sin_el <= 0.02:
            radiation = 0.0 if night_zero else None
        else:
            radiation = 1361 * sin_el * 0.78 * (1 - 0.75 * cloud) * 3.6 * rng.uniform(0.92, 1.0)
        precip = 0.0
        if raining:
            precip = rng.expovariate(1 / 2.2) * (3.0 if rng.random() < 0.05 else 1.0)
        speed = max(0.0, rng.gammavariate(2.0, 0.9) * (1 + 0.35 * diurnal))
        gust = speed * rng.uniform(1.6, 2.8) + rng.uniform(0, 1.5)
        direction = (prevailing + rng.gauss(0, 55)) % 360
        t_prev = prev_t if prev_t is not None else temp
        td_prev = prev_td if prev_td is not None else td
        rh_prev = prev_rh if prev_rh is not None else rh
        p_prev = prev_p if prev_p is not None else pressure
        prev_t, prev_td, prev_rh, prev_p = temp, td, rh, pressure
        row: list[float | None] = [
            _r1(precip),
            _r1(pressure),
            _r1(max(pressure, p_prev) + abs(rng.gauss(0, 0.15))),
            _r1(min(pressure, p_prev) - abs(rng.gauss(0, 0.15))),
            None if radiation is None else _r1(radiation),
            _r1(temp),
            _r1(td),
            _r1(max(temp, t_prev) + abs(rng.gauss(0, 0.3))),
            _r1(min(temp, t_prev) - abs(rng.gauss(0, 0.3))),
            _r1(max(td, td_prev) + abs(rng.gauss(0, 0.3))),
            _r1(min(td, td_prev) - abs(rng.gauss(0, 0.3))),
            float(round(_clip(max(rh, rh_prev) + abs(rng.gauss(0, 1.5)), 0, 100))),
            float(round(_clip(min(rh, rh_prev) - abs(rng.gauss(0, 1.5)), 0, 100))),
            float(round(rh)),
            float(round(direction) % 360),
            _r1(gust),
            _r1(speed),
        ]
        # Outages: the logger stops and every measure of the hour is missing.
        if outage_left:
            outage_left -= 1
            yield ts, [None] * N_MEASURES
            continue
        if rng.random() < 0.0008:
            outage_left = rng.randint(1, 72)
        # Single sensors fail for a while.
        if rng.random() < 0.0004:
            broken[rng.randrange(N_MEASURES)] = rng.randint(6, 24 * 20)
        for idx in list(broken):
            row[idx] = None
            broken[idx] -= 1
            if not broken[idx]:
                del broken[idx]
        for idx in range(N_MEASURES):
            if row[idx] is not None and rng.random() < 0.003:
                row[idx] = None
        if outlier_rate and rng.random() < outlier_rate:
            idx = rng.randrange(N_MEASURES)
            row[idx] = float(MEASURES[idx].high + rng.randint(1, 500))
        yield ts, row


def generate_station_year(
    station: SynthStation,
    year: int,
    *,
    seed: int = 0,
    layout: Layout | None = None,
    encoding: str | None = None,
    metadata_style: str | None = None,
    radiation_unit: RadiationUnit | None = None,
    empty: bool = False,
    partial_until: date | None = None,
    outlier_rate: float = 0.0,
    keep_values: bool = False,
) -> SynthFile:
    """One station-year file as INMET publishes it in its yearly archive."""
    rng = random.Random(f"{seed}:{station.station_id}:{year}")
    layout = layout or layout_for_year(year)
    # How the file looks depends on the year and on when it was "downloaded"
    # (docs/inmet-format.md §4).
    downloaded_2021 = year <= 2020 and rng.random() < 0.25
    if metadata_style is None:
        if layout == "A":
            metadata_style = "2019" if downloaded_2021 else "A"
        else:
            metadata_style = "2019" if (year == 2019 or downloaded_2021) else "2020"
    if radiation_unit is not None:
        unit = radiation_unit
    elif downloaded_2021:
        unit = RadiationUnit.W
    elif year <= 2019:
        unit = RadiationUnit.KJ_UPPER
    else:
        unit = RadiationUnit.KJ
    if encoding is None:
        encoding = UTF8 if rng.random() < 0.15 else LATIN1
    spec = LAYOUTS[layout]
    style = as_metadata_style(metadata_style)
    start_day = (
        max(date(year, 1, 1), station.founded)
        if station.founded.year == year
        else (date(year, 1, 1))
    )
    end_day = partial_until or date(year, 12, 31)
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
    hours = ((end_day - start_day).days + 1) * 24

    meta_values = (
        station.region,
        station.state,
        station.name,
        station.station_id,
        format_metadata_number(station.latitude),
        format_metadata_number(station.longitude),
        format_metadata_number(station.altitude_m),
        format_founding_date(station.founded, style),
    )
    lines = format_metadata_lines(style, meta_values)
    lines.append(format_header(layout, unit))

    values: list[tuple[datetime, tuple[float | None, ...]]] | None = [] if keep_values else None
    rows = 0
    for ts, row in _series(
        station, start, hours, rng, night_zero=downloaded_2021, outlier_rate=outlier_rate
    ):
        if empty:
            row = [None] * N_MEASURES
        lines.append(spec.format_row(ts.date(), ts.hour, row))
        rows += 1
        if values is not None:
            values.append((ts, tuple(row)))
    text = LINE_END.join(lines) + LINE_END
    filename = format_filename(
        station.region, station.state, station.station_id, station.name, start_day, end_day
    )
    return SynthFile(
        filename=filename,
        data=text.encode(encoding),
        station=station,
        layout=layout,
        encoding=encoding,
        metadata_style=metadata_style,
        year=year,
        rows=rows,
        values=values,
    )


def generate_archive(
    out_dir: Path,
    *,
    stations: int = 5,
    year: int = 2024,
    layout: Layout | None = None,
    seed: int = 0,
    empty_fraction: float | None = None,
) -> Iterator[Path]:
    """Write ``stations`` station-year files into ``out_dir``; yield each path as written.

    About 3.5% of the stations are entirely empty, as in INMET's 2024 archive (20 of 564); with
    fewer than 30 stations none is, unless ``empty_fraction`` says otherwise.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    fraction = empty_fraction if empty_fraction is not None else (0.035 if stations >= 30 else 0)
    rng = random.Random(f"archive:{seed}:{year}")
    for station in station_catalogue(stations, seed):
        empty = rng.random() < fraction
        synth = generate_station_year(station, year, seed=seed, layout=layout, empty=empty)
        path = out_dir / synth.filename
        path.write_bytes(synth.data)
        yield path
