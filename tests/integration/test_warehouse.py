"""The SQL of snowflake_sql/ on the local warehouse runtime (fakesnow server + real connector):
the CLEAN rules of docs/contracts.md §3 against an independent Python oracle, and the emulated
pipe, stream/task and notifications.

Why one module of ~550 lines (issue 16): `make test-snowflake` runs exactly this file against a
real account (the same bodies as the local target); one file keeps the live target one file.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse, s3_event_keys
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_local.workspace.template import pipe_queue, queue_arn
from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURE_NAMES
from inmet_pipeline.notifications import upload_id_of
from inmet_pipeline.reader import validate
from inmet_pipeline.uploads import landing_key_for, raw_object, upload_id_for
from tests.integration.resources import WarehouseTarget, load
from tests.oracle import as_float, expected_clean
from tests.paths import real_file

pytestmark = [pytest.mark.integration]


def clean_rows(wh: LocalWarehouse) -> dict[tuple[str, Any], tuple[float | None, ...]]:
    columns = ", ".join(MEASURE_NAMES)
    rows = wh.execute(f"SELECT station_id, observed_at, {columns} FROM {wh.clean}.INMET_CLEAN")
    return {(r[0], r[1]): tuple(as_float(v) for v in r[2:]) for r in rows}


def ids_of(raw_keys: list[str]) -> list[str | None]:
    """The upload ids of raw/ keys, sorted: each raw_object() call is a new acceptance (a new
    upload sequence in the key), so tests compare the ids."""
    return sorted(upload_id_of(k) for k in raw_keys)  # type: ignore[type-var]


# --- deployment ------------------------------------------------------------------------------


def test_deploy_runs_the_portable_sql_and_names_what_it_skips(warehouse: LocalWarehouse) -> None:
    report = warehouse.deploy()  # idempotent: a second deploy changes nothing
    ran = " ".join(s.first_line for s in report.ran)
    assert "CREATE TABLE IF NOT EXISTS" in ran
    assert "MERGE" not in ran  # the task's statements are not deployment
    reasons = {reason for _, reason in report.skipped}
    assert any("pipes" in r for r in reasons)
    assert any("streams" in r for r in reasons)
    assert any("tasks" in r for r in reasons)
    assert "integrations" in reasons
    assert "grants" in reasons
    columns = warehouse.execute(f"DESCRIBE VIEW {warehouse.clean}.INMET_CLEAN")
    assert tuple(c[0].lower() for c in columns) == CLEAN_COLUMNS


@pytest.mark.parametrize(
    ("values", "refused_because"),
    [
        # VARCHAR(4): Snowflake refuses a longer string; DuckDB alone would keep it.
        ("'A0011', 'X', 'CO', 'DF', -15.7, -47.9, 1160.9", "too long and would be truncated"),
        # NUMBER(10,8): at most two integer digits.
        ("'A001', 'X', 'CO', 'DF', -150.7, -47.9, 1160.9", "out of range"),
        # NOT NULL.
        ("'A001', 'X', 'CO', 'DF', NULL, -47.9, 1160.9", "NULL result in a non-nullable column"),
    ],
)
def test_the_local_warehouse_refuses_what_snowflake_refuses(
    warehouse: LocalWarehouse, values: str, refused_because: str
) -> None:
    import snowflake.connector

    sql = (
        f"INSERT INTO {warehouse.clean}.STATIONS (station_id, station_name, region, state, "
        f"latitude, longitude, altitude_m, source_file, source_modified, updated_at) VALUES "
        f"({values}, 'f.csv', SYSDATE(), SYSDATE())"
    )
    with pytest.raises(snowflake.connector.errors.Error, match=refused_because):
        warehouse.execute(sql)
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.clean}.STATIONS") == 0


def test_task_does_not_run_without_data(warehouse: LocalWarehouse) -> None:
    assert warehouse.run_task() is None
    assert warehouse.pending_notifications() == []


# --- the task body as Snowflake runs it ---------------------------------------------------------


def test_the_task_body_commits_a_batch_and_rolls_back_a_failed_one(
    warehouse: LocalWarehouse,
) -> None:
    """Under `make test-snowflake`: the Snowflake Scripting block of PROCESS_RAW
    (task/process_raw_block.sql, as R__z_tasks.sql includes it) runs on the account through
    EXECUTE IMMEDIATE: a batch commits whole; a batch the warehouse cannot run raises
    Snowflake's error and leaves nothing written (the handler's ROLLBACK). The sends need the
    notification integration and are not run here. Locally fakesnow cannot run a scripting
    block: tests/unit/test_scripting_rules.py checks the block's documented rules instead."""
    if not warehouse.live:
        pytest.skip("a Snowflake Scripting block runs only on a real account (make test-snowflake)")
    import snowflake.connector

    from inmet_local.snowflake.sqlproject import render
    from tests.helpers import small_file

    block = render("task/process_raw_block.sql", warehouse.values)
    run_block = f"EXECUTE IMMEDIATE $$\nBEGIN\n{block}\nEND;\n$$"
    warehouse.load_objects([raw_object(small_file("B", station=1).data)])
    view = f"{warehouse.clean}.OPEN_BATCH_OBSERVATIONS"
    [(definition,)] = warehouse.execute(f"SELECT GET_DDL('VIEW', '{view}')")
    warehouse.execute(f"DROP VIEW {view}")
    with pytest.raises(snowflake.connector.errors.Error):
        warehouse.execute(run_block)
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.raw}.BATCHES") == 0
    warehouse.execute(str(definition))
    warehouse.execute(run_block)
    [(status,)] = warehouse.execute(f"SELECT status FROM {warehouse.raw}.BATCHES")
    assert status == "queued"
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.clean}.FILE_LOADS") == 1
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.clean}.OBSERVATIONS") > 0
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.raw}.NOTIFICATIONS") >= 1


# --- the 8 real files ------------------------------------------------------------------------


@pytest.fixture
def real_datas(real_dir: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(real_dir.glob("*.CSV"))]


@pytest.mark.real_data
def test_real_files_give_exactly_the_contract_clean(
    warehouse: LocalWarehouse, real_datas: list[bytes]
) -> None:
    load(warehouse, *real_datas)
    expected = expected_clean(real_datas)
    got = clean_rows(warehouse)
    assert len(got) == len(expected) == 38787
    assert got == expected
    # NULL counts per column, as a readable summary of the same comparison.
    for i, name in enumerate(MEASURE_NAMES):
        assert sum(v[i] is None for v in got.values()) == sum(
            v[i] is None for v in expected.values()
        ), name


@pytest.mark.real_data
def test_real_files_values_stations_and_file_figures(
    warehouse: LocalWarehouse, real_dir: Path
) -> None:
    brasilia = real_file(real_dir, "INMET_CO_DF_A001_BRASILIA").read_bytes()
    sao_felix = real_file(real_dir, "INMET_CO_MT_A921").read_bytes()
    manaus_2000 = real_file(real_dir, "INMET_N_AM_A101_MANAUS_09-05-2000").read_bytes()
    curitiba_2019 = real_file(real_dir, "INMET_S_PR_A807_CURITIBA_01-01-2019").read_bytes()
    load(warehouse, brasilia, sao_felix, manaus_2000, curitiba_2019)

    row = warehouse.execute(
        f"SELECT * FROM {warehouse.clean}.INMET_CLEAN WHERE station_id = 'A001' "
        "AND observed_at = '2024-08-12 13:00:00'"
    )[0]
    record = dict(zip(CLEAN_COLUMNS, row, strict=True))
    # 2024/08/12;1300 UTC;0;891,9;891,9;891,7;2120,8;21,3;-,2;21,3;19;,2;-2,4;26;23;24;143;4,9;1,3;
    assert as_float(record["pressure_hpa"]) == 891.9
    assert as_float(record["dew_point_c"]) == -0.2
    assert as_float(record["dew_point_max_c"]) == 0.2
    assert as_float(record["radiation_kj_m2"]) == 2120.8
    assert as_float(record["wind_direction_deg"]) == 143
    assert record["station_name"] == "BRASILIA"
    assert (record["region"], record["state"]) == ("CO", "DF")
    assert as_float(record["latitude"]) == -15.78944444
    assert as_float(record["altitude_m"]) == 1160.96

    # Layout A: '2000-05-09' + '00:00', -9999 is NULL.
    first_manaus = warehouse.execute(
        f"SELECT MIN(observed_at), MAX(observed_at) FROM {warehouse.clean}.INMET_CLEAN "
        "WHERE station_id = 'A101'"
    )[0]
    assert str(first_manaus[1]) == "2000-12-31 23:00:00"

    figures = {
        r[0]: r[1:]
        for r in warehouse.execute(
            f"SELECT station_id, data_rows, rows_clean, all_missing_rows, out_of_range_values "
            f"FROM {warehouse.clean}.FILE_LOADS"
        )
    }
    assert figures["A921"] == (8784, 0, 8784, 0)  # entirely empty: 0 rows in CLEAN
    assert figures["A001"] == (8784, 8760, 24, 0)
    assert figures["A101"] == (5688, 5056, 632, 0)
    assert figures["A807"] == (8760, 8587, 173, 0)
    assert (
        warehouse.scalar(
            f"SELECT COUNT(*) FROM {warehouse.clean}.INMET_CLEAN WHERE station_id = 'A921'"
        )
        == 0
    )
    stations = {
        r[0]: r[1:]
        for r in warehouse.execute(
            f"SELECT station_id, station_name, latitude FROM {warehouse.clean}.STATIONS"
        )
    }
    assert stations["A921"][0] == "SAO FELIX  DO ARAGUAIA"
    assert as_float(stations["A807"][1]) == -25.448688


@pytest.mark.real_data
def test_raw_keeps_every_line_of_every_file(
    warehouse: LocalWarehouse, real_datas: list[bytes]
) -> None:
    load(warehouse, *real_datas)
    lines = sum(len(raw_object(d)[1].splitlines()) for d in real_datas)
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.raw}.INMET_RAW") == lines
    # Metadata line 1 and the header are there, as text.
    firsts = warehouse.execute(
        f"SELECT c01, c02 FROM {warehouse.raw}.INMET_RAW WHERE file_row_number = 1"
    )
    assert {r[0] for r in firsts} == {"REGIÃO:", "REGI?O:", "REGIAO:"}
    header = warehouse.scalar(
        f"SELECT c07 FROM {warehouse.raw}.INMET_RAW WHERE file_row_number = 9 LIMIT 1"
    )
    assert header.startswith("RADIACAO GLOBAL")


# --- rules 5-7 on generated files ------------------------------------------------------------


def _with_values(data: bytes, line: int, changes: dict[int, str]) -> bytes:
    lines = data.split(b"\n")
    fields = lines[line - 1].split(b";")
    for index, value in changes.items():
        fields[index] = value.encode()
    lines[line - 1] = b";".join(fields)
    return b"\n".join(lines)


def test_out_of_range_values_are_null_in_clean_kept_in_raw_and_counted(
    warehouse: LocalWarehouse,
) -> None:
    st = station_catalogue(1)[0]
    data = generate_station_year(st, 2024, seed=3, layout="B").data
    data = _with_values(data, 20, {2: "600", 15: "130"})  # rain 600 mm, humidity 130 %
    data = _with_values(data, 21, {7: "-45"})  # air temperature -45 °C
    report = validate(data)
    assert report.out_of_range == {"precipitation_mm": 1, "humidity_pct": 1, "air_temp_c": 1}
    load(warehouse, data)
    row = warehouse.execute(
        f"SELECT precipitation_mm, humidity_pct, air_temp_c, pressure_hpa FROM "
        f"{warehouse.clean}.INMET_CLEAN WHERE observed_at = '2024-01-01 10:00:00'"
    )[0]
    assert row[0] is None
    assert row[1] is None
    assert row[3] is not None
    assert (
        warehouse.scalar(
            f"SELECT air_temp_c FROM {warehouse.clean}.INMET_CLEAN "
            "WHERE observed_at = '2024-01-01 11:00:00'"
        )
        is None
    )
    assert (
        warehouse.scalar(f"SELECT c03 FROM {warehouse.raw}.INMET_RAW WHERE file_row_number = 20")
        == "600"
    )
    counts = warehouse.execute(
        f"SELECT out_of_range_values, oor_precipitation_mm, oor_humidity_pct, oor_air_temp_c "
        f"FROM {warehouse.clean}.FILE_LOADS"
    )[0]
    assert counts == (3, 1, 1, 1)
    assert clean_rows(warehouse) == expected_clean([data])


def assert_one_row_per_station_hour(wh: LocalWarehouse) -> None:
    """Rule 7's uniqueness, which no constraint enforces (V1.3.0 says why)."""
    duplicates = wh.execute(
        f"SELECT station_id, observed_at, COUNT(*) FROM {wh.clean}.OBSERVATIONS "
        "GROUP BY station_id, observed_at HAVING COUNT(*) > 1 LIMIT 5"
    )
    assert duplicates == []


def test_loading_the_same_file_twice_changes_nothing(warehouse: LocalWarehouse) -> None:
    data = generate_station_year(station_catalogue(1)[0], 2019, seed=4).data
    load(warehouse, data)
    before = clean_rows(warehouse)
    key, body = raw_object(data)
    # Force the same file through COPY again (the poller itself would skip it: its load
    # history knows the name, see test_pipe_poller_…): CLEAN does not change.
    loaded, _ = warehouse.load_objects([(key, body)])
    assert loaded == [key]
    assert warehouse.run_task() is not None
    assert clean_rows(warehouse) == before
    assert warehouse.pipe.loaded_file_names([warehouse.stage_file_name(key)]) == {
        warehouse.stage_file_name(key)
    }
    # The same bytes under another name (a manual re-copy): still nothing changes.
    warehouse.load_objects([(key.replace(".csv", "-copy.csv"), body)])
    warehouse.run_task()
    assert clean_rows(warehouse) == before
    assert_one_row_per_station_hour(warehouse)


def test_a_corrected_file_replaces_the_changed_values(warehouse: LocalWarehouse) -> None:
    st = station_catalogue(2)
    first = generate_station_year(st[0], 2024, seed=5, layout="B").data
    other_station = generate_station_year(st[1], 2024, seed=5, layout="B").data
    load(warehouse, first, other_station)
    corrected = _with_values(first, 30, {7: "31,5"})  # a new air temperature
    corrected = _with_values(corrected, 31, dict.fromkeys(range(2, 19), ""))  # an hour blanked
    load(warehouse, corrected)
    got = clean_rows(warehouse)
    assert got == expected_clean([first, other_station, corrected])
    assert got[("A001", _ts("2024-01-01 20:00:00"))][5] == 31.5
    assert ("A001", _ts("2024-01-01 21:00:00")) not in got
    # The other station is untouched.
    untouched = {k: v for k, v in got.items() if k[0] == "A101"}
    assert untouched == expected_clean([other_station])
    assert_one_row_per_station_hour(warehouse)


def test_two_stations_never_mix(warehouse: LocalWarehouse) -> None:
    st = station_catalogue(2)
    a = generate_station_year(st[0], 2015, seed=6, layout="A").data
    b = generate_station_year(st[1], 2015, seed=6, layout="A").data
    load(warehouse, a, b)
    got = clean_rows(warehouse)
    assert got == expected_clean([a, b])
    names = dict(
        warehouse.execute(
            f"SELECT DISTINCT station_id, station_name FROM {warehouse.clean}.INMET_CLEAN"
        )
    )
    assert names == {"A001": "BRASILIA", "A101": "MANAUS"}
    assert_one_row_per_station_hour(warehouse)


def _ts(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


# --- notification ----------------------------------------------------------------------------


def test_notification_follows_the_contract(warehouse: LocalWarehouse) -> None:
    datas = [generate_station_year(s, 2024, seed=7).data for s in station_catalogue(2)]
    load(warehouse, *datas)
    sent: list[str] = []
    messages = warehouse.send_notifications(sent.append)
    assert len(messages) == 1
    message = json.loads(sent[0])
    assert set(message) == {
        "event",
        "batch_id",
        "part",
        "parts",
        "files",
        "partitions",
        "quarantined",  # issue 15: the files the batch set aside (none here)
        "loaded_at",
    }
    assert message["quarantined"] == []
    assert (message["part"], message["parts"]) == (1, 1)
    assert message["event"] == "inmet.clean.loaded"
    assert ids_of(message["files"]) == sorted(upload_id_for(d) for d in datas)
    assert {(p["station_id"], p["year"]) for p in message["partitions"]} == {
        ("A001", 2024),
        ("A101", 2024),
    }
    for partition in message["partitions"]:
        assert partition["rows"] == warehouse.scalar(
            f"SELECT COUNT(*) FROM {warehouse.clean}.INMET_CLEAN WHERE station_id = ?",
            [partition["station_id"]],
        )
    assert message["loaded_at"].endswith("Z")
    assert warehouse.pending_notifications() == []  # sent once; due again only if unacknowledged


@contextlib.contextmanager
def _warehouse_with(
    target: WarehouseTarget, tmp_path: Path, **overrides: str
) -> Iterator[LocalWarehouse]:
    with target.warehouse(tmp_path, **overrides) as wh:
        try:
            yield wh
        finally:
            target.drop(wh)


def test_a_large_batch_is_announced_in_bounded_parts(
    warehouse_target: WarehouseTarget, tmp_path: Path
) -> None:
    """partitions_per_message bounds each message; every partition and every file is in
    exactly one part, with the files of its partitions."""
    with _warehouse_with(warehouse_target, tmp_path, partitions_per_message="2") as wh:
        datas = [generate_station_year(s, 2024, seed=3).data for s in station_catalogue(5)]
        load(wh, *datas)
        messages = wh.send_notifications(lambda _: None)
    assert [(m["part"], m["parts"]) for m in messages] == [(1, 3), (2, 3), (3, 3)]
    assert {m["batch_id"] for m in messages} == {messages[0]["batch_id"]}
    assert [len(m["partitions"]) for m in messages] == [2, 2, 1]
    files = [f for m in messages for f in m["files"]]
    assert ids_of(files) == sorted(upload_id_for(d) for d in datas)
    for m in messages:
        stations = {p["station_id"] for p in m["partitions"]}
        assert {f.split("station=")[1][:4] for f in m["files"]} == stations
        assert len(json.dumps(m)) < 256 * 1024


def test_an_unacknowledged_message_is_sent_again_until_the_export_acknowledges_it(
    warehouse_target: WarehouseTarget, tmp_path: Path
) -> None:
    """SYSTEM$SEND_SNOWFLAKE_NOTIFICATION only queues: a message counts as delivered when the
    export acknowledges it; the sweep re-sends the others, at most notification_max_sends."""
    with _warehouse_with(
        warehouse_target, tmp_path, notification_resend_minutes="0", notification_max_sends="3"
    ) as wh:
        load(wh, generate_station_year(station_catalogue(1)[0], 2024, seed=5).data)
        first = wh.send_notifications(lambda _: None)
        again = wh.send_notifications(lambda _: None)  # lost: due again at once (0 minutes)
        assert len(first) == len(again) == 1
        assert again[0] == first[0]
        batch, part = first[0]["batch_id"], first[0]["part"]
        wh.execute(
            f"INSERT INTO {wh.clean}.EXPORT_ACKS (batch_id, part, uploads, acked_at) "
            "VALUES (?, ?, 1, SYSDATE())",
            [batch, part],
        )
        assert wh.send_notifications(lambda _: None) == []  # acknowledged: never again
        # A message nobody acknowledges stops after notification_max_sends and is listed.
        load(wh, generate_station_year(station_catalogue(2)[1], 2024, seed=5).data)
        sends = [len(wh.send_notifications(lambda _: None)) for _ in range(5)]
        assert sends == [1, 1, 1, 0, 0]
        abandoned = wh.execute(f"SELECT sends FROM {wh.raw}.NOTIFICATIONS_ABANDONED")
        assert abandoned == [(3,)]


def test_one_message_that_cannot_be_sent_does_not_stop_the_others(
    warehouse_target: WarehouseTarget, tmp_path: Path
) -> None:
    """As the scripting block's per-message handler (task/send_notifications.sql): a failed
    send is counted and retried by the sweep; the next message still goes out."""
    with _warehouse_with(warehouse_target, tmp_path, partitions_per_message="1") as wh:
        datas = [generate_station_year(s, 2024, seed=8).data for s in station_catalogue(2)]
        load(wh, *datas)
        published: list[dict[str, Any]] = []

        def publish(message: str) -> None:
            body = json.loads(message)
            if body["part"] == 1:
                raise RuntimeError("injected: SNS refused the message")
            published.append(body)

        sent = wh.send_notifications(publish)
        assert [m["part"] for m in sent] == [2] == [m["part"] for m in published]
        sends = dict(wh.execute(f"SELECT part, sends FROM {wh.raw}.NOTIFICATIONS"))
        assert sends == {1: 1, 2: 1}  # the failed one counts: abandoned after max sends


def test_the_latest_upload_wins_by_the_objects_last_modified_not_the_load_order(
    warehouse: LocalWarehouse,
) -> None:
    """Snowpipe does not promise to load files in the order they were staged: "which version
    wins" follows METADATA$FILE_LAST_MODIFIED (the upload's S3 write), whatever the load order."""
    from datetime import UTC, datetime, timedelta

    station = station_catalogue(1)[0]
    older = generate_station_year(station, 2024, seed=1).data
    newer = generate_station_year(station, 2024, seed=2).data
    written = datetime(2026, 1, 1, tzinfo=UTC)
    (old_key, old_body), (new_key, new_body) = raw_object(older), raw_object(newer)
    # The newer upload is loaded first, the older one after it.
    warehouse.load_objects([(new_key, new_body)], {new_key: written + timedelta(seconds=1)})
    assert warehouse.run_task() is not None
    warehouse.load_objects([(old_key, old_body)], {old_key: written})
    assert warehouse.run_task() is not None
    assert clean_rows(warehouse) == expected_clean([older, newer])
    source = warehouse.scalar(f"SELECT source_file FROM {warehouse.clean}.STATIONS")
    assert source == warehouse.stage_file_name(new_key)


def test_s3_event_keys_are_url_decoded() -> None:
    body = json.dumps(
        {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "s3": {"object": {"key": "raw/inmet/station%3DA001/year%3D2024/abc.csv"}},
                },
                {"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "raw/x.csv"}}},
            ]
        }
    )
    assert list(s3_event_keys(body)) == ["raw/inmet/station=A001/year=2024/abc.csv"]
    assert list(s3_event_keys("not json")) == []


@contextlib.contextmanager
def _bucket_with_pipe(bucket: str, datas: list[bytes]) -> Iterator[tuple[Any, Any, str]]:
    """In moto: a bucket whose raw/ events go to the pipe's queue, holding ``datas`` under
    raw/ (and their originals under landing/, which the pipe must ignore); (s3, sqs, queue)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket=bucket)
        queue_url = pipe_queue(sqs, s3, bucket, "pipe")
        for data in datas:
            key, body = raw_object(data)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            s3.put_object(Bucket=bucket, Key=landing_key_for(upload_id_for(data)), Body=data)
        yield s3, sqs, queue_url


def test_pipe_poller_loads_what_s3_announces_and_skips_repeats(warehouse: LocalWarehouse) -> None:
    import boto3

    datas = [generate_station_year(s, 2024, seed=8).data for s in station_catalogue(2)]
    with _bucket_with_pipe("pipe-test", datas) as (s3, sqs, queue_url):
        sns = boto3.client("sns", region_name="us-east-1")
        first = warehouse.pipe.poll(sqs, queue_url, s3, "pipe-test")
        assert ids_of(first.files_loaded) == sorted(upload_id_for(d) for d in datas)
        assert first.rows_loaded == sum(len(raw_object(d)[1].splitlines()) for d in datas)
        # S3 delivers at least once: the same event again is skipped, as Snowpipe does.
        key0 = next(k for k in first.files_loaded if upload_id_of(k) == upload_id_for(datas[0]))
        body0 = raw_object(datas[0])[1]
        s3.put_object(Bucket="pipe-test", Key=key0, Body=body0)
        again = warehouse.pipe.poll(sqs, queue_url, s3, "pipe-test")
        assert again.files_loaded == []
        assert again.files_skipped == [key0]
        run = warehouse.run_task()
        assert run is not None
        assert run.files == 2

        topic = sns.create_topic(Name="loads")["TopicArn"]
        inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        inbox_arn = queue_arn(sqs, inbox)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
        warehouse.send_notifications(lambda m: sns.publish(TopicArn=topic, Message=m))
        received = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]
        message = json.loads(json.loads(received[0]["Body"])["Message"])
        assert message["batch_id"] == run.batch_id
        assert len(message["partitions"]) == 2


def test_a_poll_of_many_files_loads_them_in_chunks_and_all_arrive(
    warehouse: LocalWarehouse,
) -> None:
    """More files than ``load_chunk``: several COPYs overlapped with fetching; every line of
    every file is in RAW once, and one task run takes them all."""
    datas = [generate_station_year(s, 2019, seed=9).data for s in station_catalogue(5)]
    warehouse.pipe.load_chunk = 2
    with _bucket_with_pipe("pipe-chunks", datas) as (s3, sqs, queue_url):
        polled = warehouse.pipe.poll(sqs, queue_url, s3, "pipe-chunks")
    assert ids_of(polled.files_loaded) == sorted(upload_id_for(d) for d in datas)
    lines = sum(len(raw_object(d)[1].splitlines()) for d in datas)
    assert polled.rows_loaded == lines
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.raw}.INMET_RAW") == lines
    loads = warehouse.execute(
        f"SELECT COUNT(DISTINCT loaded_at) FROM {warehouse.raw}._LOCAL_PIPE_HISTORY"
    )
    assert loads[0][0] == 3  # 2 + 2 + 1 files
    run = warehouse.run_task()
    assert run is not None
    assert run.files == 5
    assert clean_rows(warehouse) == expected_clean(datas)
    assert_one_row_per_station_hour(warehouse)


def test_the_pipe_holds_at_most_two_chunks_while_it_loads(warehouse: LocalWarehouse) -> None:
    """Fetching overlaps loading, but a chunk waits for the one before it: while the loader is
    slow, the poller never holds more than the loading chunk and the one it fills."""
    import time
    from datetime import date

    datas = [
        generate_station_year(s, 2019, seed=10, partial_until=date(2019, 1, 3)).data
        for s in station_catalogue(7)
    ]
    warehouse.pipe.load_chunk = 2
    completed = 0
    fetched = 0
    most_held = 0
    load = warehouse.pipe.load_objects

    def slow_load(objects: Any, modified: Any = None) -> tuple[list[str], int]:
        nonlocal completed
        time.sleep(0.3)
        result = load(objects, modified)
        completed += len(objects)
        return result

    warehouse.pipe.load_objects = slow_load  # type: ignore[method-assign,assignment]
    try:
        with _bucket_with_pipe("pipe-bounded", datas) as (s3, sqs, queue_url):
            get_object = s3.get_object

            def counting_get(**kwargs: Any) -> Any:
                nonlocal fetched, most_held
                most_held = max(most_held, fetched - completed)
                fetched += 1
                return get_object(**kwargs)

            s3.get_object = counting_get
            polled = warehouse.pipe.poll(sqs, queue_url, s3, "pipe-bounded")
    finally:
        del warehouse.pipe.load_objects
    assert len(polled.files_loaded) == 7
    assert most_held <= 2 * warehouse.pipe.load_chunk, most_held
