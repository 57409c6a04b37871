"""The upload API on moto, at the edges the second AWS review found: a body without
Content-Type, a client that disconnects mid-body, who sent an upload, a short id looked up
without a Scan."""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inmet_local.workspace.template import Provisioned
from inmet_pipeline.uploads import UploadService
from tests.events import lambda_context, load_event
from tests.helpers import small_file
from upload_api import app as app_module
from upload_api.app import app, handler
from upload_api.app import logger as app_logger

pytestmark = [pytest.mark.functional]

FILE = small_file("B", days=2)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the Powertools logger writes (its handler holds the stream it was created with)."""
    buffer = io.StringIO()
    handler_ = app_logger.registered_handler
    assert isinstance(handler_, logging.StreamHandler)
    previous = handler_.setStream(buffer)
    yield buffer
    handler_.setStream(previous)


# -- 8. a body without Content-Type ---------------------------------------------------------


def test_a_body_without_content_type_is_refused_with_the_accepted_types(
    client: TestClient,
) -> None:
    """ "Binary media types for REST APIs in API Gateway": a body whose Content-Type matches no
    BinaryMediaTypes entry reaches Lambda as text (Latin-1 bytes may be altered). The app took a
    missing header for application/octet-stream and stored such a body; now it answers 415."""
    latin1 = FILE.data
    assert b"\xc7\xc3" in latin1  # Ç Ã in ISO-8859-1: what text decoding would alter
    response = client.post("/uploads", content=latin1)
    assert "content-type" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert "without Content-Type" in error["message"]
    for accepted in ("multipart/form-data", "text/csv", "application/octet-stream", "text/plain"):
        assert accepted in error["message"]
    # The same bytes with a declared type are accepted.
    ok = client.post("/uploads", content=latin1, headers={"Content-Type": "text/csv"})
    assert ok.status_code == 201, ok.text


# -- 9. a client that disconnects mid-body ---------------------------------------------------


def _post_then_disconnect(body_part: bytes) -> list[dict[str, Any]]:
    """Run the ASGI app on a POST whose client sends part of the body and goes away (what
    uvicorn passes on when the connection closes mid-body)."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body_part, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/uploads",
        "raw_path": b"/uploads",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"text/csv"), (b"content-length", b"100000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # pragma: no cover - nothing more comes
        raise AssertionError

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    # A loop of its own, left unset: asyncio.run would unset the thread's loop, which Mangum
    # (the Lambda handler of later tests) asks for.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(app(scope, receive, send))
    finally:
        loop.close()
    return sent


def test_a_client_that_disconnects_mid_body_is_not_a_server_error(
    aws: Provisioned, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client abort was answered 500 and logged as an unexpected error with UploadFailed
    counted (which the 5xx and failure alarms watch). Now: a 400-class answer, one INFO line, no
    failure metric."""
    failures: list[None] = []
    monkeypatch.setattr(app_module, "record_failure", lambda: failures.append(None))
    sent = _post_then_disconnect(FILE.data[:500])
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    assert 400 <= start["status"] < 500, start
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert json.loads(body)["error"]["code"] == "client_disconnected"
    assert failures == []
    entries = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert entries, "the disconnect was not logged"
    assert {e["level"] for e in entries} == {"INFO"}, entries
    assert any("disconnected" in e["message"] for e in entries)


# -- 4. who sent the version that won ---------------------------------------------------------


def _event(data: bytes, identity: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("upload_raw.json"))
    event["body"] = base64.b64encode(data).decode("ascii")
    event["headers"]["Content-Length"] = str(len(data))
    event["multiValueHeaders"]["Content-Length"] = [str(len(data))]
    event["requestContext"]["identity"] = identity
    return event


def _status_event(upload_id: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("upload_raw.json"))
    event.update(
        resource="/uploads/{upload_id}",
        path=f"/uploads/{upload_id}",
        httpMethod="GET",
        body=None,
        isBase64Encoded=False,
        pathParameters={"upload_id": upload_id},
    )
    return event


def test_the_uploader_is_stored_and_the_first_sender_stays(aws: Provisioned) -> None:
    """API Gateway's request context names the caller ("Variables for access logging for API
    Gateway": $context.identity.apiKeyId, $context.identity.userArn): the record keeps who sent
    the stored version, GET (and so `inmet status`) shows it, and a later sender of the same
    bytes does not replace it."""
    keyed = handler(_event(FILE.data, {"apiKeyId": "k1a2b3", "apiKey": "secret"}), lambda_context())
    assert keyed["statusCode"] == 201, keyed
    answer = json.loads(keyed["body"])
    assert answer["uploaded_by"] == "api-key:k1a2b3"
    assert "secret" not in keyed["body"]  # the key's id, never the key

    again = handler(
        _event(FILE.data, {"userArn": "arn:aws:iam::123456789012:user/other"}), lambda_context()
    )
    assert again["statusCode"] == 200
    assert json.loads(again["body"])["uploaded_by"] == "api-key:k1a2b3"

    status = handler(_status_event(answer["upload_id"]), lambda_context())
    assert status["statusCode"] == 200, status
    assert json.loads(status["body"])["uploaded_by"] == "api-key:k1a2b3"

    other = small_file("B", days=3).data
    signed = handler(
        _event(other, {"userArn": "arn:aws:sts::123456789012:assumed-role/uploader/s1"}),
        lambda_context(),
    )
    assert json.loads(signed["body"])["uploaded_by"] == (
        "iam:arn:aws:sts::123456789012:assumed-role/uploader/s1"
    )


def test_without_api_gateway_the_uploader_is_null(client: TestClient) -> None:
    response = client.post("/uploads", content=FILE.data, headers={"Content-Type": "text/csv"})
    assert response.status_code == 201
    assert response.json()["uploaded_by"] is None
    status = client.get(f"/uploads/{response.json()['upload_id']}")
    assert "uploaded_by" in status.json()


# -- 5. a short id is a Query, never a Scan ----------------------------------------------------


def test_a_short_id_is_found_by_a_query_of_the_index_not_a_scan(
    client: TestClient, service: UploadService
) -> None:
    """ "Scan" (Amazon DynamoDB Developer Guide): a filter applies after every item is read
    and paid for; the lookup of a short id now reads one partition of the id-prefix index."""
    upload_id = client.post(
        "/uploads", content=FILE.data, headers={"Content-Type": "text/csv"}
    ).json()["upload_id"]
    calls: list[str] = []
    table = service.statuses.table  # type: ignore[attr-defined]
    table.meta.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    for prefix in (upload_id[:4], upload_id[:12], upload_id[:63]):
        response = client.get(f"/uploads/{prefix}")
        assert response.status_code == 200, response.text
        assert response.json()["upload_id"] == upload_id
    assert "Scan" not in calls
    assert calls.count("Query") == 3
    other = ("1" if upload_id[0] == "0" else "0") + upload_id[1:8]
    assert client.get(f"/uploads/{other}").status_code == 404
