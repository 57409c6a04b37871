"""snowflake_sql/modules/daily.sql's FAO-56 reference evapotranspiration, on the local
warehouse's engine (DuckDB through sqlglot, as fakesnow runs the task): FAO-56's Example 18 to
0.1 mm, and the independent oracle (tests/oracle.py) on random days."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import duckdb
import pytest
import sqlglot

from inmet_local.snowflake.sqlproject import render
from tests.oracle import fao56_eto

pytestmark = [pytest.mark.unit]

COLUMNS = ("tmax", "tmin", "rhmax", "rhmin", "u10", "rs", "lat", "alt", "j")


@cache
def _eto_sql() -> str:
    call = (
        "{% from 'modules/daily.sql' import eto_mm %}{{ eto_mm("
        + ", ".join(f"'{c}'" for c in COLUMNS)
        + ") }}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "call.sql").write_text(call, encoding="utf-8")
        return render("call.sql", {}, root=Path(tmp)).strip()


def _run(rows: Sequence[tuple[float, ...]]) -> list[float]:
    sql = sqlglot.transpile(
        f"SELECT {_eto_sql()} FROM t ORDER BY i", read="snowflake", write="duckdb"
    )[0]
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE t (i INTEGER, " + ", ".join(f"{c} DOUBLE" for c in COLUMNS) + ")"
        )
        conn.executemany(
            f"INSERT INTO t VALUES ({', '.join(['?'] * (len(COLUMNS) + 1))})",
            [(i, *row) for i, row in enumerate(rows)],
        )
        return [float(r[0]) for r in conn.execute(sql).fetchall()]


def test_fao56_example_18_brussels_6_july() -> None:
    """FAO-56 chapter 4, Example 18 (https://www.fao.org/3/x0490e/x0490e08.htm): Brussels,
    50 deg 48' N, 100 m, 6 July (J = 187); Tmax 21.5, Tmin 12.3 degC, RHmax 84, RHmin 63 %,
    wind 10 km/h at 10 m, Rs 22.07 MJ m-2 day-1 (from 9.25 hours of sunshine): ETo 3.9 mm/day."""
    brussels = (21.5, 12.3, 84.0, 63.0, 10 / 3.6, 22.07, 50 + 48 / 60, 100.0, 187.0)
    (eto,) = _run([brussels])
    assert eto == pytest.approx(3.9, abs=0.1)
    assert fao56_eto(*brussels[:8], 187) == pytest.approx(eto, abs=1e-9)


def test_a_hot_dry_windy_day_has_a_higher_eto_than_a_cool_humid_calm_one() -> None:
    hot, cool = _run(
        [
            (35.0, 22.0, 60.0, 20.0, 5.0, 26.0, -10.0, 300.0, 280.0),
            (24.0, 18.0, 100.0, 80.0, 0.5, 10.0, -10.0, 300.0, 280.0),
        ]
    )
    assert hot > 7
    assert 0 < cool < 2.5


def test_the_sql_equals_the_independent_oracle_on_brazilian_days() -> None:
    rnd = random.Random(29)
    rows = []
    for _ in range(300):
        tmin = rnd.uniform(-2, 28)
        rhmin = rnd.uniform(5, 95)
        rows.append(
            (
                tmin + rnd.uniform(2, 18),
                tmin,
                rnd.uniform(rhmin, 100),
                rhmin,
                rnd.uniform(0, 12),
                rnd.uniform(1, 32),
                rnd.uniform(-34, 5.5),
                rnd.uniform(0, 1500),
                float(rnd.randint(1, 366)),
            )
        )
    got = _run(rows)
    want = [fao56_eto(*row[:8], int(row[8])) for row in rows]
    assert got == pytest.approx(want, abs=1e-9)
