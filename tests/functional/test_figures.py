"""The exploration figures survive a meteorologist's reading: completeness over the hours a
station-year should have (radiation over daylight hours), histograms binned at the data's own
resolution, daily means only from nearly complete days, one panel per station, labels and legends
that hide nothing. Each check renders the figure and reads what can be read back from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

from inmet_local.ml import explore, stats
from inmet_local.ml.data import sample_clean

pytestmark = [pytest.mark.functional]

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return sample_clean(stations=3, year=2021)


def test_completeness_counts_the_months_after_a_station_stopped(sample: pd.DataFrame) -> None:
    a001 = sample[sample["station_id"] == "A001"]
    stopped = a001[a001["observed_at"] < pd.Timestamp("2021-10-16", tz="UTC")]
    table = stats.completeness(stopped)
    # The span of CLEAN's rows would say ~1.0; the year's hours say what validate says.
    expected = len(stopped) / 8760
    share = float(table["air_temp_c"]["A001 2021"])
    assert share == pytest.approx(expected, abs=0.01)
    assert share < 0.8


def test_radiation_completeness_is_over_daylight_hours(sample: pd.DataFrame) -> None:
    a001 = sample[sample["station_id"] == "A001"].copy()
    night = ~stats.sun_up(a001)
    a001.loc[night, "radiation_kj_m2"] = np.nan  # INMET leaves the night empty
    table = stats.completeness(a001)
    # Over all hours it would be ~0.5; over daylight it is as complete as the temperature.
    radiation = float(table["radiation_kj_m2"]["A001 2021"])
    assert radiation > 0.85
    assert radiation == pytest.approx(float(table["air_temp_c"]["A001 2021"]), abs=0.1)


def test_the_sun_is_up_at_local_noon_and_down_at_local_midnight() -> None:
    frame = pd.DataFrame(
        {
            # Brasília (UTC-3): 15:30 UTC is 12:30 local, 03:30 UTC is 00:30 local.
            "observed_at": pd.to_datetime(["2024-06-21 16:00", "2024-06-21 04:00"], utc=True),
            "latitude": [-15.79, -15.79],
            "longitude": [-47.93, -47.93],
        }
    )
    assert stats.sun_up(frame).tolist() == [True, False]


def test_histogram_bins_follow_the_values_resolution() -> None:
    humidity = pd.Series(np.random.default_rng(0).integers(20, 101, 5000).astype(float))
    edges = np.asarray(stats.resolution_bins(humidity))
    assert np.allclose((edges + 0.5) % 1, 0)  # each integer sits in the middle of a bin
    counts, _ = np.histogram(humidity, edges)
    assert counts.min() > 0  # no comb of empty bins
    wind = pd.Series(np.round(np.random.default_rng(1).gamma(2, 1, 5000), 1))
    wind_edges = np.asarray(stats.resolution_bins(wind))
    widths = np.diff(wind_edges)
    assert np.allclose(widths / 0.1, np.round(widths / 0.1))


def test_a_day_with_fewer_than_20_hours_has_no_daily_mean(sample: pd.DataFrame) -> None:
    a001 = sample[sample["station_id"] == "A001"]
    afternoons = a001[
        (a001["observed_at"].dt.month != 3) | a001["observed_at"].dt.hour.between(15, 21)
    ]
    daily = stats.complete_daily_means(afternoons, "air_temp_c")
    march = daily[pd.DatetimeIndex(daily.index).month == 3]
    assert march.isna().all()
    assert daily[pd.DatetimeIndex(daily.index).month == 4].notna().all()


def test_time_series_draws_one_panel_per_station_with_its_name(sample: pd.DataFrame) -> None:
    fig = explore.time_series(sample, origin="generated")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    names = sample.groupby("station_id")["station_name"].first()
    assert len(titles) == 3
    for station_id, name in names.items():
        assert any(t.startswith(f"{station_id} {name}") for t in titles)
    assert "at least 20 of 24" in fig._suptitle.get_text()


def test_many_years_of_one_station_show_their_mean_and_the_latest(
    sample: pd.DataFrame,
) -> None:
    one = sample[sample["station_id"] == "A001"]
    years = pd.concat(
        [one.assign(observed_at=one["observed_at"] - pd.DateOffset(years=k)) for k in range(8)]
    )
    fig = explore.time_series(years, origin="generated")
    [ax] = [a for a in fig.axes if a.get_title()]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["each year", "mean of 8 years", "2021 (latest)"]


def test_map_labels_never_overlap_even_for_neighbouring_stations(sample: pd.DataFrame) -> None:
    close = []
    for k, (_station_id, rows) in enumerate(sample.groupby("station_id")):
        close.append(rows.assign(latitude=-15.8 + 0.05 * k, longitude=-47.9 + 0.05 * k))
    fig = explore.station_map(pd.concat(close), origin="generated")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == 3
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[i + 1 :])


def test_the_diurnal_legend_sits_beside_the_lines_with_one_colour_each(
    sample: pd.DataFrame,
) -> None:
    fig = explore.diurnal_cycles(sample, origin="generated")
    right = fig.axes[1]
    renderer = fig.canvas.get_renderer()
    legend = right.get_legend().get_window_extent(renderer)
    assert legend.x0 >= right.get_window_extent(renderer).x1
    colours = [tuple(line.get_color()) for line in right.get_lines()]
    assert len(set(colours)) == len(colours) == 3


def test_the_mae_per_station_figure_names_each_station_and_grows_with_them() -> None:
    from inmet_local.ml.figures import mae_by_station_figure

    stations = {f"A{n:03d}": f"STATION {n}" for n in range(20)}
    per_station = {
        s: {"mae_model": 0.5 + n / 100, "mae_persistence": 0.9, "mae_climatology": None}
        for n, s in enumerate(stations)
    }
    fig = mae_by_station_figure(per_station, "generated data", stations)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "A000 STATION 0"  # the lowest error on top
    assert set(labels) == {f"{s} {n}" for s, n in stations.items()}
    width, height = fig.get_size_inches()
    assert height > 10  # one row per station, not a 2,480-pixel-wide strip
    assert width < 12
    assert ax.title.get_fontsize() >= 11
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1


def _daily_csv(tmp_path: Any, sample: pd.DataFrame) -> pd.DataFrame:
    """A daily CSV (docs/contracts.md §3.3) for the sample's stations over 2021, written as
    `inmet fetch --daily` writes it and read back with load_daily: every 10th day of A001 and
    March of A101 incomplete (value empty, its n_ count below 20); A807 has no row in June."""
    from inmet_pipeline.columns import DAILY_COLUMNS

    lines = [",".join(DAILY_COLUMNS)]
    for number, station in enumerate(sorted(sample["station_id"].unique())):
        for day in pd.date_range("2021-01-01", "2021-12-31", freq="D"):
            if number == 2 and day.month == 6:
                continue
            incomplete = (number == 0 and day.day_of_year % 10 == 0) or (
                number == 1 and day.month == 3
            )
            values = dict.fromkeys(DAILY_COLUMNS, "")
            values.update(station_id=station, local_date=day.strftime("%Y-%m-%d"))
            values.update(utc_offset="-3", day_hours="24")
            for name in DAILY_COLUMNS[4::2]:
                values[f"n_{name}"] = "12" if incomplete else "24"
            if not incomplete:
                values["air_temp_mean_c"] = f"{20 + 5 * number + day.day_of_year / 100:.2f}"
            lines.append(",".join(values[c] for c in DAILY_COLUMNS))
    path = tmp_path / "inmet_daily.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from inmet_local.ml.data import load_daily

    return load_daily(path)


def test_the_daily_csv_loads_with_empty_values_as_nan_and_counts_as_integers(
    tmp_path: Any, sample: pd.DataFrame
) -> None:
    daily = _daily_csv(tmp_path, sample)
    a001 = daily[daily["station_id"] == "A001"]
    assert a001["air_temp_mean_c"].isna().sum() == 36  # every 10th day of 365
    assert a001.loc[a001["air_temp_mean_c"].isna(), "n_air_temp_mean_c"].eq(12).all()
    assert str(daily["n_air_temp_mean_c"].dtype) == "int64"
    assert str(daily["local_date"].dtype).startswith("datetime64")


def test_time_series_draws_the_daily_csv_with_incomplete_days_as_marked_gaps(
    tmp_path: Any, sample: pd.DataFrame
) -> None:
    daily = _daily_csv(tmp_path, sample)
    fig = explore.time_series(sample, origin="generated", daily=daily)
    suptitle = fig._suptitle.get_text()
    assert "local day" in suptitle
    assert "inmet_daily.csv" in suptitle
    assert "gaps" in suptitle
    panels = {ax.get_title().split(" ")[0]: ax for ax in fig.axes if ax.get_title()}
    assert sorted(panels) == ["A001", "A101", "A807"]
    for station, ax in panels.items():
        rows = daily[daily["station_id"] == station]
        complete = rows.dropna(subset=["air_temp_mean_c"])
        incomplete = rows[rows["air_temp_mean_c"].isna()]
        line, *ticks = ax.get_lines()
        drawn = np.asarray(line.get_ydata(), dtype=float)
        # The line holds exactly the complete days' values, at their day of the year; every
        # other day (incomplete, or with no row) is a gap.
        assert np.count_nonzero(~np.isnan(drawn)) == len(complete)
        x = np.asarray(line.get_xdata())
        by_day = dict(zip(x, drawn, strict=True))
        for day, value in zip(
            complete["local_date"].dt.day_of_year, complete["air_temp_mean_c"], strict=True
        ):
            assert by_day[day] == pytest.approx(value)
        assert f"{len(incomplete)} incomplete day(s) shown as gaps" in ax.get_title()
        if len(incomplete):
            [marks] = ticks
            assert list(marks.get_xdata()) == list(incomplete["local_date"].dt.day_of_year)
            assert marks.get_label() == "incomplete day (no value)"
        else:
            assert ticks == []
        assert "air_temp_mean_c" in ax.figure.axes[0].get_ylabel()
    assert len(panels["A101"].get_lines()[1].get_xdata()) == 31  # March
    # A807's June has no row at all: a gap too, and not counted as an incomplete day.
    june = np.asarray(panels["A807"].get_lines()[0].get_ydata(), dtype=float)[151:181]
    assert np.isnan(june).all()
    assert "0 incomplete day(s) shown as gaps, 30 day(s) without data" in panels["A807"].get_title()


def test_the_map_colours_each_station_by_its_complete_local_days(
    tmp_path: Any, sample: pd.DataFrame
) -> None:
    daily = _daily_csv(tmp_path, sample)
    fig = explore.station_map(sample, origin="generated", daily=daily)
    ax = fig.axes[0]
    [points] = ax.collections
    expected = daily.dropna(subset=["air_temp_mean_c"]).groupby("station_id")["air_temp_mean_c"]
    assert np.asarray(points.get_array()) == pytest.approx(expected.mean().to_numpy())
    label = fig.axes[1].get_ylabel()
    assert "complete local days" in label
    assert "inmet_daily.csv" in label


def test_a_year_with_no_complete_day_draws_no_line_but_marks_its_days(
    tmp_path: Any, sample: pd.DataFrame
) -> None:
    """The 31 December before a station's first year holds only the first hours of 1 January
    UTC: that year has no complete day, so no line and no legend entry, but a tick."""
    daily = _daily_csv(tmp_path, sample)
    edge = daily[daily["station_id"] == "A807"].iloc[[0]].copy()
    edge["local_date"] = pd.Timestamp("2020-12-31")
    edge["air_temp_mean_c"] = np.nan
    fig = explore.time_series(sample, origin="generated", daily=pd.concat([edge, daily]))
    [ax] = [a for a in fig.axes if a.get_title().startswith("A807")]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["2021", "incomplete day (no value)"]
    assert list(ax.get_lines()[-1].get_xdata()) == [366]  # 2020 was a leap year
    assert "1 incomplete day(s) shown as gaps, 30 day(s) without data" in ax.get_title()
    # Years with no row between them take no room, and are not counted as days without data.
    far = edge.assign(local_date=pd.Timestamp("2015-06-01"))
    fig = explore.time_series(sample, origin="generated", daily=pd.concat([far, edge, daily]))
    [ax] = [a for a in fig.axes if a.get_title().startswith("A807")]
    assert "2 incomplete day(s) shown as gaps, 30 day(s) without data" in ax.get_title()


def test_the_quality_control_figure_counts_each_flag_per_station_and_measure(
    sample: pd.DataFrame,
) -> None:
    from inmet_local.ml import quality

    clean = sample.copy()
    for measure in ("air_temp_c", "radiation_kj_m2", "humidity_pct"):
        clean[f"{measure}_qc"] = pd.array([0] * len(clean), dtype="Int8")
    first, second = sorted(clean["station_id"].unique())[:2]
    rows_first = clean.index[clean["station_id"] == first]
    clean.loc[rows_first[:5], "radiation_kj_m2_qc"] = 2
    clean.loc[rows_first[5:8], "air_temp_c_qc"] = 1
    clean.loc[clean.index[clean["station_id"] == second][:4], "humidity_pct_qc"] = 1
    tables = quality.flag_counts(clean)
    name = clean.loc[rows_first[0], "station_name"]
    assert tables[2].loc[f"{first} {name}", "radiation_kj_m2"] == 5
    assert list(tables[2].columns) == ["radiation_kj_m2"]  # only measures with a flag
    assert tables[1].loc[f"{first} {name}", "air_temp_c"] == 3
    assert int(tables[1].to_numpy().sum()) == 7
    fig = quality.flags_figure(clean, origin="generated")
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"5", "3", "4"} <= texts
    assert "inmet qc" in fig._suptitle.get_text()
    assert [ax.get_title() for ax in fig.axes] == [
        "suspect (flag 1): value kept",
        "erroneous (flag 2): value emptied in CLEAN",
    ]
