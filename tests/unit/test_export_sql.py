"""The export's SQL and messages, without a warehouse: the COPY INTO @stage statement parses in
Snowflake's dialect and selects the export view's columns; notifications parse strictly."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
import sqlglot
from sqlglot import exp

from inmet_pipeline.columns import CLEAN_COLUMNS
from inmet_pipeline.exports import copy_into_statement, csv_field, csv_lines, partition_key
from inmet_pipeline.notifications import (
    ErrorNotification,
    LoadNotification,
    NotificationError,
    upload_id_of,
)
from tests.events import load_event

pytestmark = [pytest.mark.unit]


def test_copy_into_parses_and_selects_the_contract_columns() -> None:
    sql = copy_into_statement("INMET.CLEAN.EXPORT_STAGE", "INMET.CLEAN.INMET_CLEAN", "A001", 2024)
    parsed = sqlglot.parse_one(sql, read="snowflake")
    assert isinstance(parsed, exp.Copy)
    select = parsed.find(exp.Select)
    assert select is not None
    assert tuple(e.alias_or_name for e in select.expressions) == CLEAN_COLUMNS
    table = select.find(exp.Table)
    assert table is not None
    assert table.sql(dialect="snowflake") == "INMET.CLEAN.INMET_CLEAN"
    assert "@INMET.CLEAN.EXPORT_STAGE/station=A001/year=2024/inmet_clean.csv" in sql
    for option in ("HEADER = TRUE", "SINGLE = TRUE", "OVERWRITE = TRUE", "TYPE = CSV"):
        assert option in sql
    assert "'2024-01-01 00:00:00'" in sql
    assert "'2025-01-01 00:00:00'" in sql


@pytest.mark.parametrize("station", ["A001'; DROP TABLE x; --", "A1", "1001", ""])
def test_copy_into_refuses_anything_but_a_wmo_code(station: str) -> None:
    with pytest.raises(ValueError, match="WMO"):
        copy_into_statement("S", "V", station, 2024)


def test_partition_key_follows_the_s3_layout() -> None:
    assert partition_key("A001", 2024) == (
        "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv"
    )


def test_csv_fields_follow_the_contract() -> None:
    assert csv_field(None) == ""
    assert csv_field(Decimal("885.7")) == "885.7"
    assert csv_field(Decimal("-0.2")) == "-0.2"
    assert csv_field(Decimal("1E+1")) == "10"
    assert csv_field(datetime(2024, 1, 1, 13)) == "2024-01-01T13:00:00Z"
    lines = "".join(csv_lines([("A001", "SAO PAULO, SP", None)]))
    assert lines.splitlines()[0] == ",".join(CLEAN_COLUMNS)
    assert lines.splitlines()[1] == 'A001,"SAO PAULO, SP",'


def test_the_sample_event_is_a_valid_notification() -> None:
    event = load_event("export_notification.json")
    message = LoadNotification.parse(event["Records"][0]["Sns"]["Message"])
    assert message.partitions[0].station_id == "A001"
    assert upload_id_of(message.files[0]) == message.files[0].rsplit("-", 1)[1][:-4]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps(
            {"event": "other", "batch_id": "b", "files": [], "partitions": [], "loaded_at": "x"}
        ),
        json.dumps(
            {
                "event": "inmet.clean.loaded",
                "batch_id": "b",
                "files": ["/etc/passwd"],
                "partitions": [],
                "loaded_at": "x",
            }
        ),
        json.dumps(
            {
                "event": "inmet.clean.loaded",
                "batch_id": "b",
                "files": [],
                "partitions": [{"station_id": "'; drop", "year": 2024, "rows": 1}],
                "loaded_at": "x",
            }
        ),
    ],
)
def test_a_malformed_notification_is_refused_clearly(body: str) -> None:
    with pytest.raises(NotificationError, match=r"docs/contracts\.md §4"):
        LoadNotification.parse(body)


def test_pipe_error_names_the_raw_keys() -> None:
    event = load_event("snowflake_error.json")
    notification = ErrorNotification.parse(event["Records"][0]["Sns"]["Message"])
    assert notification.message_type == "INGEST_FAILED_FILE"
    assert notification.files[0].startswith("raw/inmet/station=A001/")
    assert "not recognized" in notification.error


@pytest.mark.parametrize("encoded_twice", [False, True])
def test_an_error_notification_is_read_as_json_or_as_json_in_a_json_string(
    encoded_twice: bool,
) -> None:
    """Snowflake's error notification may reach SNS as the JSON object or as a JSON string
    holding it; both give the same files and error."""
    event = load_event("snowflake_error.json")
    message = event["Records"][0]["Sns"]["Message"]
    body = json.dumps(message) if encoded_twice else message
    notification = ErrorNotification.parse(body)
    assert notification.message_type == "INGEST_FAILED_FILE"
    assert notification.files[0].startswith("raw/inmet/station=A001/")


def test_a_load_notification_encoded_twice_is_read() -> None:
    body = json.dumps(
        {"event": "inmet.clean.loaded", "batch_id": "b", "files": [], "partitions": [],
         "loaded_at": "x"}
    )  # fmt: skip
    assert LoadNotification.parse(json.dumps(body)).batch_id == "b"


@pytest.mark.parametrize(
    ("file_name", "stage"),
    [
        ("inmet/station=A001/year=2024/a.csv", "s3://bucket/raw/"),  # relative to the stage
        ("raw/inmet/station=A001/year=2024/a.csv", "s3://bucket/raw/"),  # the full path
        ("/inmet/station=A001/year=2024/a.csv", "s3://bucket/raw/"),
    ],
)
def test_a_pipe_error_names_the_raw_key_whatever_the_file_names_form(
    file_name: str, stage: str
) -> None:
    body = json.dumps(
        {
            "messageType": "INGEST_FAILED_FILE",
            "stageLocation": stage,
            "messages": [{"fileName": file_name, "firstError": "bad"}],
        }
    )
    assert ErrorNotification.parse(body).files == ["raw/inmet/station=A001/year=2024/a.csv"]


def test_unknown_error_type_is_refused() -> None:
    with pytest.raises(NotificationError):
        ErrorNotification.parse(json.dumps({"messageType": "SOMETHING_ELSE"}))
