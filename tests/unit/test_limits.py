"""Payload limits (issue 14 point 9): the API's limit keeps Lambda's event under 6 MB, and
`inmet upload` refuses a larger file before sending it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from inmet_local.client.client import ApiClient
from inmet_local.workspace.sources import InputFile
from inmet_pipeline.limits import (
    LAMBDA_SYNC_PAYLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    TOO_LARGE_CODE,
    base64_size,
    too_large_message,
)
from inmet_pipeline.settings import UploadSettings
from inmet_pipeline.uploads import UploadService
from tests.events import load_event

pytestmark = [pytest.mark.unit]


def _event_bytes(body_size: int) -> int:
    """The API Gateway proxy event (events/upload_raw.json's shape) for a binary body."""
    event = load_event("upload_raw.json")
    event["body"] = base64.b64encode(b"x" * body_size).decode()
    event["isBase64Encoded"] = True
    return len(json.dumps(event).encode())


def test_the_largest_accepted_file_reaches_the_function() -> None:
    """ "Invoke - AWS Lambda": 6 MB for a synchronous invocation."""
    assert base64_size(MAX_UPLOAD_BYTES) == len(base64.b64encode(b"x" * MAX_UPLOAD_BYTES))
    assert _event_bytes(MAX_UPLOAD_BYTES) < LAMBDA_SYNC_PAYLOAD_BYTES
    # ... while a 4.5 MB file would not: the gateway, not the app, would answer.
    assert _event_bytes(int(4.5 * 1024 * 1024)) > LAMBDA_SYNC_PAYLOAD_BYTES


def test_the_api_and_the_client_share_the_limit_and_the_message() -> None:
    assert UploadSettings(s3_bucket="b").inmet_max_upload_bytes == MAX_UPLOAD_BYTES
    error = UploadService(None, None).too_large_error(MAX_UPLOAD_BYTES + 1)  # type: ignore[arg-type]
    assert (error.status, error.code) == (413, TOO_LARGE_CODE)
    assert error.message == too_large_message(MAX_UPLOAD_BYTES + 1)


def test_inmet_upload_refuses_a_large_file_without_sending_it(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={})

    big = tmp_path / "INMET_CO_DF_A001_BIG.CSV"
    big.write_bytes(b"x" * (MAX_UPLOAD_BYTES + 1))
    with ApiClient("https://example.invalid", "k", transport=httpx.MockTransport(handler)) as c:
        outcome = c.upload(InputFile(big.name, str(big), big.stat().st_size, big.read_bytes))
    assert sent == []
    assert outcome.outcome == "rejected"
    assert outcome.code == TOO_LARGE_CODE
    assert outcome.attempts == 0
    assert outcome.message == too_large_message(MAX_UPLOAD_BYTES + 1)
