"""The task's transform is total (the design of snowflake_sql/R__z_tasks.sql): arbitrary RAW
lines, not only files the upload accepts, go through the task on the local warehouse without
an error, and every line ends in CLEAN, in RAW.QUARANTINE with its file, or counted as dropped
in CLEAN.FILE_LOADS. A bounded number of examples here; benchmarks/fuzz_total_transform.py runs
the same check for longer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from inmet_local.emulator.warehouse import LocalWarehouse
from tests.integration.resources import WarehouseTarget
from tests.raw_fuzz import METADATA, check_batch, load_raw, raw_batch

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def warehouse(
    warehouse_target: WarehouseTarget, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalWarehouse]:
    with warehouse_target.warehouse(tmp_path_factory.mktemp("pipe")) as wh:
        try:
            yield wh
        finally:
            warehouse_target.drop(wh)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=raw_batch)
def test_no_raw_content_makes_the_task_fail_or_lose_a_line(
    warehouse: LocalWarehouse, batch: list[list[dict[str, Any]]]
) -> None:
    check_batch(warehouse, batch)


def _data_line(number: int, **columns: str) -> dict[str, Any]:
    row: dict[str, Any] = {"file_row_number": number, "c01": "2024-01-01", "c02": "0100 UTC"}
    row.update({f"c{i:02d}": "12,5" for i in range(3, 20)})
    row.update(columns)
    return row


def _metadata(**changed: str) -> list[dict[str, Any]]:
    values = dict(enumerate(METADATA, start=1))
    values.update({int(k[1:]): v for k, v in changed.items()})
    return [
        {"file_row_number": i, "c01": "x", "c02": values[i]} for i in range(1, 9) if values[i]
    ] + [{"file_row_number": 9, "c01": "Data", "c02": "Hora UTC"}]


@pytest.mark.parametrize(
    "rows",
    [
        # Every column type's edge: a measure far beyond NUMBER(12,3), a date no format reads,
        # an hour past 23, a value of 70,000 characters, a station code longer than VARCHAR(4)
        # would hold and a latitude beyond NUMBER(10,8) (the rules set those files aside).
        [*_metadata(), _data_line(10, c03="9" * 40, c08="-" + "9" * 400)],
        [*_metadata(), _data_line(10, c01="2024-02-30"), _data_line(11, c02="2500 UTC")],
        [*_metadata(), _data_line(10, c04="x" * 70000)],
        [*_metadata(m4="A8070"), _data_line(10)],
        [*_metadata(m5="-250,43"), _data_line(10)],
        [*_metadata(m3="y" * 70000), _data_line(10)],
        [*_metadata(m1=""), _data_line(10)],
        [_data_line(10)],  # no metadata at all
        # A year of three digits: not the year the rules read (LEFT(c01, 4)), so no hour.
        [*_metadata(), _data_line(10, c01="244-11-06")],
    ],
    ids=[
        "huge-numbers",
        "bad-times",
        "huge-measure",
        "long-code",
        "latitude",
        "huge-name",
        "no-region",
        "no-metadata",
        "short-year",
    ],
)
def test_each_column_types_edge(warehouse: LocalWarehouse, rows: list[dict[str, Any]]) -> None:
    outcome = check_batch(warehouse, [rows])
    assert outcome.files == 1


def test_the_transform_reads_dates_with_an_explicit_format(warehouse: LocalWarehouse) -> None:
    """Layout A and layout B dates and hours give the same UTC hour, whatever the account's
    TIMESTAMP_INPUT_FORMAT (an explicit format, not TRY_CAST)."""
    rows = [
        *_metadata(),
        _data_line(10, c01="2024-03-01", c02="0500 UTC"),
        _data_line(11, c01="2024/03/01", c02="06:00"),
    ]
    [name] = load_raw(warehouse, [rows])
    assert warehouse.run_task() is not None
    hours = [
        r[0]
        for r in warehouse.execute(
            f"SELECT observed_at FROM {warehouse.clean}.OBSERVATIONS WHERE source_file = ? "
            "ORDER BY 1",
            [name],
        )
    ]
    assert [h.isoformat() for h in hours] == ["2024-03-01T05:00:00", "2024-03-01T06:00:00"]


def test_metadata_format_is_pinned_in_the_view() -> None:
    sql = (Path(__file__).resolve().parents[2] / "snowflake_sql" / "R__views.sql").read_text()
    assert "TRY_CAST(" not in sql
    assert "'YYYY-MM-DD HH24:MI:SS'" in sql
