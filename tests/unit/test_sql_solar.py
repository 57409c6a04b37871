"""snowflake_sql/modules/solar.sql, FAO-56's solar geometry in SQL, agrees with an independent
Python model (tests/solar_model.py) on the local warehouse's engine, with FAO-56's worked
examples, and with itself (a day's hours add up to the day); Snowflake's grammar (sqlfluff)
parses every macro."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import cache

import duckdb
import pytest
import sqlglot
from sqlfluff.core import FluffConfig, Linter

from inmet_local.snowflake.sqlproject import REPO_ROOT
from tests import solar_model as model
from tests.helpers import render_module_call

pytestmark = [pytest.mark.unit]

_IMPORT = "{% import 'modules/solar.sql' as solar %}"


@cache
def _macro(call: str) -> str:
    return render_module_call(call, _IMPORT)


def _run(expression: str, rows: list[tuple[float, float, datetime]]) -> list[float]:
    """The Snowflake expression over columns lat, lon, ts (and j = day of year of ts) on DuckDB
    through sqlglot, the local warehouse's translation."""
    sql = sqlglot.transpile(
        f"SELECT {expression} FROM t ORDER BY i", read="snowflake", write="duckdb"
    )[0]
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE t (i INTEGER, lat DOUBLE, lon DOUBLE, ts TIMESTAMP, j INTEGER)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
            [(i, la, lo, ts, ts.timetuple().tm_yday) for i, (la, lo, ts) in enumerate(rows)],
        )
        return [float(r[0]) for r in conn.execute(sql).fetchall()]


def _random_rows(n: int, seed: int) -> list[tuple[float, float, datetime]]:
    """Brazil's extent (5.3 N to 33.8 S, 28.8 W to 74 W, islands included), any hour 2000-2030."""
    rnd = random.Random(seed)
    start = datetime(2000, 1, 1)
    return [
        (
            rnd.uniform(-34, 5.5),
            rnd.uniform(-74, -28),
            start + timedelta(hours=rnd.randrange(0, 31 * 8766)),
        )
        for _ in range(n)
    ]


ROWS = _random_rows(400, seed=20261206)
CURITIBA = (-25.448611, -49.230556)


@pytest.mark.parametrize(
    ("call", "python"),
    [
        ("solar.hour_extraterrestrial_kj('lat', 'lon', 'ts')", model.hour_extraterrestrial_kj),
        ("solar.hour_sun_elevation_sine('lat', 'lon', 'ts')", model.hour_sun_elevation_sine),
        ("solar.hour_angle('lon', 'ts')", lambda la, lo, ts: model.hour_angle(lo, ts)),
        (
            "solar.day_extraterrestrial_mj('lat', 'j')",
            lambda la, lo, ts: model.day_extraterrestrial_mj(la, ts.timetuple().tm_yday),
        ),
        (
            "solar.daylight_hours('lat', 'j')",
            lambda la, lo, ts: model.daylight_hours(la, ts.timetuple().tm_yday),
        ),
        (
            "solar.clear_sky('lat', 'lon')",
            lambda la, lo, ts: model.clear_sky(la, lo),
        ),
    ],
)
def test_each_macro_equals_the_independent_model(call: str, python: object) -> None:
    got = _run(_macro("{{ " + call + " }}"), ROWS)
    want = [python(*row) for row in ROWS]  # type: ignore[operator]
    assert got == pytest.approx(want, abs=1e-9)


def test_fao56_example_8_extraterrestrial_radiation_of_a_day() -> None:
    """FAO-56 Example 8: 20 S on 3 September (J = 246): dr 0.985, delta 0.120 rad, ws 1.527
    rad, Ra 32.2 MJ m-2 day-1; Example 9, the same day: N 11.7 hours."""
    row = [(-20.0, 0.0, datetime(2015, 9, 3))]
    assert _run(_macro("{{ solar.distance_factor('j') }}"), row)[0] == pytest.approx(
        0.985, abs=5e-4
    )
    assert _run(_macro("{{ solar.declination('j') }}"), row)[0] == pytest.approx(0.120, abs=5e-4)
    assert _run(_macro("{{ solar.sunset_hour_angle('lat', 'j') }}"), row)[0] == pytest.approx(
        1.527, abs=5e-4
    )
    assert _run(_macro("{{ solar.day_extraterrestrial_mj('lat', 'j') }}"), row)[0] == (
        pytest.approx(32.2, abs=0.05)
    )
    assert _run(_macro("{{ solar.daylight_hours('lat', 'j') }}"), row)[0] == pytest.approx(
        11.7, abs=0.05
    )


@pytest.mark.parametrize("latitude", [4.5, -3.1, -15.8, -25.4, -33.7])
@pytest.mark.parametrize(
    "day", [datetime(2023, 3, 21), datetime(2023, 6, 21), datetime(2023, 12, 21)]
)
def test_the_hours_of_a_day_add_up_to_the_day(latitude: float, day: datetime) -> None:
    """eq 28 summed over the 24 hours of a solar day equals eq 21 for that day (within 1 %: J
    and the seasonal correction change during the day; eq 21 holds them fixed)."""
    longitude = -45.0  # solar noon near 15 UTC: the solar day lies within one UTC date + 3 h
    hours = [(latitude, longitude, day + timedelta(hours=3 + h)) for h in range(1, 25)]
    summed = sum(_run(_macro("{{ solar.hour_extraterrestrial_kj('lat', 'lon', 'ts') }}"), hours))
    j = day.timetuple().tm_yday
    assert summed / 1000 == pytest.approx(model.day_extraterrestrial_mj(latitude, j), rel=0.01)


def test_night_is_zero_and_noon_is_the_peak_at_curitiba() -> None:
    """Curitiba (UTC-3, longitude 49.2 W): the hour ending 06:00 UTC (03:00 local) is night,
    the largest hour is the one around solar noon (~15:17 UTC), and no hour of the year is
    above the solar constant (4.92 MJ m-2 h-1 with dr at its 1.033 top)."""
    lat, lon = CURITIBA
    year = [(lat, lon, datetime(2023, 1, 1) + timedelta(hours=h)) for h in range(1, 8761)]
    values = _run(_macro("{{ solar.hour_extraterrestrial_kj('lat', 'lon', 'ts') }}"), year)
    by_stamp = dict(zip([r[2] for r in year], values, strict=True))
    assert by_stamp[datetime(2023, 6, 21, 6)] == 0
    day = {h: by_stamp[datetime(2023, 12, 21, h)] for h in range(24)}
    assert max(day, key=lambda h: day[h]) in (15, 16)
    assert max(values) <= 1000 * 60 * 0.0820 * 1.033
    assert min(values) >= 0
    elevation = _run(_macro("{{ solar.hour_sun_elevation_sine('lat', 'lon', 'ts') }}"), year)
    for stamp, ra, sine in zip([r[2] for r in year], values, elevation, strict=True):
        if sine > 0.05:  # the sun clearly up at the midpoint: some radiation that hour
            assert ra > 0, stamp


@cache
def _linter() -> Linter:
    return Linter(config=FluffConfig.from_path(str(REPO_ROOT)))


def test_snowflakes_grammar_parses_every_macro() -> None:
    calls = [
        "solar.hour_extraterrestrial_kj('o.latitude', 'o.longitude', 'o.observed_at')",
        "solar.hour_sun_elevation_sine('o.latitude', 'o.longitude', 'o.observed_at')",
        "solar.day_extraterrestrial_mj('o.latitude', solar.hour_day_of_year('o.observed_at'))",
        "solar.daylight_hours('o.latitude', 'DAYOFYEAR(o.observed_at)')",
        "solar.clear_sky('1.5', 'o.altitude_m')",
    ]
    select = ",\n  ".join(f"{_macro('{{ ' + c + ' }}')} AS v{i}" for i, c in enumerate(calls))
    parsed = _linter().parse_string(f"SELECT\n  {select}\nFROM clean.observations AS o\n")
    assert not parsed.violations, [v.desc() for v in parsed.violations]
    assert parsed.tree is not None
    assert "unparsable" not in parsed.tree.stringify()
