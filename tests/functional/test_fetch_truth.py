"""`inmet fetch` never hands over less than it seems: it never replaces a CSV by one missing any
of its station-years unless asked (--force), never writes a CSV that looks complete while uploads
are pending (exit 3; --wait waits for them, --partial writes and says what is missing), and each
source says what it really wrote. On moto, in process, through the CLI as a user runs it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.cli.fetch import _origin
from inmet_local.cli.options import FetchSource
from inmet_local.client.fetch import HEADER, WouldShrink, never_shrink, station_years
from inmet_local.client.pending import describe, pending_uploads, wait_until_settled
from inmet_local.workspace.discovery import StackInfo
from inmet_pipeline.columns import CLEAN_COLUMNS, VALUE_COLUMNS

pytestmark = [pytest.mark.functional]

BUCKET = "inmet-test"
TABLE = "inmet-uploads-test"


def row(station: str, year: int, hour: int) -> str:
    values = [""] * len(CLEAN_COLUMNS)
    values[0] = station
    values[1] = "SOME NAME"
    values[CLEAN_COLUMNS.index("observed_at")] = f"{year}-01-01 {hour:02d}:00:00"
    return ",".join(values) + "\n"


def partition(station: str, year: int, hours: int = 3) -> tuple[str, bytes]:
    key = f"processed/inmet_clean/station={station}/year={year}/inmet_clean.csv"
    return key, HEADER + "".join(row(station, year, h) for h in range(hours)).encode()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "S3_BUCKET": BUCKET,
        "INMET_STATUS_TABLE": TABLE,
        "INMET_ENV_FILE": str(tmp_path / "no.env"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "upload_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "upload_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield {"s3": s3, "dynamodb": dynamodb}


def put_partitions(s3: Any, *pairs: tuple[str, int]) -> None:
    for station, year in pairs:
        key, body = partition(station, year)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def put_status(dynamodb: Any, upload_id: str, status: str) -> None:
    item = {"upload_id": {"S": upload_id}, "status": {"S": status}}
    dynamodb.put_item(TableName=TABLE, Item=item)


def fetch(*args: str) -> Any:
    return CliRunner().invoke(app, ["fetch", *args], env={"COLUMNS": "200"})


def test_fetch_never_replaces_a_csv_by_one_with_fewer_station_years(aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    put_partitions(s3, ("A001", 2023), ("A001", 2024), ("A807", 2024))
    first = fetch()
    assert first.exit_code == 0, first.output
    out = Path("data/processed/inmet_clean.csv")
    before = out.read_bytes()
    assert station_years(out) == {("A001", 2023), ("A001", 2024), ("A807", 2024)}

    for key in list(s3.list_objects_v2(Bucket=BUCKET)["Contents"]):
        if "A001" in key["Key"]:
            s3.delete_object(Bucket=BUCKET, Key=key["Key"])
    refused = fetch()
    assert refused.exit_code == 1
    assert "2 station-year(s) that this fetch does not (A001 2023, A001 2024)" in refused.output
    assert "--force" in refused.output
    assert out.read_bytes() == before  # kept, byte for byte

    elsewhere = fetch("--out", "other.csv")
    assert elsewhere.exit_code == 0, elsewhere.output
    assert station_years(Path("other.csv")) == {("A807", 2024)}

    forced = fetch("--force")
    assert forced.exit_code == 0, forced.output
    assert "replaced the previous file" in forced.output
    assert station_years(out) == {("A807", 2024)}


def test_more_station_years_replace_the_file_without_asking(aws: dict[str, Any]) -> None:
    put_partitions(aws["s3"], ("A001", 2024))
    assert fetch().exit_code == 0
    put_partitions(aws["s3"], ("A807", 2024))
    grown = fetch()
    assert grown.exit_code == 0, grown.output
    assert "2 station-year(s)" in grown.output


def test_a_partition_exported_without_the_flags_is_named_and_nothing_is_written(
    aws: dict[str, Any],
) -> None:
    """A partition exported before the CSV carried the quality-control flags (25 columns) is
    not joined with the 42-column ones: the fetch says which and what to do."""
    put_partitions(aws["s3"], ("A001", 2024))
    old = b",".join(c.encode() for c in VALUE_COLUMNS) + b"\nA807,X\n"
    key = "processed/inmet_clean/station=A807/year=2024/inmet_clean.csv"
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=old)
    refused = fetch()
    assert refused.exit_code == 1
    assert f"{key} was exported before the CSV carried the quality-control flags" in (
        " ".join(refused.output.split())
    )
    assert not Path("data/processed/inmet_clean.csv").exists()


def test_pending_uploads_stop_the_fetch_unless_partial(aws: dict[str, Any]) -> None:
    put_partitions(aws["s3"], ("A001", 2024))
    put_status(aws["dynamodb"], "a" * 64, "exported")
    put_status(aws["dynamodb"], "b" * 64, "received")
    put_status(aws["dynamodb"], "c" * 64, "received")
    put_status(aws["dynamodb"], "d" * 64, "failed")

    refused = fetch()
    assert refused.exit_code == 3
    assert "2 uploads still pending (2 received)" in refused.output
    assert "--wait" in refused.output
    assert "--partial" in refused.output
    assert not Path("data/processed/inmet_clean.csv").exists()

    partial = fetch("--partial")
    assert partial.exit_code == 0, partial.output
    assert "partial:" in partial.output
    assert "2 uploads still pending" in partial.output
    assert Path("data/processed/inmet_clean.csv").exists()

    both = fetch("--wait", "--partial")
    assert both.exit_code == 2


def test_wait_fetches_once_the_pending_uploads_are_final(aws: dict[str, Any]) -> None:
    put_partitions(aws["s3"], ("A001", 2024))
    put_status(aws["dynamodb"], "b" * 64, "received")
    # The pipeline exports it while the fetch waits.
    later = threading.Timer(0.5, put_status, (aws["dynamodb"], "b" * 64, "exported"))
    later.start()
    try:
        result = fetch("--wait", "--wait-timeout", "30")
    finally:
        later.join()
    assert result.exit_code == 0, result.output
    assert station_years(Path("data/processed/inmet_clean.csv")) == {("A001", 2024)}
    assert "partial" not in result.output
    assert pending_uploads(aws["dynamodb"], TABLE) == Counter()


def test_wait_gives_up_after_its_timeout_and_says_what_is_pending() -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    seen: list[tuple[int, float]] = []
    result = wait_until_settled(
        lambda: Counter({"received": 4}),
        timeout=7,
        progress=lambda n, waited: seen.append((n, waited)),
        poll=2,
        clock=clock,
        sleep=sleep,
    )
    assert result.pending == Counter({"received": 4})
    assert [w for _, w in seen] == [0, 2, 4, 6, 7]
    assert describe(result.pending) == "4 uploads still pending (4 received)"
    assert describe(Counter({"received": 1})) == "1 upload still pending (1 received)"


def test_wait_with_uploads_that_never_settle_exits_3(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    put_partitions(aws["s3"], ("A001", 2024))
    put_status(aws["dynamodb"], "b" * 64, "received")
    result = fetch("--wait", "--wait-timeout", "1")
    assert result.exit_code == 3
    assert "1 upload still pending (1 received)" in result.output


def test_each_source_says_what_it_wrote(tmp_path: Path) -> None:
    stack = StackInfo(data_dir=tmp_path / ".local", pid=1, api_url="http://127.0.0.1:1")
    sample = StackInfo(data_dir=tmp_path, pid=1, api_url="http://x", sample=True)
    warehouse = _origin(stack, FetchSource.SNOWFLAKE)
    assert "export view" in warehouse
    assert str(tmp_path / ".local") in warehouse
    assert "S3" not in warehouse
    assert "export view (all it has loaded)" in _origin(None, FetchSource.SNOWFLAKE)
    assert "this stack's export wrote to S3, from your uploads" in _origin(stack, FetchSource.S3)
    assert "generated sample" in _origin(sample, FetchSource.S3)


def test_station_years_reads_a_contract_csv_and_the_guard_refuses_less(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    path.write_bytes(
        partition("A001", 2023)[1]
        + b"".join(
            row(s, y, h).encode() for s, y in (("A001", 2024), ("A807", 2024)) for h in range(2)
        )
    )
    assert station_years(path) == {("A001", 2023), ("A001", 2024), ("A807", 2024)}
    guard = never_shrink(path, force=False)
    guard({("A001", 2023), ("A001", 2024), ("A807", 2024), ("A999", 2020)})  # more: fine
    with pytest.raises(WouldShrink, match=r"1 station-year\(s\) .* \(A807 2024\)"):
        guard({("A001", 2023), ("A001", 2024)})
    never_shrink(path, force=True)(set())  # asked for
    # An older demo's generated sample is no loss of the user's data.
    never_shrink(path, force=False, expendable=frozenset({("A807", 2024)}))(
        {("A001", 2023), ("A001", 2024)}
    )
    never_shrink(tmp_path / "absent.csv", force=False)(set())
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n")
    assert station_years(other) == set()  # not a contract CSV: nothing it could lose
