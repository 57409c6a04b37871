"""The statuses of an upload and the codes of its ``error``, stated once (docs/contracts.md §1.2).

Every module that writes, reads or compares a status uses these members; a ``StrEnum`` member
is the plain string on the wire (JSON, DynamoDB, the CLI's output), so the stored documents and
the API's answers are unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class UploadStatus(StrEnum):
    """Where an upload is (docs/contracts.md §1.2).

    ``UPLOADING`` is internal: the claim a request holds while it stores the bytes; the API
    answers 404 for it. ``CLEANED`` is allowed by the contract but never written on its own: the
    export records it and ``EXPORTED`` in one write (docs/contracts.md §1.2).
    """

    UPLOADING = "uploading"
    RECEIVED = "received"
    CLEANED = "cleaned"
    EXPORTED = "exported"
    FAILED = "failed"
    # Exported, then a later version of the same station-year (docs/contracts.md §3 rule 7)
    # replaced some or all of its hours: ``rows_clean`` counts the rows of it still in CLEAN,
    # ``superseded_by`` names the latest version.
    SUPERSEDED = "superseded"


# A status from which nothing moves without a new event (a re-upload or a re-run batch).
FINAL_STATUSES: Final = frozenset(
    {UploadStatus.EXPORTED, UploadStatus.FAILED, UploadStatus.SUPERSEDED}
)


class ErrorCode(StrEnum):
    """``error.code`` of a ``failed`` upload (docs/contracts.md §1.2, §4)."""

    SNOWFLAKE_LOAD_FAILED = "snowflake_load_failed"
    SNOWFLAKE_TASK_FAILED = "snowflake_task_failed"
    QUARANTINED = "quarantined"
    EXPORT_FAILED = "export_failed"
