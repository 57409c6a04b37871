"""CLEAN.MONTHLY (snowflake_sql/R__views_monthly.sql) on the local warehouse: WMO's rules for
monthly values, each at its limit, on a generated station with whole UTC days taken out; the
view against the oracle's monthly values (tests/oracle.py). The real files and the generated
zones are checked the same way by tests/integration/test_daily.py (check_against_oracle)."""

from __future__ import annotations

from datetime import date

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.synth.synth import generate_station_year
from tests.integration.resources import load
from tests.integration.test_daily import (
    _station,
    daily_rows,
    monthly_differences,
    monthly_rows,
)
from tests.oracle import expected_monthly

pytestmark = [pytest.mark.integration]

# Local days taken out of the file, by month: at UTC-3 the local day D is the hours ending
# D 04:00 UTC to D+1 03:00 UTC; every other day keeps its 24 hours.
DROPPED = {
    2: [3, 7, 11, 15, 19],  # 5 days missing, none next to another: the means are kept
    3: [3, 7, 11, 15, 19, 23],  # 6 days missing: no means
    4: [10, 11, 12],  # 3 days in a row: the means are kept
    5: [10, 11, 12, 13],  # 4 days in a row: no means
}


def station_file() -> bytes:
    """São Paulo's January to June 2023 without the days of DROPPED. The generator leaves
    outages as INMET's stations have them; with this seed every other day of those months
    keeps at least 20 hours of each mean's measure, so the days missing are DROPPED's."""
    st = _station("B006", "SAO PAULO", "SE", "SP", -23.50, -46.62)
    data = generate_station_year(st, 2023, seed=16, partial_until=date(2023, 6, 30)).data
    gone = {date(2023, month, day) for month, days in DROPPED.items() for day in days}

    def local_day(line: bytes) -> date | None:
        if not line[:4].isdigit():
            return None
        day = date(int(line[:4]), int(line[5:7]), int(line[8:10]))
        return day if int(line[11:13]) >= 4 else date.fromordinal(day.toordinal() - 1)

    lines = data.split(b"\n")
    kept = [line for line in lines if local_day(line) not in gone]
    assert len(lines) - len(kept) == 24 * len(gone)
    # January's precipitation whole (the generator leaves some hours empty, as INMET does), so
    # that its total is kept.
    for i, line in enumerate(kept):
        fields = line.split(b";")
        if line.startswith(b"2023/01/") and fields[2] in (b"", b"-9999"):
            kept[i] = b";".join([*fields[:2], b"0", *fields[3:]])
    return b"\n".join(kept)


def test_wmo_rules_for_monthly_means_and_totals_at_their_limits(warehouse: LocalWarehouse) -> None:
    load(warehouse, station_file())
    got = monthly_rows(warehouse)
    problems = monthly_differences(got, expected_monthly(daily_rows(warehouse)))
    assert not problems, problems[:10]

    def month(m: int) -> dict[str, object]:
        return got[("B006", 2023, m)]

    # January: every day whole, so every mean and, where every day has it, the total.
    assert month(1)["n_air_temp_mean_c"] == 31
    assert month(1)["air_temp_mean_c"] is not None
    assert (month(1)["n_precipitation_mm"], month(1)["gap_precipitation_mm"]) == (31, 0)
    january = [
        r["precipitation_mm"]
        for (s, d), r in daily_rows(warehouse).items()
        if (d.year, d.month) == (2023, 1)
    ]
    assert month(1)["precipitation_mm"] == pytest.approx(sum(january), abs=1e-6)
    # February: 5 days missing, apart: means kept, no total.
    assert (month(2)["n_air_temp_mean_c"], month(2)["gap_air_temp_mean_c"]) == (23, 1)
    assert month(2)["air_temp_mean_c"] is not None
    assert month(2)["precipitation_mm"] is None
    # March: 6 days missing: no mean.
    assert month(3)["n_air_temp_mean_c"] == 25
    assert month(3)["air_temp_mean_c"] is None
    # April: 3 in a row: kept; May: 4 in a row: no mean.
    assert (month(4)["gap_air_temp_mean_c"], month(4)["air_temp_mean_c"] is None) == (3, False)
    assert (month(5)["gap_air_temp_mean_c"], month(5)["air_temp_mean_c"] is None) == (4, True)
    # June: whole again. December 2022: its 31st holds the file's first hours only.
    assert month(6)["air_temp_mean_c"] is not None
    assert got[("B006", 2022, 12)]["days_in_month"] == 31
    assert got[("B006", 2022, 12)]["air_temp_mean_c"] is None
    # The mean is the mean of the valid days' means.
    days = [
        r["air_temp_mean_c"]
        for (s, d), r in daily_rows(warehouse).items()
        if d.month == 2 and d.year == 2023 and r["air_temp_mean_c"] is not None
    ]
    assert month(2)["air_temp_mean_c"] == pytest.approx(sum(days) / len(days), abs=0.005)
