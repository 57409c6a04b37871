"""The daily CSV (docs/contracts.md §3.3) as the exploration figures read it: which daily value
stands for an hourly column, the completeness rule each follows (docs/daily.md), and one
station's values by year of its local date."""

from __future__ import annotations

import pandas as pd

# The daily CSV's value (docs/contracts.md §3.3) for an hourly column, and its unit.
DAILY_VALUE_OF = {
    "air_temp_c": ("air_temp_mean_c", "°C", "mean"),
    "humidity_pct": ("humidity_mean_pct", "%", "mean"),
    "pressure_hpa": ("pressure_mean_hpa", "hPa", "mean"),
    "wind_speed_ms": ("wind_speed_mean_ms", "m/s", "mean"),
    "precipitation_mm": ("precipitation_mm", "mm", "total"),
    "radiation_kj_m2": ("radiation_mj_m2", "MJ/m²", "total"),
}
DAILY_RULE = {
    "mean": "a day with fewer than 20 valid hours has none",
    "total": "a day without all its hours valid has none",
}


def daily_series(daily: pd.DataFrame, station_id: str, value: str) -> dict[int, pd.Series]:
    """One station's daily ``value`` by year of its local date, every day of the year in the
    index (a day with no row, or whose value is empty, is NaN: a gap in a line)."""
    rows = daily[daily["station_id"] == station_id]
    out: dict[int, pd.Series] = {}
    for year, group in rows.groupby(rows["local_date"].dt.year):
        if group[value].isna().all():
            # No complete day: nothing to draw (e.g. the 31 December before a station's first
            # year, which holds only the first hours of 1 January UTC). Its days are still
            # counted and marked as incomplete.
            continue
        days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
        series = group.set_index("local_date")[value].reindex(days)
        out[int(year)] = pd.Series(series.to_numpy(), index=days.day_of_year)
    return out


def days_without_data(daily: pd.DataFrame, station_id: str) -> int:
    """Local dates with no row (no hour at all) between a station's first and last daily row
    of each year it has; years without any row take no room, as in the figure."""
    dates = daily.loc[daily["station_id"] == station_id, "local_date"]
    missing = 0
    for _, days in dates.groupby(dates.dt.year):
        missing += int((days.max() - days.min()).days + 1 - days.nunique())
    return missing
