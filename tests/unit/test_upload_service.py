"""The upload use case's claim protocol, with in-memory fakes (no AWS at all)."""

from __future__ import annotations

import pytest

from inmet_pipeline.errors import DependencyUnavailable, UploadRejected
from inmet_pipeline.status import ErrorCode, UploadStatus
from inmet_pipeline.upload_objects import uploader_of
from inmet_pipeline.uploads import (
    MIN_ID_PREFIX,
    STALE_CLAIM_MS,
    AmbiguousUploadId,
    UploadService,
    not_found_message,
    upload_id_for,
)
from tests.fakes import MemoryObjects, MemoryStatuses
from tests.helpers import small_file

pytestmark = [pytest.mark.unit]

DATA = small_file("B").data


def service(now: list[int] | None = None) -> tuple[UploadService, MemoryObjects, MemoryStatuses]:
    objects, statuses = MemoryObjects(), MemoryStatuses()
    clock = now or [1_000_000]
    svc = UploadService(objects, statuses, clock_ms=lambda: clock[0], sleep=lambda s: None)
    return svc, objects, statuses


def test_a_stale_claim_from_a_dead_request_is_taken_over() -> None:
    now = [1_000_000]
    svc, objects, statuses = service(now)
    import hashlib

    upload_id = hashlib.sha256(DATA).hexdigest()
    statuses.claim(upload_id, "dead-request", now[0])
    now[0] += STALE_CLAIM_MS + 1
    result = svc.accept(DATA, "x.CSV")
    assert result.created
    assert statuses.items[upload_id]["status"] == "received"
    assert len(objects.objects) == 2


def test_a_live_claim_is_waited_for_then_gives_503() -> None:
    import hashlib

    svc, _, statuses = service()
    svc.peer_wait_s = 0.0
    upload_id = hashlib.sha256(DATA).hexdigest()
    statuses.claim(upload_id, "busy", 1_000_000)
    with pytest.raises(DependencyUnavailable) as info:
        svc.accept(DATA)
    assert info.value.retry_after == 2


def test_in_flight_upload_is_not_shown() -> None:
    svc, _, statuses = service()
    statuses.claim("a" * 64, "t", 1)
    assert svc.get("a" * 64) is None


def test_too_large_is_checked_before_anything_else() -> None:
    svc, objects, statuses = service()
    svc.max_upload_bytes = 100
    with pytest.raises(UploadRejected) as info:
        svc.accept(DATA)
    assert info.value.status == 413
    assert objects.objects == {}
    assert statuses.items == {}


def test_a_unique_prefix_finds_the_upload_as_git_does() -> None:
    svc, _, _ = service()
    doc = svc.accept(DATA, "x.CSV").document
    upload_id = doc["upload_id"]
    assert (svc.get(upload_id[:16]) or {}).get("upload_id") == upload_id  # as `inmet upload`
    assert (svc.get(upload_id[:4].upper()) or {}).get("upload_id") == upload_id  # any case
    assert svc.get(upload_id[:3]) is None  # shorter than git's minimum: not a prefix
    assert svc.get("f" * 8 if not upload_id.startswith("f") else "0" * 8) is None


def test_an_ambiguous_prefix_lists_the_candidates() -> None:
    svc, _, statuses = service()
    for i in range(3):
        statuses.items[f"abcd{i}" + "0" * 59] = {
            "upload_id": f"abcd{i}" + "0" * 59,
            "status": "received",
            "filename": f"F{i}.CSV",
        }
    statuses.items["abcd9" + "0" * 59] = {
        "upload_id": "abcd9" + "0" * 59,
        "status": UploadStatus.UPLOADING,
    }
    with pytest.raises(AmbiguousUploadId) as info:
        svc.get("abcd")
    assert "3 uploads start with 'abcd'" in str(info.value)
    assert [c["filename"] for c in info.value.candidates] == ["F0.CSV", "F1.CSV", "F2.CSV"]
    assert (svc.get("abcd1") or {}).get("filename") == "F1.CSV"  # unique once longer


def test_re_uploading_a_failed_upload_starts_it_over() -> None:
    svc, objects, statuses = service()
    first = svc.accept(DATA, "x.CSV")
    upload_id = upload_id_for(DATA)
    assert svc.accept(DATA, "x.CSV").created is False  # identical bytes: 200, nothing new
    statuses.update(
        upload_id,
        {
            "status": UploadStatus.FAILED,
            "error": {"code": ErrorCode.SNOWFLAKE_LOAD_FAILED, "message": "x"},
        },
        set_if_missing={"failed_at": "2026-01-01T00:00:00Z"},
    )
    objects.objects.clear()
    again = svc.accept(DATA, "x.CSV")
    assert again.created is True  # 201: started over
    assert again.document["status"] == "received"
    record = statuses.items[upload_id]
    assert record["status"] == "received"
    assert record["error"] is None
    assert "failed_at" not in record
    assert set(objects.objects) == {first.document["landing_key"], first.document["raw_key"]}
    assert svc.accept(DATA, "x.CSV").created is False  # and it is an ordinary upload again


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"identity": {"apiKeyId": "k1", "apiKey": "the-secret"}}, "api-key:k1"),
        (
            {"identity": {"userArn": "arn:aws:iam::1:user/u", "apiKeyId": "k1"}},
            "iam:arn:aws:iam::1:user/u",
        ),
        ({"identity": {"userArn": "", "apiKeyId": ""}}, None),
        ({"identity": {"apiKeyId": None, "sourceIp": "203.0.113.1"}}, None),
        ({"identity": "not a mapping"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_the_uploader_is_the_authenticated_caller_from_the_request_context(
    context: dict[str, object] | None, expected: str | None
) -> None:
    """API Gateway's $context.identity.userArn (a SigV4 caller) before apiKeyId (the key's id,
    never the key), else nothing."""
    assert uploader_of(context) == expected


@pytest.mark.parametrize("short", ["1a", "abc", "F"])
def test_an_id_too_short_to_be_a_prefix_says_how_long_one_must_be(short: str) -> None:
    """``inmet status 1a`` answered "No upload with id '1a'" although '1a' may well start a
    real id: an id shorter than a prefix may be is never looked up, and the answer says so."""
    svc, _, statuses = service()
    statuses.items["1abc" + "0" * 60] = {"upload_id": "1abc" + "0" * 60, "status": "received"}
    assert svc.get(short) is None
    message = not_found_message(short)
    assert f"at least {MIN_ID_PREFIX} characters" in message
    assert repr(short) in message


def test_a_long_unknown_id_is_simply_not_found() -> None:
    assert not_found_message("f" * 64) == f"No upload with id {'f' * 64!r}."
    assert "at least" not in not_found_message("zz")  # not hex: not a prefix at all
