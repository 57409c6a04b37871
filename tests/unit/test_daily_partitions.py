"""The daily partitions' statements and keys (inmet_pipeline.partitions): which daily partitions
a batch changes, and Snowflake's unload of one, with the hourly unload's file format."""

from __future__ import annotations

import pytest

from inmet_pipeline.partitions import (
    UNLOAD_COPY_OPTIONS,
    UNLOAD_FILE_FORMAT,
    daily_copy_into_statement,
    daily_partition_key,
    daily_partitions_of,
    daily_remove_statement,
)


def test_a_station_year_changes_its_daily_year_and_the_one_before() -> None:
    # 31 December of the year before ends with the first hours of 1 January UTC.
    assert daily_partitions_of([("A001", 2024), ("A002", 2023), ("A001", 2025)]) == [
        ("A001", 2023),
        ("A001", 2024),
        ("A001", 2025),
        ("A002", 2022),
        ("A002", 2023),
    ]


def test_the_daily_key_lies_beside_the_hourly_partitions() -> None:
    assert daily_partition_key("A807", 2019) == (
        "processed/inmet_daily/station=A807/year=2019/inmet_daily.csv"
    )


def test_the_daily_unload_is_one_quoted_file_with_the_hourly_format() -> None:
    sql = daily_copy_into_statement("DB.CLEAN.DAILY_EXPORT_STAGE", "DB.CLEAN.DAILY", "A807", 2019)
    assert sql.startswith(
        "COPY INTO '@DB.CLEAN.DAILY_EXPORT_STAGE/station=A807/year=2019/inmet_daily.csv' FROM ("
    )
    assert f"FILE_FORMAT = ({UNLOAD_FILE_FORMAT}) {UNLOAD_COPY_OPTIONS}" in sql
    assert "TO_VARCHAR(local_date, 'YYYY-MM-DD') AS \"local_date\"" in sql
    assert "local_date >= '2019-01-01' AND local_date < '2020-01-01'" in sql
    assert sql.count("?") == 0
    assert daily_remove_statement("DB.CLEAN.DAILY_EXPORT_STAGE", "A807", 2019) == (
        "REMOVE '@DB.CLEAN.DAILY_EXPORT_STAGE/station=A807/year=2019/inmet_daily.csv'"
    )


@pytest.mark.parametrize(("station", "year"), [("A80'", 2019), ("A807", 20190)])
def test_only_a_wmo_code_and_a_year_reach_the_inlined_statement(station: str, year: int) -> None:
    with pytest.raises(ValueError, match="not a"):
        daily_copy_into_statement("S", "T", station, year)
