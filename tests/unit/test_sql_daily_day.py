"""snowflake_sql/modules/timezones.sql, the station's local day: its standard UTC offset agrees
with the tz database (python's zoneinfo) in every zone and around every change, and an hour
belongs to the local date of its midpoint (the day boundary at 03:00 UTC in UTC-3, 04:00 UTC
in UTC-4)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import duckdb
import pytest
import sqlglot

from tests.helpers import render_module_call

pytestmark = [pytest.mark.unit]

_IMPORT = "{% import 'modules/timezones.sql' as tz %}"


@cache
def _macro(call: str) -> str:
    return render_module_call(call, _IMPORT)


def _run(expression: str, rows: list[tuple[str, float, float, datetime]]) -> list[object]:
    """The Snowflake expression over columns state, lat, lon, ts on DuckDB through sqlglot (the
    local warehouse's translation)."""
    sql = sqlglot.transpile(
        f"SELECT {expression} FROM t ORDER BY i", read="snowflake", write="duckdb"
    )[0]
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE t (i INTEGER, state VARCHAR, lat DOUBLE, lon DOUBLE, ts TIMESTAMP)"
        )
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)", [(i, *row) for i, row in enumerate(rows)]
        )
        return [r[0] for r in conn.execute(sql).fetchall()]


# A station in each zone: (state, latitude, longitude, the tz database's zone).
STATIONS = [
    ("AC", -9.97, -67.81, "America/Rio_Branco"),  # Rio Branco
    ("AC", -7.63, -72.67, "America/Rio_Branco"),  # Cruzeiro do Sul
    ("AM", -6.65, -69.87, "America/Eirunepe"),  # Eirunepe, west of the line
    ("AM", -4.37, -70.19, "America/Eirunepe"),  # Benjamin Constant
    ("AM", -3.10, -60.02, "America/Manaus"),  # Manaus
    ("AM", -8.75, -67.39, "America/Manaus"),  # Boca do Acre, just east of the line
    ("MT", -15.60, -56.10, "America/Cuiaba"),
    ("MS", -20.44, -54.65, "America/Campo_Grande"),
    ("RO", -8.76, -63.90, "America/Porto_Velho"),
    ("RR", 2.82, -60.67, "America/Boa_Vista"),
    ("PE", -3.85, -32.42, "America/Noronha"),  # Fernando de Noronha
    ("PE", -8.06, -34.96, "America/Recife"),
    ("SP", -23.50, -46.62, "America/Sao_Paulo"),
    ("DF", -15.79, -47.93, "America/Sao_Paulo"),
    ("BA", -12.97, -38.51, "America/Bahia"),
    ("TO", -10.18, -48.33, "America/Araguaina"),
    ("RS", -30.05, -51.17, "America/Sao_Paulo"),
]

ACRE_CHANGES = [datetime(2008, 6, 24, 5), datetime(2013, 11, 10, 4)]


def standard_offset(zone: str, instant: datetime) -> int:
    """The zone's standard offset (daylight saving removed) at a UTC instant, from zoneinfo."""
    local = instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    offset = local.utcoffset()
    dst = local.dst()
    assert offset is not None
    seconds = (offset - (dst or timedelta(0))).total_seconds()
    assert seconds % 3600 == 0
    return int(seconds // 3600)


def _instants() -> list[datetime]:
    rnd = random.Random(20261206)
    start = datetime(2000, 1, 1)
    sample = [start + timedelta(hours=rnd.randrange(0, 31 * 8766)) for _ in range(300)]
    around = [c + timedelta(minutes=30 * k) for c in ACRE_CHANGES for k in range(-96, 97)]
    return sample + around


def test_the_offset_is_the_tz_databases_standard_offset_in_every_zone() -> None:
    rows = [(st, la, lo, t) for st, la, lo, _ in STATIONS for t in _instants()]
    got = _run(_macro("{{ tz.utc_offset('state', 'lat', 'lon', 'ts') }}"), rows)
    want = [standard_offset(zone, t) for _, _, _, zone in STATIONS for t in _instants()]
    assert got == want


def test_the_tz_database_has_the_acre_changes_the_laws_state() -> None:
    """Lei 11.662/2008: UTC-4 from 24 June 2008 00:00 (UTC-5 local); Lei 12.876/2013: UTC-5
    again from 10 November 2013 00:00 (UTC-4 local)."""
    for zone in ("America/Rio_Branco", "America/Eirunepe"):
        assert standard_offset(zone, datetime(2008, 6, 24, 4, 59)) == -5
        assert standard_offset(zone, datetime(2008, 6, 24, 5, 0)) == -4
        assert standard_offset(zone, datetime(2013, 11, 10, 3, 59)) == -4
        assert standard_offset(zone, datetime(2013, 11, 10, 4, 0)) == -5


@pytest.mark.parametrize(
    ("state", "lon", "ts", "local"),
    [
        # UTC-3: the hour ending 03:00 UTC is 23:00-24:00 local: the previous day.
        ("SP", -46.6, datetime(2024, 3, 2, 3), date(2024, 3, 1)),
        ("SP", -46.6, datetime(2024, 3, 2, 4), date(2024, 3, 2)),
        # UTC-4: the hour ending 04:00 UTC belongs to the previous local day.
        ("MS", -54.6, datetime(2024, 3, 2, 4), date(2024, 3, 1)),
        ("MS", -54.6, datetime(2024, 3, 2, 5), date(2024, 3, 2)),
        # UTC-5 (Acre after 2013): 05:00 UTC still the previous day.
        ("AC", -67.8, datetime(2024, 3, 2, 5), date(2024, 3, 1)),
        ("AC", -67.8, datetime(2024, 3, 2, 6), date(2024, 3, 2)),
        # UTC-4 (Acre in 2010).
        ("AC", -67.8, datetime(2010, 3, 2, 4), date(2010, 3, 1)),
        ("AC", -67.8, datetime(2010, 3, 2, 5), date(2010, 3, 2)),
        # UTC-2 (Fernando de Noronha).
        ("PE", -32.4, datetime(2024, 3, 2, 2), date(2024, 3, 1)),
        ("PE", -32.4, datetime(2024, 3, 2, 3), date(2024, 3, 2)),
        # The year boundary: 01:00-03:00 UTC on 1 January is still 31 December in UTC-3.
        ("SP", -46.6, datetime(2024, 1, 1, 3), date(2023, 12, 31)),
        ("SP", -46.6, datetime(2024, 1, 1, 0), date(2023, 12, 31)),
    ],
)
def test_an_hour_belongs_to_the_local_date_of_its_midpoint(
    state: str, lon: float, ts: datetime, local: date
) -> None:
    got = _run(_macro("{{ tz.local_date('state', 'lat', 'lon', 'ts') }}"), [(state, -9.0, lon, ts)])
    assert got == [local]


def test_acre_days_of_the_changes_have_23_and_25_hours() -> None:
    """The hours of 24 June 2008 (clocks forward at local midnight) are 23, those of 9
    November 2013 (clocks back at the next midnight) 25; every other day 24."""
    for start, short_or_long in (
        (datetime(2008, 6, 20), {date(2008, 6, 24): 23}),
        (datetime(2013, 11, 5), {date(2013, 11, 9): 25}),
    ):
        hours = [start + timedelta(hours=h) for h in range(1, 24 * 10)]
        dates = _run(
            _macro("{{ tz.local_date('state', 'lat', 'lon', 'ts') }}"),
            [("AC", -9.97, -67.81, t) for t in hours],
        )
        counts: dict[date, int] = {}
        for d in dates:
            assert isinstance(d, date)
            counts[d] = counts.get(d, 0) + 1
        inner = sorted(counts)[1:-1]  # the window's first and last dates are cut
        assert {d: counts[d] for d in inner} == {d: short_or_long.get(d, 24) for d in inner}


def test_night_is_exactly_where_the_hours_extraterrestrial_radiation_is_zero() -> None:
    """solar.hour_is_night (what the daily values use) against solar.hour_extraterrestrial_kj
    = 0 (its definition), every hour of a year at stations from 5 N to 34 S."""
    solar = "{% import 'modules/solar.sql' as solar %}"
    rows = [
        ("XX", lat, lon, datetime(2023, 1, 1) + timedelta(hours=h))
        for lat, lon in ((5.2, -60.7), (-3.1, -60.0), (-15.8, -47.9), (-33.7, -53.4))
        for h in range(1, 8761, 1)
    ]
    night = _run(_macro(solar + "{{ solar.hour_is_night('lat', 'lon', 'ts') }}"), rows)
    zero = _run(
        _macro(solar + "{{ solar.hour_extraterrestrial_kj('lat', 'lon', 'ts') }} = 0"), rows
    )
    assert night == zero
    assert 0.4 < sum(bool(n) for n in night) / len(rows) < 0.6
