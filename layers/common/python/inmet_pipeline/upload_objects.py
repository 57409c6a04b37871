"""What an accepted upload is named and writes, apart from the use case (uploads.py): its id,
its S3 keys, the S3 metadata text, the time stamps of its status document, and the check that
turns a validation report into the API's refusal.

The tools that stand in for the upload (tests, benchmarks, the local warehouse) use these
without the service; ``inmet_pipeline.uploads`` re-exports them, so both import paths work.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from inmet_pipeline.errors import UploadRejected
from inmet_pipeline.reader import ValidationReport, normalise_to_utf8, validate

UPLOAD_ID_RE: Final = re.compile(r"[0-9a-f]{64}")
# A shorter id is a prefix, accepted as git accepts short commit ids: at least 4 characters
# (git's minimum), unique among the uploads.
MIN_ID_PREFIX: Final = 4
ID_PREFIX_RE: Final = re.compile(rf"[0-9a-f]{{{MIN_ID_PREFIX},63}}")
# S3 user metadata is limited to 2 KB in all (keys and values, US-ASCII); the file name is the
# only free text in it, so it is percent-encoded and cut to this many characters there (the
# status document keeps it whole).
METADATA_FILENAME_CHARS: Final = 1024
# An IAM ARN is at most 2,048 characters; an API key id about 10.
MAX_UPLOADER_CHARS: Final = 2048


def metadata_text(text: str, limit: int = METADATA_FILENAME_CHARS) -> str:
    """``text`` as an S3 metadata value: percent-encoded to US-ASCII, at most ``limit``
    characters, never cut inside an escape."""
    quoted = quote(text, safe=" ()-_.,")
    if len(quoted) <= limit:
        return quoted
    cut = quoted[:limit]
    escape = cut.rfind("%", max(0, limit - 3))
    return cut[:escape] if escape != -1 else cut


def uploader_of(request_context: Mapping[str, Any] | None) -> str | None:
    """Who sent a request, from API Gateway's ``requestContext`` (REST API, Lambda proxy
    integration): ``iam:<userArn>`` for a SigV4-signed call (ApiAuth=Iam), else
    ``api-key:<apiKeyId>`` (the usage plan's key; its id, never the key itself), else None.
    The fields are API Gateway's $context.identity.userArn (the authenticated IAM principal)
    and $context.identity.apiKeyId (the id of the request's API key): "Variables for access
    logging for API Gateway" (API Gateway Developer Guide,
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html);
    the proxy integration passes them in ``requestContext.identity``."""
    identity = (request_context or {}).get("identity") or {}
    if not isinstance(identity, Mapping):
        return None
    user_arn = identity.get("userArn")
    if isinstance(user_arn, str) and user_arn:
        return f"iam:{user_arn[:MAX_UPLOADER_CHARS]}"
    key_id = identity.get("apiKeyId")
    if isinstance(key_id, str) and key_id:
        return f"api-key:{key_id[:MAX_UPLOADER_CHARS]}"
    return None


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# The upload sequence: the time the upload service accepted a file, UTC, to the microsecond,
# fixed width so that the text sorts as the time does (20261206T055300123456Z). It starts the
# raw/ object's name, `<sequence>-<upload_id>.csv`, and is the order of versions everywhere: a
# station-year's version accepted last wins (docs/contracts.md §3 rule 7). The pipe reads it
# from METADATA$FILENAME (snowflake_sql/modules/versions.sql).
SEQUENCE_FORMAT: Final = "%Y%m%dT%H%M%S%fZ"
SEQUENCE_PATTERN: Final = "[0-9]{8}T[0-9]{12}Z"
RAW_NAME_RE: Final = re.compile(
    rf"(?P<sequence>{SEQUENCE_PATTERN})-(?P<upload_id>[0-9a-f]{{64}})\.csv"
)


class UploadSequence:
    """Strictly increasing upload sequences from the clock: a call in the same microsecond as
    the previous one (or after the clock stepped back) gets the previous value plus 1 µs, so no
    two uploads accepted by one process share a sequence. Two processes (Lambda containers)
    can only share one within the same microsecond of their NTP-synchronised clocks, where the
    order of acceptance is not observable either; the upload id then orders them."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            stamp = self._now().astimezone(UTC)
            if self._last is not None and stamp <= self._last:
                stamp = self._last + timedelta(microseconds=1)
            self._last = stamp
            return stamp.strftime(SEQUENCE_FORMAT)


# The process's sequence (the upload service's default; the tools that stand in for it too).
next_sequence: Final = UploadSequence()


def raw_key_for(prefix: str, station_id: str, year: int, upload_id: str, sequence: str) -> str:
    return f"{prefix.strip('/')}/station={station_id}/year={year:04d}/{sequence}-{upload_id}.csv"


def upload_id_for(data: bytes) -> str:
    """An upload's id: the sha256 of its bytes (identical bytes are one upload)."""
    return hashlib.sha256(data).hexdigest()


def landing_key_for(upload_id: str) -> str:
    return f"landing/{upload_id}"


def check_report(report: ValidationReport) -> None:
    """Raise ``UploadRejected`` for an invalid file: 415 for non-text, 422 otherwise."""
    if report.valid:
        return
    first = report.errors[0]
    details = [issue.to_dict() for issue in report.errors]
    if report.is_binary:
        raise UploadRejected(415, "unsupported_media_type", first.message, None, details)
    raise UploadRejected(422, first.code, first.message, first.line, details)


def raw_object(
    data: bytes, prefix: str = "raw/inmet", sequence: str | None = None
) -> tuple[str, bytes]:
    """The raw/ object an accepted upload of ``data`` writes: its key and its UTF-8 body. For
    the tools that stand in for the upload (tests, benchmarks); each call is a new acceptance
    (the next sequence) unless ``sequence`` is given. A file the upload would reject raises
    ``UploadRejected``, with the API's code and message."""
    report = validate(data)
    check_report(report)
    assert report.station is not None
    assert report.encoding is not None
    assert report.year is not None
    key = raw_key_for(
        prefix,
        report.station.station_id,
        report.year,
        upload_id_for(data),
        sequence or next_sequence(),
    )
    return key, normalise_to_utf8(data, report.encoding)
