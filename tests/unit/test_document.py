"""The status document is one model (inmet_pipeline.document): the POST answer is a projection
of it, with the fields and nullability docs/contracts.md §1.1 and §1.2 state."""

from __future__ import annotations

from typing import Any

import pytest

from inmet_pipeline.document import STATUS_FIELDS, UPLOAD_FIELDS, StatusDocument, UploadAnswer
from inmet_pipeline.status import UploadStatus
from inmet_pipeline.uploads import UploadService, status_document, upload_answer
from tests.fakes import MemoryObjects, MemoryStatuses
from tests.helpers import small_file

pytestmark = [pytest.mark.unit]

# docs/contracts.md §1.1: the fields of the 201 answer.
ANSWER = {
    "upload_id", "status", "station_id", "station_name", "year", "period_start", "period_end",
    "rows", "layout", "encoding", "filename", "size_bytes", "raw_key", "landing_key",
    "warnings", "received_at", "uploaded_by",
}  # fmt: skip
# docs/contracts.md §1.2: the other fields of the status document.
STATUS_ONLY = {
    "rows_clean", "export_keys", "error", "superseded_by", "cleaned_at", "exported_at", "failed_at",
}  # fmt: skip


def test_the_answer_is_the_contracts_subset_of_the_document_in_its_order() -> None:
    assert set(UPLOAD_FIELDS) == ANSWER
    assert set(STATUS_FIELDS) == ANSWER | STATUS_ONLY
    assert list(UPLOAD_FIELDS) == [name for name in STATUS_FIELDS if name in ANSWER]


def test_the_answer_holds_null_only_where_an_upload_may_leave_it() -> None:
    schema = UploadAnswer.model_json_schema()
    nullable = {
        name
        for name, prop in schema["properties"].items()
        if {"type": "null"} in prop.get("anyOf", [])
    }
    assert nullable == {"filename", "received_at", "uploaded_by"}
    assert set(schema["required"]) == ANSWER
    # The shared definitions keep their descriptions in both models.
    for name in ("upload_id", "period_start", "layout"):
        assert schema["properties"][name]["description"]
        assert (
            StatusDocument.model_fields[name].description
            == UploadAnswer.model_fields[name].description
        )


def test_the_record_an_upload_writes_is_the_model_and_its_answer_the_projection() -> None:
    statuses = MemoryStatuses()
    service = UploadService(MemoryObjects(), statuses, sleep=lambda _: None)
    result = service.accept(small_file("B").data, "x.CSV")
    record: dict[str, Any] = statuses.items[result.document["upload_id"]]
    # The step times are absent until reached (set once, with if_not_exists).
    assert not {"cleaned_at", "exported_at", "failed_at"} & set(record)
    assert record["status"] == UploadStatus.RECEIVED
    assert type(record["status"]) is str  # stored as the plain string
    document = StatusDocument.model_validate(status_document(record))
    assert list(status_document(record)) == list(STATUS_FIELDS)
    answer = UploadAnswer.model_validate(upload_answer(record))
    assert answer.model_dump() == {k: document.model_dump()[k] for k in UPLOAD_FIELDS}
    assert result.document == upload_answer(record)


def test_a_status_outside_the_enum_is_shown_not_refused() -> None:
    """GET shows records written by other paths (as before the model): a status outside
    UploadStatus is shown as stored, never turned into a 500."""
    record = dict.fromkeys(STATUS_FIELDS)
    record.update(upload_id="a" * 64, status="lost", export_keys=[], warnings=[])
    assert StatusDocument.model_validate(record).status == "lost"
    record["status"] = UploadStatus.EXPORTED
    assert StatusDocument.model_validate(record).status == "exported"


def test_a_failure_is_stored_as_plain_strings_of_the_contract() -> None:
    from inmet_pipeline.document import failure
    from inmet_pipeline.status import ErrorCode

    changes = failure(ErrorCode.QUARANTINED, "set aside")
    assert changes == {"status": "failed", "error": {"code": "quarantined", "message": "set aside"}}
    assert type(changes["status"]) is str
    assert type(changes["error"]["code"]) is str
