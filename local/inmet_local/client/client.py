"""The upload client behind `inmet upload` and `inmet status`: concurrent, retrying, bounded.

Files are sent one per request as the raw body (text/csv + X-Filename): the smallest request
API Gateway can carry. INMET's yearly zip is read member by member, so at most ``concurrency``
files are in memory at once. A file over the API's limit is refused here, before sending: in AWS
it would not reach the app's 413 but fail at the gateway (inmet_pipeline.limits). Requests carry
the x-api-key, or a SigV4 signature (``auth``, inmet_local.client.signing) for a stack with
ApiAuth=Iam.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import httpx

from inmet_local.workspace.sources import InputFile
from inmet_pipeline.limits import MAX_UPLOAD_BYTES, TOO_LARGE_CODE, too_large_message

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
# API Gateway's own answer when it could not invoke the function, a throttled one included (a
# new account's low Lambda concurrency): 500 with this body ("How do I troubleshoot 'Internal
# server error' from API Gateway REST APIs integrated with Lambda?", AWS re:Post Knowledge
# Center, https://repost.aws/knowledge-center/api-gateway-internal-server-error: when the
# backend is throttled, retry with exponential backoff). It is retried; the app's own 500
# (a bug: {"error": {"code": "internal_error", …}}) is not. Retrying an upload is safe: the
# same bytes are the same upload.
GATEWAY_INTERNAL_ERROR: Final = {"message": "Internal server error"}
GATEWAY_500_MESSAGE: Final = (
    "API Gateway answered 500 Internal server error: the upload function could not be run "
    "(often a throttled function: docs/aws-security.md, account concurrency)"
)
DEFAULT_API_URL: Final = "http://127.0.0.1:8000"


class Outcome(StrEnum):
    """What became of one request of the client: not an upload's status (that is
    inmet_pipeline.status.UploadStatus, whose ``failed`` is the pipeline's, not the request's)."""

    ACCEPTED = "accepted"  # 201
    DUPLICATE = "duplicate"  # 200: the identical bytes were uploaded before
    REJECTED = "rejected"  # 4xx, or refused here before sending
    FAILED = "failed"  # no answer, or still 429/5xx after the last attempt


@dataclass(slots=True)
class UploadOutcome:
    source: str
    outcome: str  # an Outcome (plain strings compare equal to its members)
    status_code: int | None = None
    upload_id: str | None = None
    station_id: str | None = None
    rows: int | None = None
    code: str | None = None
    message: str | None = None
    line: int | None = None
    attempts: int = 0
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE)


class ApiClient:
    def __init__(
        self,
        api_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        auth: httpx.Auth | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        headers = {"x-api-key": api_key} if api_key else {}
        self.http = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            transport=transport,
            auth=auth,
        )
        self.max_upload_bytes = max_upload_bytes
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("retry-after", "")
            if retry_after.isdigit():
                return min(float(retry_after), 30.0)
        # Exponential backoff with full jitter.
        return random.uniform(0, self.backoff_base * 2 ** (attempt - 1))  # noqa: S311

    def upload(self, item: InputFile) -> UploadOutcome:
        try:
            data = item.read()
        except OSError as exc:
            return UploadOutcome(item.display, Outcome.FAILED, message=f"cannot read: {exc}")
        if len(data) > self.max_upload_bytes:
            return UploadOutcome(
                item.display,
                Outcome.REJECTED,
                code=TOO_LARGE_CODE,
                message=too_large_message(len(data), self.max_upload_bytes),
            )
        result = UploadOutcome(item.display, Outcome.FAILED)
        for attempt in range(1, self.max_attempts + 1):
            result.attempts = attempt
            response: httpx.Response | None = None
            try:
                response = self.http.post(
                    "/uploads",
                    content=data,
                    headers={
                        "Content-Type": "text/csv",
                        "X-Filename": item.name.encode("utf-8").decode("latin-1"),
                    },
                )
            except httpx.TransportError as exc:
                result.message = f"connection error: {exc}"
            else:
                if not _retryable(response):
                    return _outcome(item.display, response, attempt)
                result.status_code = response.status_code
                result.message = (
                    GATEWAY_500_MESSAGE
                    if response.status_code == 500
                    else _error_of(response).get("message", response.text[:200])
                )
            if attempt < self.max_attempts:
                time.sleep(self._delay(attempt, response))
        return result

    def status(self, upload_id: str) -> httpx.Response:
        return self.http.get(f"/uploads/{upload_id}")

    def health(self) -> httpx.Response:
        return self.http.get("/health")


def _retryable(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    if response.status_code != 500:
        return False
    try:
        return bool(response.json() == GATEWAY_INTERNAL_ERROR)
    except ValueError:
        return False


def _error_of(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


def _outcome(source: str, response: httpx.Response, attempts: int) -> UploadOutcome:
    if response.status_code in (200, 201):
        body = response.json()
        return UploadOutcome(
            source,
            Outcome.ACCEPTED if response.status_code == 201 else Outcome.DUPLICATE,
            response.status_code,
            body.get("upload_id"),
            body.get("station_id"),
            body.get("rows"),
            attempts=attempts,
            body=body,
        )
    error = _error_of(response)
    return UploadOutcome(
        source,
        Outcome.REJECTED,
        response.status_code,
        code=error.get("code", f"http_{response.status_code}"),
        message=error.get("message", response.text[:200]),
        line=error.get("line"),
        attempts=attempts,
    )


def upload_many(
    client: ApiClient,
    files: Iterable[InputFile],
    concurrency: int = 8,
    on_done: Callable[[UploadOutcome], None] | None = None,
) -> list[UploadOutcome]:
    """Upload with at most ``concurrency`` requests (and files in memory) at a time."""
    results: list[UploadOutcome] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="upload") as pool:
        pending: set[Future[UploadOutcome]] = set()

        def collect(done: Iterable[Future[UploadOutcome]]) -> None:
            for future in done:
                outcome = future.result()
                with lock:
                    results.append(outcome)
                if on_done:
                    on_done(outcome)

        for item in files:
            if len(pending) >= concurrency:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
            pending.add(pool.submit(client.upload, item))
        done, _ = wait(pending)
        collect(done)
    return results
