"""CLEAN.DAILY on the local warehouse (the task's SQL on fakesnow) against the independent
daily oracle (tests/oracle.py): real files, generated stations in every zone, and crafted days
for each completeness rule, the vector mean and the incremental build."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import rendered_statements
from inmet_local.synth.synth import generate_station_year
from inmet_local.synth.synth_stations import SynthStation
from inmet_pipeline.columns import MEASURE_NAMES
from inmet_pipeline.inmet_format import LAYOUTS
from tests import solar_model
from tests.helpers import small_file
from tests.integration.resources import load
from tests.oracle import (
    DAILY_VALUE_COLUMNS,
    MONTHLY_VALUE_COLUMNS,
    expected_clean,
    expected_daily,
    expected_monthly,
    station_year_attributes,
)

pytestmark = [pytest.mark.integration]

COUNT_COLUMNS = ("utc_offset", "day_hours", *(f"n_{c}" for c in DAILY_VALUE_COLUMNS))


def named(names: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    """A row's values by column name, NUMBER values as floats (the oracle's)."""
    pairs = zip(names, values, strict=True)
    return {n: float(v) if isinstance(v, Decimal) else v for n, v in pairs}


def daily_rows(wh: LocalWarehouse) -> dict[tuple[str, date], dict[str, Any]]:
    names = (*COUNT_COLUMNS, *DAILY_VALUE_COLUMNS)
    rows = wh.execute(f"SELECT station_id, local_date, {', '.join(names)} FROM {wh.clean}.DAILY")
    return {(r[0], r[1]): named(names, r[2:]) for r in rows}


# The DAILY column's scale: its values are rounded to it (modules/daily.sql's types).
SCALE = {
    "precipitation_mm": 1,
    "air_temp_mean_c": 2,
    "air_temp_max_c": 1,
    "air_temp_min_c": 1,
    "humidity_mean_pct": 2,
    "humidity_max_pct": 1,
    "humidity_min_pct": 1,
    "pressure_mean_hpa": 2,
    "wind_speed_mean_ms": 2,
    "wind_direction_deg": 1,
    "wind_gust_max_ms": 1,
    "radiation_mj_m2": 4,
    "eto_mm": 2,
}


def differences(
    got: dict[tuple[str, date], dict[str, Any]],
    want: dict[tuple[str, date], dict[str, float | int | None]],
) -> list[str]:
    """Every value where the warehouse and the oracle disagree (beyond the column's rounding)."""
    problems = [f"{k}: only in the warehouse" for k in got.keys() - want.keys()]
    problems += [f"{k}: only in the oracle" for k in want.keys() - got.keys()]
    for key in sorted(got.keys() & want.keys()):
        g, w = got[key], want[key]
        for name in COUNT_COLUMNS:
            if g[name] != w[name]:
                problems.append(f"{key} {name}: warehouse {g[name]}, oracle {w[name]}")
        for name in DAILY_VALUE_COLUMNS:
            a, b = g[name], w[name]
            if (a is None) != (b is None):
                problems.append(f"{key} {name}: warehouse {a}, oracle {b}")
                continue
            if a is None or b is None:
                continue
            diff = abs(a - b)
            if name == "wind_direction_deg":
                diff = min(diff, 360 - diff)
            if diff > 10 ** -SCALE[name] / 2 + 1e-6:
                problems.append(f"{key} {name}: warehouse {a}, oracle {b}")
    return problems


MONTHLY_COUNTS = (
    "days_in_month",
    *(f"{p}_{c}" for c in MONTHLY_VALUE_COLUMNS for p in ("n", "gap")),
)


def monthly_rows(wh: LocalWarehouse) -> dict[tuple[str, int, int], dict[str, Any]]:
    """CLEAN.MONTHLY (R__views_monthly.sql)."""
    names = (*MONTHLY_COUNTS, *MONTHLY_VALUE_COLUMNS)
    rows = wh.execute(f"SELECT station_id, year, month, {', '.join(names)} FROM {wh.clean}.MONTHLY")
    return {(r[0], int(r[1]), int(r[2])): named(names, r[3:]) for r in rows}


def monthly_differences(
    got: dict[tuple[str, int, int], dict[str, Any]],
    want: dict[tuple[str, int, int], dict[str, float | int | None]],
) -> list[str]:
    """Where CLEAN.MONTHLY and the oracle's monthly values from DAILY disagree (a mean is
    rounded to 2 decimals; a total is DAILY's values added exactly)."""
    problems = [f"{k}: only in the warehouse" for k in got.keys() - want.keys()]
    problems += [f"{k}: only in the oracle" for k in want.keys() - got.keys()]
    for key in sorted(got.keys() & want.keys()):
        g, w = got[key], want[key]
        problems += [
            f"{key} {n}: warehouse {g[n]}, oracle {w[n]}" for n in MONTHLY_COUNTS if g[n] != w[n]
        ]
        for name in MONTHLY_VALUE_COLUMNS:
            a, b = g[name], w[name]
            if (a is None) != (b is None) or (
                a is not None and b is not None and abs(a - b) > 0.005 + 1e-6
            ):
                problems.append(f"{key} {name}: warehouse {a}, oracle {b}")
    return problems


def check_against_oracle(wh: LocalWarehouse, datas: list[bytes]) -> int:
    """CLEAN.DAILY against the oracle's daily values from the files, then CLEAN.MONTHLY against
    the oracle's monthly values from CLEAN.DAILY."""
    want = expected_daily(expected_clean(datas), station_year_attributes(datas))
    got = daily_rows(wh)
    problems = differences(got, want)
    assert not problems, f"{len(problems)} differences, first: {problems[:10]}"
    monthly = monthly_rows(wh)
    problems = monthly_differences(monthly, expected_monthly(got))
    assert not problems, f"{len(problems)} monthly differences, first: {problems[:10]}"
    return len(got)


def _station(code: str, name: str, region: str, state: str, lat: float, lon: float) -> SynthStation:
    return SynthStation(code, name, region, state, lat, lon, 150.0, date(2000, 1, 1))


# A generated station in every zone: Acre before, across and after its two changes of offset,
# Amazonas on both sides of the Tabatinga-Porto Acre line, Mato Grosso do Sul, the islands.
ZONE_FILES = [
    (_station("B001", "RIO BRANCO", "N", "AC", -9.96, -67.80), 2008, date(2008, 7, 10)),
    (_station("B001", "RIO BRANCO", "N", "AC", -9.96, -67.80), 2013, date(2013, 11, 20)),
    (_station("B001", "RIO BRANCO", "N", "AC", -9.96, -67.80), 2015, date(2015, 2, 10)),
    (_station("B002", "EIRUNEPE", "N", "AM", -6.65, -69.87), 2010, date(2010, 2, 10)),
    (_station("B002", "EIRUNEPE", "N", "AM", -6.65, -69.87), 2016, date(2016, 2, 10)),
    (_station("B003", "MANAUS", "N", "AM", -3.10, -60.02), 2016, date(2016, 2, 10)),
    (_station("B004", "CAMPO GRANDE", "CO", "MS", -20.44, -54.65), 2012, date(2012, 2, 10)),
    (_station("B005", "FERNANDO DE NORONHA", "NE", "PE", -3.85, -32.42), 2012, date(2012, 2, 10)),
    (_station("B006", "SAO PAULO", "SE", "SP", -23.50, -46.62), 2012, date(2012, 2, 10)),
]


def test_generated_stations_in_every_zone_agree_with_the_oracle(warehouse: LocalWarehouse) -> None:
    datas = [
        generate_station_year(st, year, seed=7, partial_until=until).data
        for st, year, until in ZONE_FILES
    ]
    load(warehouse, *datas)
    assert check_against_oracle(warehouse, datas) > 300
    got = daily_rows(warehouse)
    # The offsets, as the tz database has them.

    def offsets(station: str, start: date, end: date) -> set[int]:
        return {r["utc_offset"] for (s, d), r in got.items() if s == station and start <= d <= end}

    assert offsets("B001", date(2008, 1, 1), date(2008, 6, 23)) == {-5}
    assert offsets("B001", date(2008, 6, 24), date(2013, 11, 9)) == {-4}
    assert offsets("B001", date(2013, 11, 10), date(2015, 12, 31)) == {-5}
    assert got[("B001", date(2008, 6, 24))]["day_hours"] == 23
    assert got[("B001", date(2013, 11, 9))]["day_hours"] == 25
    assert offsets("B002", date(2010, 1, 1), date(2010, 12, 31)) == {-4}
    assert offsets("B002", date(2016, 1, 1), date(2016, 12, 31)) == {-5}
    assert offsets("B003", date(2016, 1, 1), date(2016, 12, 31)) == {-4}
    assert offsets("B004", date(2012, 1, 1), date(2012, 12, 31)) == {-4}
    assert offsets("B005", date(2012, 1, 1), date(2012, 12, 31)) == {-2}
    assert offsets("B006", date(2012, 1, 1), date(2012, 12, 31)) == {-3}
    # Not a comparison of empty columns: most generated days are complete.
    for name in DAILY_VALUE_COLUMNS:
        assert sum(r[name] is not None for r in got.values()) > 200, name


@pytest.mark.real_data
def test_every_real_file_agrees_with_the_oracle(warehouse: LocalWarehouse, real_dir: Path) -> None:
    """The top-level real files, then curitiba_years/ when present (a second batch: Curitiba's
    2019 file, loaded first, shares its 31 December 2018 and 2019 days with the folder's)."""
    datas = [p.read_bytes() for p in sorted(real_dir.glob("*.CSV"))]
    load(warehouse, *datas)
    check_against_oracle(warehouse, datas)
    years = sorted((real_dir / "curitiba_years").glob("*.CSV"))
    if not years:
        pytest.skip(f"{real_dir / 'curitiba_years'} holds no files: the first batch was checked")
    more = [p.read_bytes() for p in years]
    load(warehouse, *more)
    assert check_against_oracle(warehouse, datas + more) > 7000


# --- crafted days: each completeness rule, the vector mean, the day boundary ----------------
# Brasilia (DF, UTC-3): the local day D is the hours ending D 04:00 UTC to D+1 03:00 UTC.


def crafted_file(edit: dict[tuple[datetime, str], float | None]) -> bytes:
    """Brasilia's 1-4 January 2024, every hour with plain values (radiation 1000 kJ by day and
    empty by night, the wind 2 m/s from 350 and 10 degrees in turn), then ``edit`` applied."""
    base = small_file(days=4)
    header = base.data.decode("latin-1").splitlines()[:9]
    st = base.station
    lines = list(header)
    plain = {
        "precipitation_mm": 0.0,
        "pressure_hpa": 888.0,
        "pressure_max_hpa": 888.5,
        "pressure_min_hpa": 887.5,
        "air_temp_c": 22.0,
        "dew_point_c": 15.0,
        "air_temp_max_c": 23.0,
        "air_temp_min_c": 21.0,
        "dew_point_max_c": 16.0,
        "dew_point_min_c": 14.0,
        "humidity_max_pct": 80.0,
        "humidity_min_pct": 60.0,
        "humidity_pct": 70.0,
        "wind_gust_ms": 6.0,
        "wind_speed_ms": 2.0,
    }
    for h in range(96):
        ts = datetime(2024, 1, 1) + timedelta(hours=h)
        values: dict[str, float | None] = dict(plain)
        values["wind_direction_deg"] = 350.0 if h % 2 else 10.0
        values["radiation_kj_m2"] = daylight_radiation(st.latitude, st.longitude, ts)
        for (at, name), value in edit.items():
            if at == ts:
                values[name] = value
        row = [values[name] for name in MEASURE_NAMES]
        lines.append(LAYOUTS["B"].format_row(ts.date(), ts.hour, row))
    return ("\n".join(lines) + "\n").encode("latin-1")


def at(day: int, hour: int) -> datetime:
    """The hour ending at ``hour`` UTC of January 2024; hour 24 is the next day's 00:00."""
    return datetime(2024, 1, day) + timedelta(hours=hour)


def test_each_completeness_rule_the_vector_mean_and_the_day_boundary(
    warehouse: LocalWarehouse,
) -> None:
    edit: dict[tuple[datetime, str], float | None] = {
        # 1 January: complete; 7 mm in the hour ending 03:00 UTC on the 2nd (its last hour).
        (at(2, 3), "precipitation_mm"): 7.0,
        # 2 January: one precipitation hour missing; 4 temperature hours missing; the night's
        # radiation is missing (as always here).
        (at(2, 10), "precipitation_mm"): None,
        **{(at(2, h), "air_temp_c"): None for h in (5, 6, 7, 8)},
        # 3 January: 5 temperature hours missing; one daylight radiation hour missing (noon).
        **{(at(3, h), "air_temp_c"): None for h in (5, 6, 7, 8, 9)},
        (at(3, 15), "radiation_kj_m2"): None,
        # 4 January: a calm day (no speed above 0): no direction.
        **{(at(4, h), "wind_speed_ms"): 0.0 for h in range(4, 28)},
    }
    data = crafted_file(edit)
    load(warehouse, data)
    check_against_oracle(warehouse, [data])
    got = daily_rows(warehouse)
    jan = {d: got[("A001", date(2024, 1, d))] for d in (1, 2, 3)}
    assert [jan[d]["day_hours"] for d in (1, 2, 3)] == [24, 24, 24]
    # The hour ending 03:00 UTC belongs to the previous local day in UTC-3.
    assert (jan[1]["precipitation_mm"], jan[1]["n_precipitation_mm"]) == (7.0, 24)
    # A sum needs all 24 hours.
    assert (jan[2]["precipitation_mm"], jan[2]["n_precipitation_mm"]) == (None, 23)
    # A mean needs 20 hours.
    assert (jan[2]["air_temp_mean_c"], jan[2]["n_air_temp_mean_c"]) == (22.0, 20)
    assert (jan[3]["air_temp_mean_c"], jan[3]["n_air_temp_mean_c"]) == (None, 19)
    # Radiation: the night counts as zero; a missing daylight hour empties the day.
    assert jan[2]["n_radiation_mj_m2"] == 24
    assert 24 - night_hours(2) >= 12  # a real mix of day and night hours
    assert jan[2]["radiation_mj_m2"] == pytest.approx(day_radiation_mj(2), abs=5e-4)
    assert (jan[3]["radiation_mj_m2"], jan[3]["n_radiation_mj_m2"]) == (None, 23)
    # 350 and 10 degrees average to 0 (not 180).
    assert jan[1]["wind_direction_deg"] == 0.0
    assert got[("A001", date(2024, 1, 4))]["wind_direction_deg"] is None
    # ETo needs every input: present on the 1st, not on the 3rd (no radiation).
    assert jan[1]["eto_mm"] is not None
    assert jan[3]["eto_mm"] is None
    # 31 December 2023 holds only the hours ending 00:00-03:00 UTC of 1 January.
    last = got[("A001", date(2023, 12, 31))]
    assert (last["n_air_temp_mean_c"], last["air_temp_mean_c"]) == (4, None)


def daylight_radiation(latitude: float, longitude: float, ts: datetime) -> float | None:
    """Half the hour's top-of-atmosphere radiation (kJ/m2, one decimal) while the sun is up,
    else none: below the clear-sky limit, so quality control keeps every value (a fixed 1000
    kJ/m2 is above the top of the atmosphere in the hours around sunrise and sunset, and
    quality control would empty it)."""
    top = solar_model.hour_extraterrestrial_kj(latitude, longitude, ts)
    return round(0.5 * top, 1) if top > 0 else None


def day_radiation_mj(day: int) -> float:
    """The sum of daylight_radiation over local day ``day`` of January (UTC-3), in MJ/m2."""
    hours = [at(day, h) for h in range(4, 28)]
    return sum(daylight_radiation(-15.78944444, -47.92583332, t) or 0.0 for t in hours) / 1000


def night_hours(day: int) -> int:
    hours = [at(day, h) for h in range(4, 28)]
    return sum(
        solar_model.hour_extraterrestrial_kj(-15.78944444, -47.92583332, t) == 0 for t in hours
    )


def test_the_daily_table_is_built_incrementally_and_a_day_across_years_is_whole(
    warehouse: LocalWarehouse,
) -> None:
    """2024's file, then 2023's in a later batch: 31 December 2023 (its last hours are 2024's)
    is then computed again whole; a third batch with 2024's file again changes no other
    station's days (their updated_at stays)."""
    st = _station("B006", "SAO PAULO", "SE", "SP", -23.50, -46.62)
    y2024 = generate_station_year(st, 2024, seed=3, partial_until=date(2024, 1, 5)).data
    y2023 = generate_station_year(st, 2023, seed=3).data
    other = generate_station_year(
        _station("B004", "CAMPO GRANDE", "CO", "MS", -20.44, -54.65),
        2012,
        seed=3,
        partial_until=date(2012, 1, 5),
    ).data
    load(warehouse, y2024, other)
    before = daily_rows(warehouse)
    assert before[("B006", date(2023, 12, 31))]["day_hours"] == 24
    assert before[("B006", date(2023, 12, 31))]["n_air_temp_mean_c"] == 4
    stamps = dict(
        warehouse.execute(
            f"SELECT local_date, updated_at FROM {warehouse.clean}.DAILY WHERE station_id = 'B004'"
        )
    )
    load(warehouse, y2023)
    check_against_oracle(warehouse, [y2024, other, y2023])
    after = daily_rows(warehouse)
    assert after[("B006", date(2023, 12, 31))]["n_air_temp_mean_c"] >= 20
    load(warehouse, y2024)
    assert (
        dict(
            warehouse.execute(
                f"SELECT local_date, updated_at FROM {warehouse.clean}.DAILY "
                "WHERE station_id = 'B004'"
            )
        )
        == stamps
    )
    check_against_oracle(warehouse, [y2024, other, y2023, y2024])


def test_the_migration_fills_daily_for_the_data_already_in_clean(
    warehouse: LocalWarehouse,
) -> None:
    """V1.10.0's INSERT, on an account that has CLEAN data from before it, computes every
    station-day there is (here: DAILY emptied, then the migration's statement run again)."""
    datas = [
        generate_station_year(st, year, seed=5, partial_until=until).data
        for st, year, until in ZONE_FILES[:4]
    ]
    load(warehouse, *datas)
    computed = daily_rows(warehouse)
    warehouse.execute(f"DELETE FROM {warehouse.clean}.DAILY")
    (backfill,) = [
        s.sql
        for s in rendered_statements(warehouse.values, warehouse.sql_root)
        if s.script.startswith("V1.10.0") and "INSERT INTO" in s.sql
    ]
    warehouse.execute(backfill)
    assert daily_rows(warehouse) == computed
    check_against_oracle(warehouse, datas)
    # Run again, as the local runtime applies every script at each start of a stack whose
    # DAILY the task has kept: nothing is inserted twice (a duplicate key failed the start).
    warehouse.execute(backfill)
    assert daily_rows(warehouse) == computed
