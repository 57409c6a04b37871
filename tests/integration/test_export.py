"""The export function (and the error handler) against moto and the local warehouse: a load
notification produces partitions equal to CLEAN, statuses say exported, a duplicate delivery
changes nothing, a failure leaves no partial partition, an error marks uploads failed.

Why one module of ~430 lines (issue 16): every test here shares one local warehouse and moto
fixture (a fakesnow server per module), which a split would start twice.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from export_clean import app as export_app
from export_clean.deps import export_service
from inmet_local.emulator.servers import (
    ManagedProcess,
    fakesnow_server_kwargs,
)
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_local.workspace.template import LocalNames, provision
from inmet_pipeline.adapters.aws import DynamoStatusStore, S3ObjectStore
from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURE_NAMES
from inmet_pipeline.errors import DependencyUnavailable, PartitionRejected
from inmet_pipeline.exports import (
    ExportIncomplete,
    ExportService,
    csv_field,
    csv_lines,
    partition_select,
    stations_select,
)
from inmet_pipeline.notifications import LoadNotification
from inmet_pipeline.settings import upload_settings
from inmet_pipeline.uploads import UploadService
from tests.events import lambda_context, load_event
from tests.oracle import expected_qc
from tests.qc_faults import base_file, plant_all
from tests.sequence_pipeline import export_handler_env

pytestmark = [pytest.mark.integration]

BUCKET = "inmet-export-test"
TABLE = "inmet-uploads-export"


@dataclass
class Stack:
    warehouse: LocalWarehouse
    uploads: UploadService
    s3: Any

    def upload_and_load(self, *datas: bytes) -> list[str]:
        ids = [
            self.uploads.accept(d, f"f{i}.CSV").document["upload_id"] for i, d in enumerate(datas)
        ]
        objects = []
        for upload_id in ids:
            key = self.uploads.statuses.get(upload_id)["raw_key"]  # type: ignore[index]
            objects.append((key, self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
        self.warehouse.load_objects(objects)
        assert self.warehouse.run_task() is not None
        return ids

    def notification_event(self) -> dict[str, Any]:
        sent: list[str] = []
        self.warehouse.send_notifications(sent.append)
        assert len(sent) == 1
        event = load_event("export_notification.json")
        event["Records"][0]["Sns"]["Message"] = sent[0]
        return event

    def partition(self, key: str) -> list[list[str]]:
        body = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8")
        return list(csv.reader(io.StringIO(body)))

    def status(self, upload_id: str) -> dict[str, Any]:
        doc = self.uploads.get(upload_id)
        assert doc is not None
        return doc


@pytest.fixture
def stack(
    fakesnow: ManagedProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Stack]:
    database = f"E{uuid.uuid4().hex[:10].upper()}"
    for name, value in export_handler_env(fakesnow, database, BUCKET, TABLE).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    upload_settings.cache_clear()
    export_service.cache_clear()
    with mock_aws():
        provision({"region_name": "us-east-1"}, LocalNames(bucket=BUCKET, table=TABLE))
        values = variables({"database": database})
        with LocalWarehouse(
            fakesnow_server_kwargs(fakesnow), values=values, work_dir=tmp_path / "pipe"
        ) as wh:
            wh.deploy()
            uploads = UploadService(S3ObjectStore(BUCKET), DynamoStatusStore(TABLE))
            yield Stack(wh, uploads, boto3.client("s3", region_name="us-east-1"))
    export_service.cache_clear()
    upload_settings.cache_clear()


def _expected_partition(wh: LocalWarehouse, station: str, year: int) -> list[list[str]]:
    sql, params = partition_select(f"{wh.clean}.INMET_CLEAN", station, year)
    return [list(CLEAN_COLUMNS)] + [[csv_field(v) for v in row] for row in wh.execute(sql, params)]


def test_notification_exports_partitions_equal_to_clean(stack: Stack) -> None:
    st = station_catalogue(2)
    datas = [
        generate_station_year(st[0], 2024, seed=11).data,
        generate_station_year(st[1], 2024, seed=11).data,
    ]
    ids = stack.upload_and_load(*datas)
    result = export_app.handler(stack.notification_event(), lambda_context())
    keys = result["batches"][0]["export_keys"]
    assert sorted(keys) == [
        "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv",
        "processed/inmet_clean/station=A101/year=2024/inmet_clean.csv",
    ]
    for key, station in zip(sorted(keys), ("A001", "A101"), strict=True):
        rows = stack.partition(key)
        assert rows == _expected_partition(stack.warehouse, station, 2024)
        assert rows[0] == list(CLEAN_COLUMNS)
        assert rows[1][7] == "2024-01-01T00:00:00Z"
        assert [r[7] for r in rows[1:]] == sorted(r[7] for r in rows[1:])
        assert all(r[0] == station for r in rows[1:])
        assert any(field == "" for r in rows[1:] for field in r)  # NULL is an empty field
    for upload_id in ids:
        doc = stack.status(upload_id)
        assert doc["status"] == "exported"
        assert doc["rows_clean"] == len(stack.partition(doc["export_keys"][0])) - 1
        assert doc["cleaned_at"]
        assert doc["exported_at"]
        assert doc["error"] is None


def _clean_with_flags_csv(wh: LocalWarehouse, station: str) -> bytes:
    """The contract CSV of one station's CLEAN, built here from the tables themselves (not the
    export view or the export's query): the 25 columns of contract version 1, then the 17
    quality-control flags (docs/contracts.md §3.1)."""
    values = ", ".join(f"o.{m}" for m in MEASURE_NAMES)
    flags = ", ".join(f"o.{m}_qc" for m in MEASURE_NAMES)
    rows = wh.execute(
        "SELECT o.station_id, s.station_name, s.region, s.state, s.latitude, s.longitude, "
        f"s.altitude_m, o.observed_at, {values}, {flags} "
        f"FROM {wh.clean}.OBSERVATIONS o JOIN {wh.clean}.STATION_YEARS s "
        "ON s.station_id = o.station_id AND s.year = YEAR(o.observed_at) "
        "WHERE o.station_id = ? ORDER BY o.observed_at",
        [station],
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            *("station_id", "station_name", "region", "state"),
            *("latitude", "longitude", "altitude_m"),
            "observed_at",
            *MEASURE_NAMES,
            *(f"{m}_qc" for m in MEASURE_NAMES),
        ]
    )
    writer.writerows([csv_field(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8")


def test_the_exported_partition_carries_the_quality_control_flags(stack: Stack) -> None:
    """Contract version 2: the S3 partition is CLEAN with its 17 flags, byte for byte; a value
    quality control nulled is an empty field with its flag 2, and the flags are the oracle's."""
    station, data = base_file()
    planted, faults = plant_all(station, data)
    stack.upload_and_load(planted)
    result = export_app.handler(stack.notification_event(), lambda_context())
    (key,) = result["batches"][0]["export_keys"]
    body = stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == _clean_with_flags_csv(stack.warehouse, station.station_id)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[0] == list(CLEAN_COLUMNS)
    assert len(rows[0]) == 25 + 17
    by_hour = {r[7]: r for r in rows[1:]}
    toa = next(f for f in faults if f.name == "radiation_above_toa")
    (at, _, _) = next(iter(toa.expected))
    row = by_hour[at.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert row[CLEAN_COLUMNS.index("radiation_kj_m2")] == ""
    assert row[CLEAN_COLUMNS.index("radiation_kj_m2_qc")] == "2"
    flags = expected_qc([planted])
    assert {r[7]: [int(v) if v else None for v in r[25:]] for r in rows[1:]} == {
        hour.strftime("%Y-%m-%dT%H:%M:%SZ"): list(f) for (_, hour), f in flags.items()
    }
    assert {"0", "1", "2", ""} <= {v for r in rows[1:] for v in r[25:]}


def test_the_unload_adapter_writes_bytes_exactly_as_the_csv_writer(stack: Stack) -> None:
    """The local export's files are written by DuckDB's CSV writer in the fakesnow server;
    they must equal what csv.writer and csv_field make of the same rows, quoting, negative
    decimals and NULLs included, behind the contract's header."""
    st = station_catalogue(2)
    stack.upload_and_load(
        generate_station_year(st[0], 2024, seed=12).data,
        generate_station_year(st[1], 2024, seed=13).data,
    )
    wh = stack.warehouse
    wh.execute(
        # (The upload refuses such a name; the local unload must still quote like csv.writer.
        # state is VARCHAR(2): the local warehouse refuses a longer value, as Snowflake does.)
        # The export view takes the name from the station history (STATION_YEARS).
        f"UPDATE {wh.clean}.STATION_YEARS SET station_name = ? WHERE station_id = ?",
        ['SAO "PAULO",\nSP', "A001"],
    )
    wh.execute(
        f"UPDATE {wh.clean}.OBSERVATIONS SET air_temp_c = -0.2, humidity_pct = 0, "
        "precipitation_mm = NULL WHERE station_id = 'A001' AND observed_at < '2024-01-01 05:00:00'"
    )
    view = f"{wh.clean}.INMET_CLEAN"
    keys = {s.station_id: f"processed/test/station={s.station_id}/year=2024/x.csv" for s in st}
    exporter = export_service().exporter
    written = exporter.export_partitions([(s, 2024, k) for s, k in keys.items()])
    for station_id, key in keys.items():
        sql, params = stations_select(view, [station_id], 2024, 2024)
        rows = wh.execute(sql, params)
        expected = "".join(csv_lines(rows)).encode("utf-8")
        assert stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == expected
        assert written[key] == len(rows) > 8000
    first = stack.partition(keys["A001"])[1]
    assert first[1:4] == ['SAO "PAULO",\nSP', "CO", "DF"]
    assert first[CLEAN_COLUMNS.index("air_temp_c")] == "-0.2"
    assert first[CLEAN_COLUMNS.index("precipitation_mm")] == ""


def test_an_unload_the_warehouse_refuses_names_the_reason(stack: Stack) -> None:
    exporter = export_service().exporter
    with pytest.raises(PartitionRejected, match=r"local unload failed: .*NOPE"):
        exporter._unload("SELECT * FROM NOPE.NOPE.NOPE", [], [])  # type: ignore[attr-defined]
    with pytest.raises(PartitionRejected, match="outside the unload folder"):
        exporter._unload(  # type: ignore[attr-defined]
            "SELECT 1", [], [{"station_id": "A001", "year": 2024, "path": "/etc/x.csv"}]
        )


def test_a_duplicate_delivery_changes_nothing(stack: Stack) -> None:
    [upload_id] = stack.upload_and_load(
        generate_station_year(station_catalogue(1)[0], 2019, seed=12).data
    )
    event = stack.notification_event()
    export_app.handler(event, lambda_context())
    key = "processed/inmet_clean/station=A001/year=2019/inmet_clean.csv"
    first_bytes = stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    first_status = stack.status(upload_id)
    export_app.handler(event, lambda_context())
    assert stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == first_bytes
    assert stack.status(upload_id) == first_status


class FailingExporter:
    """Wraps the real exporter; the warehouse fails on the second partition."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def export_partitions(self, partitions: Any) -> dict[str, int]:
        written = {}
        for station_id, year, key in partitions:
            self.calls += 1
            if self.calls == 2:
                raise DependencyUnavailable("Snowflake", "injected: warehouse went away")
            written.update(self.inner.export_partitions([(station_id, year, key)]))
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failure_re_raises_and_leaves_no_partial_partition(stack: Stack) -> None:
    st = station_catalogue(2)
    ids = stack.upload_and_load(
        generate_station_year(st[0], 2024, seed=13).data,
        generate_station_year(st[1], 2024, seed=13).data,
    )
    event = stack.notification_event()
    service = export_service()
    real = service.exporter
    service.exporter = FailingExporter(real)
    with pytest.raises(DependencyUnavailable):
        export_app.handler(event, lambda_context())
    listing = stack.s3.list_objects_v2(Bucket=BUCKET, Prefix="processed/").get("Contents", [])
    assert [o["Key"] for o in listing] == [
        "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv"
    ]  # whole, or absent
    assert {stack.status(i)["status"] for i in ids} == {"received"}
    # Lambda retries the event: it completes.
    service.exporter = real
    export_app.handler(event, lambda_context())
    assert {stack.status(i)["status"] for i in ids} == {"exported"}


class CountingExporter:
    """Wraps the real exporter and counts the partitions it is asked to write."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.written: list[str] = []

    def export_partitions(self, partitions: Any) -> dict[str, int]:
        self.written += [key for _, _, key in partitions]
        return dict(self.inner.export_partitions(partitions))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_retried_export_resumes_where_the_failed_attempt_stopped(stack: Stack) -> None:
    """Progress is recorded per wave (CLEAN.EXPORTED_PARTITIONS): the retry writes only the
    partitions the failed attempt did not finish, then marks every upload and acknowledges."""
    st = station_catalogue(3)
    ids = stack.upload_and_load(*(generate_station_year(s, 2024, seed=21).data for s in st))
    event = stack.notification_event()
    service = export_service()
    real = service.exporter
    service.wave = 1
    try:
        service.exporter = FailingExporter(real)
        with pytest.raises(DependencyUnavailable):
            export_app.handler(event, lambda_context())
        counting = CountingExporter(real)
        service.exporter = counting
        result = export_app.handler(event, lambda_context())
    finally:
        service.exporter = real
        service.wave = None
    assert len(counting.written) == 2  # the first partition was done before the failure
    assert len(result["batches"][0]["resumed_keys"]) == 1
    assert {stack.status(i)["status"] for i in ids} == {"exported"}
    acks = stack.warehouse.execute(f"SELECT part, uploads FROM {stack.warehouse.clean}.EXPORT_ACKS")
    assert acks == [(1, 3)]
    assert stack.warehouse.pending_notifications() == []


def test_an_export_short_of_time_stops_between_waves_and_is_resumed(stack: Stack) -> None:
    """When the invocation's time left is under a wave's budget the export stops with
    ExportIncomplete (Lambda retries the event); nothing is marked or acknowledged yet."""
    st = station_catalogue(2)
    ids = stack.upload_and_load(*(generate_station_year(s, 2024, seed=22).data for s in st))
    message = LoadNotification.parse(stack.notification_event()["Records"][0]["Sns"]["Message"])
    service = export_service()
    service.wave = 1
    clock = iter([ExportService.WAVE_BUDGET_MS * 2, 1_000])
    try:
        with pytest.raises(ExportIncomplete, match="1 of 2 partitions left"):
            service.export_batch(message, lambda: next(clock))
        assert {stack.status(i)["status"] for i in ids} == {"received"}
        result = service.export_batch(message, lambda: ExportService.WAVE_BUDGET_MS * 2)
    finally:
        service.wave = None
    assert len(result.resumed_keys) == 1
    assert {stack.status(i)["status"] for i in ids} == {"exported"}


def test_an_all_missing_file_is_exported_with_zero_rows(stack: Stack) -> None:
    empty = generate_station_year(station_catalogue(1)[0], 2024, empty=True).data
    [upload_id] = stack.upload_and_load(empty)
    result = export_app.handler(stack.notification_event(), lambda_context())
    assert result["batches"][0]["export_keys"] == []
    doc = stack.status(upload_id)
    assert (doc["status"], doc["rows_clean"], doc["export_keys"]) == ("exported", 0, [])


def test_error_notification_marks_the_upload_failed(stack: Stack) -> None:
    data = generate_station_year(station_catalogue(1)[0], 2024, seed=14).data
    result = stack.uploads.accept(data, "x.CSV")
    upload_id = result.document["upload_id"]
    event = load_event("snowflake_error.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["messages"][0]["fileName"] = result.document["raw_key"].removeprefix("raw/")
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    out = export_app.error_handler(event, lambda_context())
    assert out["failed_uploads"] == [upload_id]
    doc = stack.status(upload_id)
    assert doc["status"] == "failed"
    assert doc["error"]["code"] == "snowflake_load_failed"
    assert "Numeric value 'abc' is not recognized" in doc["error"]["message"]
    assert doc["failed_at"]


def test_task_failure_marks_the_files_it_did_not_process(stack: Stack) -> None:
    from inmet_local.emulator.warehouse import task_error_message

    data = generate_station_year(station_catalogue(1)[0], 2024, seed=15).data
    result = stack.uploads.accept(data, "x.CSV")
    key = result.document["raw_key"]
    stack.warehouse.load_objects(
        [(key, stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())]
    )
    event = load_event("snowflake_error.json")
    event["Records"][0]["Sns"]["Message"] = task_error_message(
        stack.warehouse.values, "Division by zero"
    )
    out = export_app.error_handler(event, lambda_context())
    assert out["failed_uploads"] == [result.document["upload_id"]]
    assert stack.status(result.document["upload_id"])["error"]["code"] == "snowflake_task_failed"


def test_events_of_sam_local_invoke_work_end_to_end(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """upload_raw.json through the upload handler, then export_notification.json as is."""
    from upload_api.app import app as upload_app
    from upload_api.app import handler as upload_handler
    from upload_api.deps import build_upload_service, get_service

    # The handler answers with a service on this test's moto (the app is module-global).
    monkeypatch.setitem(
        upload_app.dependency_overrides,
        get_service,
        lambda: build_upload_service(upload_settings()),
    )
    response = upload_handler(load_event("upload_raw.json"), lambda_context())
    assert response["statusCode"] == 201
    body = json.loads(response["body"])
    raw = stack.s3.get_object(Bucket=BUCKET, Key=body["raw_key"])["Body"].read()
    stack.warehouse.load_objects([(body["raw_key"], raw)])
    stack.warehouse.run_task()
    result = export_app.handler(load_event("export_notification.json"), lambda_context())
    assert result["batches"][0]["uploads"] == [body["upload_id"]]
    assert stack.status(body["upload_id"])["status"] == "exported"


def test_fetch_from_s3_and_from_the_warehouse_agree(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from inmet_local.cli import app as cli
    from inmet_local.client.fetch import fetch_from_s3

    st = station_catalogue(3)
    datas = [generate_station_year(s, 2015, seed=16).data for s in st]
    datas.append(generate_station_year(st[0], 2016, seed=16).data)
    stack.upload_and_load(*datas)
    export_app.handler(stack.notification_event(), lambda_context())
    from_s3 = fetch_from_s3(stack.s3, BUCKET, tmp_path / "s3.csv")
    assert from_s3.partitions == 4
    result = CliRunner().invoke(
        cli, ["fetch", "--from", "snowflake", "--out", str(tmp_path / "wh.csv")]
    )
    assert result.exit_code == 0, result.output
    s3_bytes = (tmp_path / "s3.csv").read_bytes()
    assert s3_bytes == (tmp_path / "wh.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(s3_bytes.decode("utf-8"))))
    assert tuple(rows[0]) == CLEAN_COLUMNS
    keys = [(r[0], r[7]) for r in rows[1:]]
    assert keys == sorted(keys)
    assert (
        len(keys)
        == len(set(keys))
        == stack.warehouse.scalar(f"SELECT COUNT(*) FROM {stack.warehouse.clean}.INMET_CLEAN")
    )
    assert all(r[7].endswith("Z") and "T" in r[7] for r in rows[1:])


def test_fetch_before_any_export_says_what_to_do(stack: Stack, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from inmet_local.cli import app as cli

    result = CliRunner().invoke(cli, ["fetch", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert "no exported partitions" in result.output
    assert not (tmp_path / "x.csv").exists()
