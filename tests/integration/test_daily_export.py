"""The daily partitions of the export (processed/inmet_daily/, docs/contracts.md §3.2) against
moto and the local warehouse: after a batch, and after a later version of a station-year, each
daily CSV in S3 is byte for byte CLEAN.DAILY's rows of its station and year; the day that spans
two UTC years is re-exported with the year it belongs to; a retried export resumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from export_clean import app as export_app
from export_clean.deps import export_service
from inmet_local.client.fetch import DAILY, fetch_from_s3, fetch_from_warehouse, station_years
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline.columns import DAILY_COLUMNS
from inmet_pipeline.errors import DependencyUnavailable
from inmet_pipeline.exports import csv_lines
from inmet_pipeline.partitions import DAILY_PREFIX, daily_partition_key, daily_partition_select
from tests.events import lambda_context
from tests.integration import test_export
from tests.integration.test_export import BUCKET, Stack

pytestmark = [pytest.mark.integration]

# The export tests' stack (moto, the local warehouse, the upload service), shared.
stack = test_export.stack


def daily_keys(st: Stack) -> list[str]:
    listing = st.s3.list_objects_v2(Bucket=BUCKET, Prefix=DAILY_PREFIX).get("Contents", [])
    return sorted(o["Key"] for o in listing)


def warehouse_daily_csv(st: Stack, station: str, year: int) -> bytes:
    """CLEAN.DAILY's rows of the partition, as the contract CSV (csv_lines over the rows the
    warehouse returns): what the S3 object must be, byte for byte."""
    wh = st.warehouse
    sql, params = daily_partition_select(f"{wh.clean}.DAILY", station, year)
    return "".join(csv_lines(wh.execute(sql, params), columns=DAILY_COLUMNS)).encode("utf-8")


def s3_bytes(st: Stack, key: str) -> bytes:
    return bytes(st.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def assert_daily_equal(st: Stack, partitions: list[tuple[str, int]]) -> None:
    assert daily_keys(st) == sorted(daily_partition_key(s, y) for s, y in partitions)
    for station, year in partitions:
        data = s3_bytes(st, daily_partition_key(station, year))
        assert data == warehouse_daily_csv(st, station, year), (station, year)
        assert data.startswith((",".join(DAILY_COLUMNS) + "\n").encode())


def test_daily_partitions_equal_the_warehouse_after_a_batch_and_a_later_version(
    stack: Stack, tmp_path: Path
) -> None:
    # The contract's columns are CLEAN.DAILY's (modules/daily.sql declares them), in order.
    wh = stack.warehouse
    database, schema = wh.clean.split(".")
    columns = wh.execute(
        f"SELECT LOWER(column_name) FROM {database}.INFORMATION_SCHEMA.COLUMNS "
        "WHERE table_schema = ? AND table_name = 'DAILY' ORDER BY ordinal_position",
        [schema],
    )
    assert tuple(c for (c,) in columns) == (*DAILY_COLUMNS, "updated_at")
    a, b = station_catalogue(2)
    stack.upload_and_load(
        generate_station_year(a, 2023, seed=31).data,
        generate_station_year(a, 2024, seed=31).data,
        generate_station_year(b, 2024, seed=31).data,
    )
    export_app.handler(stack.notification_event(), lambda_context())
    # Each station-year's local days, and the last local day of the year before (31 December
    # ends with the first hours of 1 January UTC): 2022 holds that one day of station a.
    expected = [(a.station_id, 2022), (a.station_id, 2023), (a.station_id, 2024)]
    expected += [(b.station_id, 2023), (b.station_id, 2024)]
    assert_daily_equal(stack, expected)
    rows_2022 = s3_bytes(stack, daily_partition_key(a.station_id, 2022)).decode().splitlines()
    assert [r.split(",")[1] for r in rows_2022[1:]] == ["2022-12-31"]
    dec31 = [
        r
        for r in s3_bytes(stack, daily_partition_key(a.station_id, 2023)).decode().splitlines()
        if r.split(",")[1] == "2023-12-31"
    ]
    assert len(dec31) == 1

    # A later version of a's 2024 (other values): its first hours change a's 31 December 2023,
    # which lies in the 2023 daily partition; both are exported again and equal the warehouse.
    stack.upload_and_load(generate_station_year(a, 2024, seed=77).data)
    export_app.handler(stack.notification_event(), lambda_context())
    assert_daily_equal(stack, expected)
    dec31_after = [
        r
        for r in s3_bytes(stack, daily_partition_key(a.station_id, 2023)).decode().splitlines()
        if r.split(",")[1] == "2023-12-31"
    ]
    assert dec31_after != dec31

    # `inmet fetch --daily` from either source writes the same bytes: the partitions joined, or
    # CLEAN.DAILY read directly (--from snowflake).
    from_s3 = fetch_from_s3(stack.s3, BUCKET, tmp_path / "s3.csv", dataset=DAILY)
    from_wh = fetch_from_warehouse(wh.conn, f"{wh.clean}.DAILY", tmp_path / "wh.csv", dataset=DAILY)
    assert (tmp_path / "s3.csv").read_bytes() == (tmp_path / "wh.csv").read_bytes()
    assert from_s3.rows == from_wh.rows == len(wh.execute(f"SELECT 1 FROM {wh.clean}.DAILY"))
    assert station_years(tmp_path / "s3.csv", DAILY) == set(expected)


class FailingDaily:
    """Wraps the real exporter; the warehouse goes away on the second daily partition."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.written: list[str] = []

    def export_daily_partitions(self, partitions: Any) -> dict[str, int]:
        written = {}
        for item in partitions:
            self.calls += 1
            if self.calls == 2:
                raise DependencyUnavailable("Snowflake", "injected: warehouse went away")
            self.written.append(item[2])
            written.update(self.inner.export_daily_partitions([item]))
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_daily_export_is_not_acknowledged_and_its_retry_resumes(stack: Stack) -> None:
    (a,) = station_catalogue(1)
    ids = stack.upload_and_load(generate_station_year(a, 2024, seed=41).data)
    event = stack.notification_event()
    service = export_service()
    real = service.exporter
    service.wave = 1
    try:
        failing = FailingDaily(real)
        service.exporter = failing
        with pytest.raises(DependencyUnavailable):
            export_app.handler(event, lambda_context())
        # Not acknowledged: the uploads are not marked, the warehouse would send it again.
        assert {stack.status(i)["status"] for i in ids} == {"received"}
        assert failing.written == [daily_partition_key(a.station_id, 2023)]
        retry = FailingDaily(real)
        retry.calls = 10
        service.exporter = retry
        export_app.handler(event, lambda_context())
        # The retry writes only the daily partition the failed attempt did not finish.
        assert retry.written == [daily_partition_key(a.station_id, 2024)]
    finally:
        service.exporter = real
        service.wave = None
    assert {stack.status(i)["status"] for i in ids} == {"exported"}
    assert_daily_equal(stack, [(a.station_id, 2023), (a.station_id, 2024)])
