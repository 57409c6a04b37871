"""The upload use case: validate → normalise to UTF-8 → store landing/ and raw/ → record status.

docs/contracts.md §1-§2. Why one module: the order of the writes below is what keeps data safe,
and one class states it from the claim to the record; split, no single file would show it.
The order:

1. Nothing is written for a rejected file.
2. The upload claims its id (sha256 of the bytes) with a conditional write: of N concurrent
   uploads of the same bytes one writes, the others wait for it and answer 200.
3. ``landing/<id>`` (the bytes as sent), then ``raw/…/<id>.csv`` (UTF-8) — last, because the
   pipe loads whatever appears under raw/. A failure before it leaves nothing to load.
4. The record becomes ``received``. If S3 failed, the claim is dropped so a retry starts afresh
   and no record claims success.
5. Identical bytes uploaded again answer 200 with the existing document, except after a
   ``failed`` one: that re-upload starts over (the record becomes the new claim, steps 3-4 run
   again, 201). This is the one way to retry a failed upload, the same with curl, `inmet
   upload` and in AWS; no separate retry command is needed.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aws_lambda_powertools import Logger

from inmet_pipeline.budget import PEER_WAIT_S, UPLOAD_FUNCTION_TIMEOUT_S
from inmet_pipeline.document import STATUS_FIELDS, STEP_TIMES, UPLOAD_FIELDS, StatusDocument
from inmet_pipeline.errors import DependencyUnavailable, UploadRejected
from inmet_pipeline.limits import MAX_UPLOAD_BYTES, TOO_LARGE_CODE, too_large_message
from inmet_pipeline.logs import append_request_keys, request_keys
from inmet_pipeline.ports import ObjectStore, StatusStore
from inmet_pipeline.reader import ValidationReport, normalise_to_utf8, validate
from inmet_pipeline.status import ErrorCode, UploadStatus

# Re-exported: these lived here before upload_objects.py, and tests, benchmarks and the local
# warehouse import them from here.
from inmet_pipeline.upload_objects import (
    ID_PREFIX_RE,
    METADATA_FILENAME_CHARS,
    MIN_ID_PREFIX,
    UPLOAD_ID_RE,
    check_report,
    landing_key_for,
    metadata_text,
    next_sequence,
    raw_key_for,
    raw_object,
    upload_id_for,
    utc_now_iso,
)

__all__ = [
    "ID_PREFIX_RE",
    "MAX_CANDIDATES",
    "MAX_FILENAME_CHARS",
    "METADATA_FILENAME_CHARS",
    "MIN_ID_PREFIX",
    "STALE_CLAIM_MS",
    "STATUS_FIELDS",
    "UPLOAD_FIELDS",
    "UPLOAD_ID_RE",
    "AmbiguousUploadId",
    "UploadResult",
    "UploadService",
    "check_report",
    "landing_key_for",
    "next_sequence",
    "not_found_message",
    "raw_key_for",
    "raw_object",
    "status_document",
    "upload_answer",
    "upload_id_for",
    "utc_now_iso",
]

# Same service name as the handlers' Logger: one shared handler, so keys appended here
# (upload_id, station_id) appear on every line of the request.
logger = Logger()

MAX_CANDIDATES: Final = 10
# UploadFunction's timeout (budget.UPLOAD_FUNCTION_TIMEOUT_S, template.yaml's value; a test
# checks they agree). Lambda stops a request at this age, so a claim older than this is from a
# request that died: take it over. The claim tokens keep a late write of a request that outlived
# it (under uvicorn) harmless: the same bytes, and a completing write that overwrites nothing.
# One second more than the timeout: clocks of two Lambda containers may differ a little.
STALE_CLAIM_MS: Final = (UPLOAD_FUNCTION_TIMEOUT_S + 1) * 1000
# A longer name is refused: no file system makes one (255 bytes on most), and it would have to
# be stored in every status document.
MAX_FILENAME_CHARS: Final = 1024
# The ``dependency`` of the 503 answered while an identical upload is still being stored: not
# a failure of S3 or DynamoDB, so the API does not count it as one (upload_api.app).
IDENTICAL_UPLOAD_IN_FLIGHT: Final = "upload"


class AmbiguousUploadId(LookupError):  # noqa: N818 - an answer, not a malfunction
    """A short id that more than one upload starts with; ``candidates`` lists them."""

    def __init__(self, prefix: str, candidates: list[dict[str, Any]]) -> None:
        more = "at least " if len(candidates) > MAX_CANDIDATES else ""
        super().__init__(
            f"{more}{min(len(candidates), MAX_CANDIDATES)} uploads start with {prefix!r}; "
            "give more characters of the id."
        )
        self.prefix = prefix
        self.candidates = candidates[:MAX_CANDIDATES]


def not_found_message(upload_id: str) -> str:
    """What a lookup that found nothing answers: an id of hex digits shorter than a prefix may
    be (``MIN_ID_PREFIX``) is never looked up, and the answer says so rather than suggesting
    that no upload starts with it."""
    shown = repr(upload_id[:80])
    if 0 < len(upload_id) < MIN_ID_PREFIX and all(
        c in "0123456789abcdef" for c in upload_id.lower()
    ):
        return (
            f"No upload with id {shown}: a short id needs at least {MIN_ID_PREFIX} characters "
            "(the start of the upload_id the upload answered); give more of it."
        )
    return f"No upload with id {shown}."


def status_document(record: Mapping[str, Any]) -> dict[str, Any]:
    """The user-facing document: every contract field present, internal fields dropped."""
    doc = {name: record.get(name) for name in STATUS_FIELDS}
    doc["export_keys"] = list(record.get("export_keys") or [])
    doc["warnings"] = list(record.get("warnings") or [])
    return doc


def upload_answer(record: Mapping[str, Any]) -> dict[str, Any]:
    doc = status_document(record)
    return {name: doc[name] for name in UPLOAD_FIELDS}


@dataclass(frozen=True, slots=True)
class UploadResult:
    created: bool  # False: the identical bytes were uploaded before (HTTP 200, not 201)
    document: dict[str, Any]
    report: ValidationReport | None = None


class UploadService:
    def __init__(
        self,
        objects: ObjectStore,
        statuses: StatusStore,
        *,
        raw_prefix: str = "raw/inmet",
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        sleep: Callable[[float], None] = time.sleep,
        peer_wait_s: float = PEER_WAIT_S,
        sequence: Callable[[], str] = next_sequence,
    ) -> None:
        self.objects = objects
        self.statuses = statuses
        self.raw_prefix = raw_prefix
        self.max_upload_bytes = max_upload_bytes
        self._clock_ms = clock_ms
        self._sleep = sleep
        self.peer_wait_s = peer_wait_s
        self._sequence = sequence

    # -- queries ------------------------------------------------------------------------------
    def get(self, upload_id: str) -> dict[str, Any] | None:
        """The status document, or None for an unknown id (or one still being written).

        ``upload_id`` may be a unique prefix of at least 4 hex characters (as git accepts
        short ids); a prefix several uploads share raises ``AmbiguousUploadId``.
        """
        upload_id = upload_id.lower()
        if ID_PREFIX_RE.fullmatch(upload_id):
            matches = [
                item
                for item in self.statuses.with_prefix(upload_id, MAX_CANDIDATES + 1)
                if item.get("status") != UploadStatus.UPLOADING
            ]
            if len(matches) > 1:
                raise AmbiguousUploadId(upload_id, matches)
            if not matches:
                return None
            upload_id = str(matches[0]["upload_id"])
        if not UPLOAD_ID_RE.fullmatch(upload_id):
            return None
        record = self.statuses.get(upload_id)
        if record is None or record.get("status") == UploadStatus.UPLOADING:
            return None
        return status_document(record)

    def too_large_error(
        self, size: int | None = None, *, multipart: bool = False
    ) -> UploadRejected:
        """413 for a file over the limit (limits.too_large_message says what was measured)."""
        return UploadRejected(
            413,
            TOO_LARGE_CODE,
            too_large_message(size, self.max_upload_bytes, multipart=multipart),
        )

    # -- the use case -------------------------------------------------------------------------
    def accept(
        self, data: bytes, filename: str | None = None, uploaded_by: str | None = None
    ) -> UploadResult:
        """``uploaded_by``: the caller as API Gateway identified it (``uploader_of``), stored
        on the record of the version this request writes."""
        with request_keys():
            return self._accept(data, filename, uploaded_by)

    def _accept(self, data: bytes, filename: str | None, uploaded_by: str | None) -> UploadResult:
        if len(data) > self.max_upload_bytes:
            raise self.too_large_error(len(data))
        if filename is not None and len(filename) > MAX_FILENAME_CHARS:
            raise UploadRejected(
                422,
                "filename_too_long",
                f"The file name has {len(filename):,} characters; at most "
                f"{MAX_FILENAME_CHARS:,} are accepted (INMET's names have about 60).",
            )
        report = validate(data, filename)
        check_report(report)
        # A valid report always has these; the asserts tell the type checker.
        assert report.station is not None
        assert report.encoding is not None
        assert report.year is not None
        upload_id = upload_id_for(data)
        append_request_keys(upload_id=upload_id, station_id=report.station.station_id)

        # The upload sequence (upload_objects.UploadSequence): the order in which this service
        # accepted versions, carried in the raw/ key; the version accepted last wins.
        raw_key = raw_key_for(
            self.raw_prefix, report.station.station_id, report.year, upload_id, self._sequence()
        )
        landing_key = landing_key_for(upload_id)
        document = self._document(
            upload_id, report, filename, len(data), raw_key, landing_key, uploaded_by
        )
        token = uuid.uuid4().hex
        # The claim carries the whole document (still in flight): whatever happens after raw/
        # is written — a failed completing write, a timeout — the export finds a complete
        # record, and a re-upload a complete answer.
        existing, taken_over, earlier_key = self._claim_or_wait(upload_id, token, document)
        if existing is not None:
            logger.info("duplicate upload: identical bytes were uploaded before")
            known = {k: v for k, v in existing.items() if v is not None}
            return UploadResult(False, upload_answer({**document, **known}), report)
        if earlier_key:
            # The same acceptance carried on (a dead request's claim, a failed upload started
            # over): its raw/ key, and so its place in the order of versions, stays.
            raw_key = earlier_key
            document["raw_key"] = raw_key

        if taken_over and self._exists(raw_key):
            logger.info("the dead request had stored the file; completing its record")
        else:
            self._store(upload_id, token, data, report, filename, raw_key, landing_key)
        self.statuses.complete(upload_id, token, document)
        logger.info("upload received", extra={"raw_key": raw_key, "rows": report.rows})
        return UploadResult(True, upload_answer(document), report)

    def _exists(self, key: str) -> bool:
        try:
            return self.objects.exists(key)
        except DependencyUnavailable:
            return False  # write it again: the same bytes under the same key

    def _store(
        self,
        upload_id: str,
        token: str,
        data: bytes,
        report: ValidationReport,
        filename: str | None,
        raw_key: str,
        landing_key: str,
    ) -> None:
        """landing/ then raw/; on failure leave the claim in a state that says what happened."""
        assert report.station is not None
        assert report.encoding is not None
        metadata = {
            "upload-id": upload_id,
            "station-id": report.station.station_id,
            "original-filename": metadata_text(filename or ""),
            "original-encoding": report.encoding,
        }
        try:
            self.objects.put(landing_key, data, "application/octet-stream", metadata)
        except DependencyUnavailable:
            # Nothing the pipe reads was written (it reads raw/ only): a retry starts afresh.
            logger.exception("storing landing/ failed; dropping the claim")
            self._release(upload_id, token)
            raise
        normalised = normalise_to_utf8(data, report.encoding)
        try:
            self.objects.put(raw_key, normalised, "text/csv; charset=utf-8", metadata)
        except DependencyUnavailable as exc:
            if not exc.maybe_done:
                logger.exception("S3 refused raw/; dropping the claim")
                self._release(upload_id, token)
                raise
            # The answer was lost: the object may be there, and then the pipe loads it. Look.
            try:
                written = self.objects.exists(raw_key)
            except DependencyUnavailable:
                written = None
            if written:
                logger.warning("the raw/ write's answer was lost but the object is there")
                return
            # Unknown or absent (a write can still land late): keep the claim and its
            # document — the export will find them if the object appears — but let the next
            # request take it over at once instead of after the timeout.
            logger.exception("the raw/ write may or may not have happened; keeping the claim")
            with contextlib.suppress(DependencyUnavailable):
                self.statuses.take_over(upload_id, token, token, 0)
            raise

    def _release(self, upload_id: str, token: str) -> None:
        try:
            self.statuses.release(upload_id, token)
        except DependencyUnavailable:
            logger.exception("could not drop the claim; it expires after %s ms", STALE_CLAIM_MS)

    def _claim_or_wait(
        self, upload_id: str, token: str, document: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, bool, str | None]:
        """Claim the id (→ None, whether a dead request's claim was taken over, and the raw/
        key of the record taken over or restarted) or return the record of the earlier
        identical upload."""
        deadline = time.monotonic() + self.peer_wait_s
        pause = 0.02
        while True:
            if self.statuses.claim(upload_id, token, self._clock_ms(), document):
                return None, False, None
            record = self.statuses.get(upload_id)
            earlier_key = str((record or {}).get("raw_key") or "") or None
            error = (record or {}).get("error") or {}
            if record is not None and record.get("status") == UploadStatus.SUPERSEDED:
                # Sent again after a later version replaced it: the user wants this version
                # back. It starts over as a new acceptance (a new upload sequence, so a new
                # raw/ name the pipe loads), and so becomes the version sent last.
                if self.statuses.restart_failed(upload_id, token, self._clock_ms()):
                    logger.info("re-upload of a superseded upload: it is the latest again")
                    return None, False, None
            elif (
                record is not None
                and record.get("status") == UploadStatus.FAILED
                and error.get("code") != ErrorCode.QUARANTINED
            ):
                # The documented way to retry: upload the same bytes again. The failed record
                # becomes a claim and the upload starts over (objects written again, status
                # `received`, 201); the new raw/ event makes the pipe try the file again
                # (Snowpipe skips only files it loaded; a failed file was not). Not for a file
                # the warehouse set aside (issue 15): the pipe did load it, would skip it, and
                # the same bytes would be set aside again; the answer keeps the reason.
                if self.statuses.restart_failed(upload_id, token, self._clock_ms()):
                    logger.info("re-upload of a failed upload: starting it over")
                    return None, False, earlier_key
                # else another request restarted it meanwhile: wait for that one, below.
            elif record is not None and record.get("status") != UploadStatus.UPLOADING:
                return record, False, None
            elif record is not None:
                age = self._clock_ms() - int(record.get("claimed_at_ms") or 0)
                if age > STALE_CLAIM_MS and self.statuses.take_over(
                    upload_id, str(record.get("claim_token")), token, self._clock_ms()
                ):
                    logger.warning("took over a stale claim", extra={"claim_age_ms": age})
                    return None, True, earlier_key
            # else: the other request gave up between our two calls; claim again.
            if time.monotonic() > deadline:
                raise DependencyUnavailable(
                    IDENTICAL_UPLOAD_IN_FLIGHT,
                    "an identical upload is still being stored; retry shortly",
                    2,
                )
            self._sleep(pause)
            pause = min(pause * 2, 0.25)

    @staticmethod
    def _document(
        upload_id: str,
        report: ValidationReport,
        filename: str | None,
        size: int,
        raw_key: str,
        landing_key: str,
        uploaded_by: str | None,
    ) -> dict[str, Any]:
        assert report.station is not None
        assert report.period_start is not None
        assert report.period_end is not None
        document = StatusDocument(
            upload_id=upload_id,
            status=UploadStatus.RECEIVED,
            station_id=report.station.station_id,
            station_name=report.station.station_name,
            year=report.year,
            rows=report.rows,
            rows_clean=None,
            period_start=report.period_start.date().isoformat(),
            period_end=report.period_end.date().isoformat(),
            layout=report.layout,
            encoding=report.encoding,
            filename=filename,
            size_bytes=size,
            raw_key=raw_key,
            landing_key=landing_key,
            export_keys=[],
            warnings=[f"{w.code}: {w.message}" for w in report.warnings],
            error=None,
            received_at=utc_now_iso(),
            uploaded_by=uploaded_by,
            cleaned_at=None,
            exported_at=None,
            failed_at=None,
        )
        # cleaned_at / exported_at / failed_at are absent until reached (the status document
        # shows them as null): the export sets each once, with if_not_exists.
        return document.model_dump(mode="json", exclude=set(STEP_TIMES))
