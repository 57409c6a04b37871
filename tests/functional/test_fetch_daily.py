"""`inmet fetch --daily`: the daily partitions (processed/inmet_daily/) joined into
data/processed/inmet_daily.csv, by the hourly fetch's rules (never shrink unless --force,
pending uploads stop it unless --wait or --partial). On moto, in process, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inmet_local.client.fetch import DAILY, station_years
from inmet_pipeline.columns import DAILY_COLUMNS
from inmet_pipeline.partitions import daily_partition_key
from tests.functional import test_fetch_truth
from tests.functional.test_fetch_truth import BUCKET, fetch, put_partitions, put_status

pytestmark = [pytest.mark.functional]

aws = test_fetch_truth.aws  # moto's S3 and the status table, shared with the hourly tests

OUT = Path("data/processed/inmet_daily.csv")


def daily_row(station: str, day: str, complete: bool) -> str:
    """A row as the export writes it: an incomplete day's value empty, its count kept."""
    values = dict.fromkeys(DAILY_COLUMNS, "")
    values.update(station_id=station, local_date=day, utc_offset="-3", day_hours="24")
    for name in DAILY_COLUMNS[4::2]:
        values[name] = "1.5" if complete else ""
        values[f"n_{name}"] = "24" if complete else "12"
    return ",".join(values[c] for c in DAILY_COLUMNS) + "\n"


def put_daily(s3: Any, station: str, year: int) -> bytes:
    body = (
        DAILY.header
        + (
            daily_row(station, f"{year}-01-01", True) + daily_row(station, f"{year}-01-02", False)
        ).encode()
    )
    s3.put_object(Bucket=BUCKET, Key=daily_partition_key(station, year), Body=body)
    return body


def test_fetch_daily_joins_the_daily_partitions_and_never_shrinks(aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    put_partitions(s3, ("A001", 2024))  # hourly partitions are not part of the daily CSV
    bodies = [put_daily(s3, s, y) for s, y in (("A001", 2023), ("A001", 2024), ("A807", 2024))]
    first = fetch("--daily")
    assert first.exit_code == 0, first.output
    assert "wrote 6 daily rows of 3 station-year(s)" in first.output
    expected = DAILY.header + b"".join(b.partition(b"\n")[2] for b in bodies)
    assert OUT.read_bytes() == expected
    assert not Path("data/processed/inmet_clean.csv").exists()
    assert station_years(OUT, DAILY) == {("A001", 2023), ("A001", 2024), ("A807", 2024)}
    incomplete = OUT.read_text().splitlines()[2].split(",")
    assert incomplete[DAILY_COLUMNS.index("eto_mm")] == ""
    assert incomplete[DAILY_COLUMNS.index("n_eto_mm")] == "12"

    s3.delete_object(Bucket=BUCKET, Key=daily_partition_key("A001", 2023))
    refused = fetch("--daily")
    assert refused.exit_code == 1
    assert "1 station-year(s) that this fetch does not (A001 2023)" in refused.output
    assert OUT.read_bytes() == expected  # kept, byte for byte
    forced = fetch("--daily", "--force")
    assert forced.exit_code == 0, forced.output
    assert station_years(OUT, DAILY) == {("A001", 2024), ("A807", 2024)}


def test_fetch_daily_stops_while_uploads_are_pending(aws: dict[str, Any]) -> None:
    put_daily(aws["s3"], "A001", 2024)
    put_status(aws["dynamodb"], "b" * 64, "received")
    refused = fetch("--daily")
    assert refused.exit_code == 3
    assert "1 upload still pending" in refused.output
    assert not OUT.exists()
    partial = fetch("--daily", "--partial")
    assert partial.exit_code == 0, partial.output
    assert OUT.exists()


def test_fetch_daily_without_daily_partitions_says_where_it_looked(aws: dict[str, Any]) -> None:
    put_partitions(aws["s3"], ("A001", 2024))
    result = fetch("--daily")
    assert result.exit_code == 1
    assert "processed/inmet_daily/" in result.output
