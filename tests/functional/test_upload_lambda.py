"""The Lambda handler (Mangum) called with the events/ JSON, as `sam local invoke -e` does."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from inmet_local.workspace.template import Provisioned, load_template
from tests.events import REQUEST_ID, lambda_context, load_event
from tests.functional.resources import BUCKET
from upload_api.app import handler
from upload_api.app import logger as app_logger

pytestmark = [pytest.mark.functional]


def _file_in(event: dict[str, Any]) -> bytes:
    body = base64.b64decode(event["body"])
    if event["headers"]["Content-Type"].startswith("multipart/"):
        start = body.index(b"\r\n\r\n") + 4
        end = body.rindex(b"\r\n--")
        return body[start:end]
    return body


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the Powertools logger writes (its handler holds the stream it was created with)."""
    buffer = io.StringIO()
    handler_ = app_logger.registered_handler
    assert isinstance(handler_, logging.StreamHandler)
    previous = handler_.setStream(buffer)
    yield buffer
    handler_.setStream(previous)


@pytest.mark.parametrize("name", ["upload_raw.json", "upload_multipart.json"])
def test_handler_stores_byte_exact_latin1_content(
    aws: Provisioned, name: str, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    event = load_event(name)
    original = _file_in(event)
    assert b"PRECIPITA\xc7\xc3O" in original  # the event carries ISO-8859-1 bytes
    response = handler(event, lambda_context())
    assert response["statusCode"] == 201, response
    body = json.loads(response["body"])
    s3 = boto3.client("s3", region_name="us-east-1")
    landing = s3.get_object(Bucket=BUCKET, Key=body["landing_key"])["Body"].read()
    assert landing == original
    assert hashlib.sha256(landing).hexdigest() == body["upload_id"]
    raw = s3.get_object(Bucket=BUCKET, Key=body["raw_key"])["Body"].read()
    assert raw == original.decode("latin-1").encode("utf-8")

    app_logs = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    emf = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    assert app_logs, "Powertools logger printed nothing"
    received = [e for e in app_logs if e["message"] == "upload received"]
    assert received
    assert received[0]["upload_id"] == body["upload_id"]
    assert received[0]["station_id"] == "A001"
    assert received[0]["function_request_id"] == REQUEST_ID
    assert received[0]["service"] == "inmet-pipeline"
    assert all(entry["upload_id"] == body["upload_id"] for entry in app_logs)
    assert any("UploadAccepted" in e for e in emf), "no UploadAccepted metric flushed"


def test_without_base64_the_latin1_bytes_are_corrupted(aws: Provisioned) -> None:
    """What API Gateway does without BinaryMediaTypes: the body arrives as text, and
    ISO-8859-1 bytes are replaced. The file is then rejected (or, worse, stored altered)."""
    event = load_event("upload_raw.json")
    original = base64.b64decode(event["body"])
    event["body"] = original.decode("utf-8", errors="replace")
    event["isBase64Encoded"] = False
    response = handler(event, lambda_context())
    if response["statusCode"] == 201:
        body = json.loads(response["body"])
        s3 = boto3.client("s3", region_name="us-east-1")
        stored = s3.get_object(Bucket=BUCKET, Key=body["landing_key"])["Body"].read()
        assert stored != original
    else:
        assert response["statusCode"] == 422
        # The 2020+ metadata keys are ASCII; the header's accents are what breaks.
        code = json.loads(response["body"])["error"]["code"]
        assert code in ("bad_metadata", "unknown_header")


def test_template_declares_the_binary_media_types() -> None:
    api = load_template()["Resources"]["UploadsApi"]["Properties"]
    assert {"multipart~1form-data", "text~1csv", "application~1octet-stream"} <= set(
        api["BinaryMediaTypes"]
    )


def test_rejection_metric_has_the_code_dimension(
    aws: Provisioned, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("upload_raw.json")
    event["body"] = base64.b64encode(b"REGIAO:;CO\n").decode()
    response = handler(event, lambda_context())
    assert response["statusCode"] == 422
    emf = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    rejected = [e for e in emf if "UploadRejected" in e]
    assert rejected
    assert rejected[0]["code"] == "too_short"
