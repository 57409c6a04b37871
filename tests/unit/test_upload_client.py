"""The upload client's retries and concurrency, against a fake transport (no sockets)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from inmet_local.client.client import ApiClient, upload_many
from inmet_local.workspace.sources import InputFile

pytestmark = [pytest.mark.unit]


def item(name: str = "x.CSV", data: bytes = b"data") -> InputFile:
    return InputFile(name=name, display=f"/tmp/{name}", size=len(data), read=lambda: data)


def client_for(handler: httpx.MockTransport) -> ApiClient:
    return ApiClient("http://api.test", "key", transport=handler, backoff_base=0.001)


def test_retries_503_then_succeeds() -> None:
    calls: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(
                503,
                headers={"Retry-After": "0"},
                json={"error": {"code": "service_unavailable", "message": "x"}},
            )
        return httpx.Response(201, json={"upload_id": "a" * 64, "station_id": "A001", "rows": 10})

    result = client_for(httpx.MockTransport(respond)).upload(item())
    assert result.outcome == "accepted"
    assert result.attempts == 3
    assert calls[0].headers["x-api-key"] == "key"
    assert calls[0].headers["content-type"] == "text/csv"
    assert calls[0].headers["x-filename"] == "x.CSV"


def test_429_honours_retry_after() -> None:
    times: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        if len(times) == 1:
            return httpx.Response(429, headers={"Retry-After": "1"}, json={})
        return httpx.Response(200, json={"upload_id": "b" * 64})

    result = client_for(httpx.MockTransport(respond)).upload(item())
    assert result.outcome == "duplicate"
    assert times[1] - times[0] >= 0.9


def test_rejection_is_not_retried() -> None:
    calls = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            422, json={"error": {"code": "bad_hour", "message": "Line 15 …", "line": 15}}
        )

    result = client_for(httpx.MockTransport(respond)).upload(item())
    assert (result.outcome, result.code, result.line, calls) == ("rejected", "bad_hour", 15, 1)


def test_connection_errors_give_up_after_max_attempts() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = ApiClient(
        "http://api.test",
        transport=httpx.MockTransport(respond),
        max_attempts=3,
        backoff_base=0.001,
    )
    result = client.upload(item())
    assert (result.outcome, result.attempts) == ("failed", 3)
    assert "connection error" in (result.message or "")


def test_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        return httpx.Response(201, json={"upload_id": "c" * 64})

    files = [item(f"f{i}.CSV") for i in range(40)]
    results = upload_many(client_for(httpx.MockTransport(respond)), files, concurrency=4)
    assert len(results) == 40
    assert all(r.outcome == "accepted" for r in results)
    assert 2 <= peak <= 4


def test_unreadable_file_is_failed(tmp_path: Path) -> None:
    missing = tmp_path / "gone.CSV"
    bad = InputFile("gone.CSV", str(missing), 0, missing.read_bytes)
    result = client_for(httpx.MockTransport(lambda r: httpx.Response(201))).upload(bad)
    assert result.outcome == "failed"
    assert "cannot read" in (result.message or "")


def test_the_gateways_own_500_is_retried_as_a_throttle() -> None:
    """A throttled Lambda (a new account's low concurrency) reaches the client as API Gateway's
    500 {"message": "Internal server error"} ("How do I troubleshoot 'Internal server error'
    from API Gateway REST APIs integrated with Lambda?", AWS re:Post Knowledge Center: retry
    with exponential backoff). The client retries it; before, the first 500 was final."""
    calls = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            return httpx.Response(500, json={"message": "Internal server error"})
        return httpx.Response(201, json={"upload_id": "c" * 64, "station_id": "A001", "rows": 1})

    result = client_for(httpx.MockTransport(respond)).upload(item())
    assert (result.outcome, result.attempts, calls) == ("accepted", 3, 3)


def test_a_gateway_500_that_never_clears_fails_after_the_last_attempt() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"message": "Internal server error"})

    client = ApiClient(
        "http://api.test", "key", transport=httpx.MockTransport(respond), max_attempts=3
    )
    client.backoff_base = 0.001
    result = client.upload(item())
    assert (result.outcome, result.attempts, result.status_code) == ("failed", 3, 500)
    assert result.message is not None
    assert "Internal server error" in result.message
    assert "throttled" in result.message


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "internal_error", "message": "Unexpected server error"}},
        {"message": "Internal server error", "more": 1},
        "Internal server error",
    ],
)
def test_the_apps_own_500_is_final(body: object) -> None:
    """The app's 500 (a bug, told apart by its {"error": …} body) is not retried."""
    calls = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500, json=body)

    result = client_for(httpx.MockTransport(respond)).upload(item())
    assert (result.outcome, result.status_code, calls) == ("rejected", 500, 1)
