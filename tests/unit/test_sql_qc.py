"""Quality control's bits: the view that computes the checks (R__views.sql) and the statement that
writes their reasons (task/process_batch.sql, CLEAN.QC_FLAGS) agree on which bit of the work
table's qc_checks is which check, and every bit fits the column."""

from __future__ import annotations

import re

import pytest

from inmet_local.snowflake.sqlproject import TASK_BODY, render, variables

pytestmark = [pytest.mark.unit]

# A BIGINT: Snowflake's NUMBER(38,0); 64-bit signed on the local warehouse. 2^59 is safe in both.
HIGHEST_SAFE_BIT = 59


def _view_bits() -> list[tuple[str, int]]:
    """(condition, bit) of each check, from the view's qc_checks expression."""
    view = render("R__views.sql", variables())
    body = view[view.index("qc_checked AS (") : view.index("AS qc_checks")]
    return [(cond, int(bit)) for cond, bit in re.findall(r"\+ IFF\((.+), (\d+), 0\)\n", body)]


def _qc_flags_bits() -> dict[int, int]:
    """check number -> bit, from the WHERE of the QC_FLAGS statement."""
    task = render(TASK_BODY, variables())
    start = task.index("INSERT INTO INMET.CLEAN.QC_FLAGS")
    where = task[task.index("WHERE CASE c.i", start) : task.index("ELSE FALSE END", start)]
    return {
        int(i): int(bit)
        for i, bit in re.findall(r"WHEN (\d+) THEN BITAND\(qc_checks, (\d+)\) > 0", where)
    }


def test_each_check_has_its_own_bit_and_every_bit_fits() -> None:
    bits = [bit for _, bit in _view_bits()]
    assert len(bits) >= 25  # the checks of docs/qc.md, besides the ranges
    assert bits == [2**i for i in range(len(bits))]
    assert len(bits) - 1 <= HIGHEST_SAFE_BIT


def test_qc_flags_reads_the_bits_the_view_sets() -> None:
    view = [bit for _, bit in _view_bits()]
    written = _qc_flags_bits()
    # QC_FLAGS lists the 17 range checks first (their own oor_ columns), then every check in
    # the view's order.
    assert sorted(written) == list(range(17, 17 + len(view)))
    assert [written[i] for i in sorted(written)] == view


def test_the_work_table_carries_no_column_per_check() -> None:
    work = render("V1.11.0__narrow_work_table.sql", variables())
    columns = re.findall(r"^  (\w+) [A-Z]", work, flags=re.M)
    assert "qc_checks" in columns
    assert not [c for c in columns if c.startswith("qcr_")]
    # the references' inputs besides the measures
    assert {"prev_air_temp_c", "prev_dew_point_c", "prev_pressure_hpa", "ra_kj", "altitude_m"} <= (
        set(columns)
    )
