"""CLEAN.DAILY on the local warehouse (the task's SQL on fakesnow) against the independent
daily oracle (tests/oracle.py): real files, generated stations in every zone, and crafted days
for each completeness rule, the vector mean and the incremental build."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.synth.synth import generate_station_year
from inmet_local.synth.synth_stations import SynthStation
from inmet_pipeline.uploads import raw_object
from tests.integration.resources import WarehouseTarget
from tests.oracle import (
    DAILY_VALUE_COLUMNS,
    expected_clean,
    expected_daily,
    station_year_attributes,
)

pytestmark = [pytest.mark.integration]

COUNT_COLUMNS = ("utc_offset", "day_hours", *(f"n_{c}" for c in DAILY_VALUE_COLUMNS))


@pytest.fixture
def warehouse(warehouse_target: WarehouseTarget, tmp_path: Path) -> Iterator[LocalWarehouse]:
    with warehouse_target.warehouse(tmp_path / "pipe") as wh:
        try:
            yield wh
        finally:
            warehouse_target.drop(wh)


def load(wh: LocalWarehouse, *datas: bytes) -> None:
    wh.load_objects([raw_object(d) for d in datas])
    assert wh.run_task() is not None


def daily_rows(wh: LocalWarehouse) -> dict[tuple[str, date], dict[str, Any]]:
    columns = ", ".join((*COUNT_COLUMNS, *DAILY_VALUE_COLUMNS))
    rows = wh.execute(f"SELECT station_id, date, {columns} FROM {wh.clean}.DAILY")
    names = (*COUNT_COLUMNS, *DAILY_VALUE_COLUMNS)
    return {
        (r[0], r[1]): {
            n: float(v) if isinstance(v, Decimal) else v for n, v in zip(names, r[2:], strict=True)
        }
        for r in rows
    }


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


def check_against_oracle(wh: LocalWarehouse, datas: list[bytes]) -> int:
    want = expected_daily(expected_clean(datas), station_year_attributes(datas))
    got = daily_rows(wh)
    problems = differences(got, want)
    assert not problems, f"{len(problems)} differences, first: {problems[:10]}"
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
