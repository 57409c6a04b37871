"""Exploration plots of CLEAN, for the exploracao notebook (each returns its figure)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from inmet_pipeline.columns import MEASURE_NAMES


def _plt() -> Any:
    import matplotlib.pyplot as plt  # the notebook's backend (inline in Jupyter)

    return plt


def completeness(clean: pd.DataFrame) -> pd.DataFrame:
    """Share of hours with a value, per station (rows) and variable (columns), over each
    station's full hourly range (hours absent from CLEAN count as missing)."""
    shares = {}
    for station_id, group in clean.groupby("station_id"):
        hours = (group["observed_at"].max() - group["observed_at"].min()) / pd.Timedelta(
            hours=1
        ) + 1
        shares[station_id] = group[list(MEASURE_NAMES)].notna().sum() / hours
    return pd.DataFrame(shares).T


def completeness_heatmap(clean: pd.DataFrame) -> Any:
    plt = _plt()
    table = completeness(clean)
    fig, ax = plt.subplots(figsize=(12, 0.4 * len(table) + 2))
    image = ax.imshow(table.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=70, ha="right")
    ax.set_yticks(range(len(table.index)), table.index)
    fig.colorbar(image, ax=ax, label="share of hours with a value")
    ax.set_title("Completeness per station and variable")
    fig.tight_layout()
    return fig


def distributions(clean: pd.DataFrame) -> Any:
    plt = _plt()
    columns = [
        "air_temp_c",
        "humidity_pct",
        "pressure_hpa",
        "precipitation_mm",
        "radiation_kj_m2",
        "wind_speed_ms",
    ]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6))
    for ax, column in zip(axes.flat, columns, strict=True):
        values = clean[column].dropna()
        if column == "precipitation_mm":
            values = values[values > 0]  # most hours are dry
        ax.hist(values, bins=50)
        ax.set_title(column)
    fig.tight_layout()
    return fig


def time_series(clean: pd.DataFrame, column: str = "air_temp_c") -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 4))
    for station_id, group in clean.groupby("station_id"):
        daily = group.set_index("observed_at")[column].resample("D").mean()
        ax.plot(daily.index, daily.to_numpy(), label=str(station_id), linewidth=1)
    ax.set_ylabel(f"daily mean {column}")
    ax.legend(fontsize="small", ncol=4)
    ax.set_title("Daily means")
    return fig


def diurnal_cycles(clean: pd.DataFrame, column: str = "air_temp_c") -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    hours = clean["observed_at"].dt.hour
    for station_id, group in clean.assign(hour=hours).groupby("station_id"):
        cycle = group.groupby("hour")[column].mean()
        ax.plot(cycle.index, cycle.to_numpy(), marker=".", label=str(station_id))
    ax.set_xlabel("hour (UTC)")
    ax.set_ylabel(f"mean {column}")
    ax.set_xticks(np.arange(0, 24, 3))
    ax.legend(fontsize="small", ncol=4)
    ax.set_title("Diurnal cycle")
    return fig


def station_map(clean: pd.DataFrame) -> Any:
    plt = _plt()
    stations = clean.groupby("station_id")[["latitude", "longitude", "air_temp_c"]].mean()
    fig, ax = plt.subplots(figsize=(6, 6))
    points = ax.scatter(
        stations["longitude"], stations["latitude"], c=stations["air_temp_c"], cmap="coolwarm", s=60
    )
    for station_id, row in stations.iterrows():
        ax.annotate(str(station_id), (row["longitude"], row["latitude"]), fontsize=8)
    ax.set_xlim(-75, -33)
    ax.set_ylim(-35, 6)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    fig.colorbar(points, ax=ax, label="mean air temperature (°C)")
    ax.set_title("Stations")
    return fig


def correlations(clean: pd.DataFrame) -> Any:
    plt = _plt()
    matrix = clean[list(MEASURE_NAMES)].corr()
    fig, ax = plt.subplots(figsize=(9, 8))
    image = ax.imshow(matrix.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(matrix)), matrix.columns, rotation=70, ha="right")
    ax.set_yticks(range(len(matrix)), matrix.index)
    fig.colorbar(image, ax=ax)
    ax.set_title("Correlations")
    fig.tight_layout()
    return fig
