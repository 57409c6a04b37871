"""The status document of an upload, stated once (docs/contracts.md §1.1, §1.2).

``StatusDocument`` is the one model: its fields, in order, are the document ``GET
/uploads/{id}`` answers, the record the upload writes (uploads.UploadService) and the response
model FastAPI publishes in its OpenAPI. The answer of ``POST /uploads`` (201, and the
duplicate's 200) is a projection of it: the fields marked ``IN_ANSWER`` (or ``IN_ANSWER_NULLABLE``),
built from the same field definitions by ``UploadAnswer`` below, never a second list.

The fields a valid upload always fills (station, year, rows, …) are nullable in the status
document because ``GET`` also shows records written by other paths (an older record, a test's
hand-made one); the answer of an upload has them all, so the projection drops ``None`` from
their type unless the field is marked ``IN_ANSWER_NULLABLE``.

pydantic is already imported by both functions (FastAPI, settings.py), and these models were
built in upload_api/schemas.py before: the upload function's import gains no third-party
module, only this one, status.py and upload_objects.py, a few milliseconds in all (measured
with ``python -X importtime -c "import upload_api.app"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Annotated, Any, Final, Union, get_args, get_origin

from pydantic import BaseModel, Field, create_model

from inmet_pipeline.status import ErrorCode, UploadStatus


@dataclass(frozen=True, slots=True)
class _InAnswer:
    """Marks a field of the POST /uploads answer; ``nullable``: the answer may hold null."""

    nullable: bool = False


IN_ANSWER: Final = _InAnswer()
IN_ANSWER_NULLABLE: Final = _InAnswer(nullable=True)

# The *_at fields an upload leaves unset: the export sets each once, only where still absent
# (DynamoDB if_not_exists), so the first record must not hold them, not even as null.
STEP_TIMES: Final = frozenset({"cleaned_at", "exported_at", "failed_at"})


class StatusError(BaseModel):
    code: str = Field(description=f"One of: {', '.join(ErrorCode)}.")
    message: str


class StatusDocument(BaseModel):
    """The status document (docs/contracts.md §1.2): every field always present."""

    upload_id: Annotated[str, IN_ANSWER] = Field(description="sha256 (hex) of the uploaded bytes.")
    # Plain text, as before the StatusDocument model: GET shows records written by other paths
    # too, and a value outside UploadStatus must be shown, never turned into a 500. Code that
    # writes or compares a status uses UploadStatus.
    status: Annotated[str, IN_ANSWER] = Field(
        description="received, cleaned, exported, superseded or failed (docs/contracts.md §1.2)."
    )
    station_id: Annotated[str | None, IN_ANSWER]
    station_name: Annotated[str | None, IN_ANSWER]
    year: Annotated[int | None, IN_ANSWER]
    rows: Annotated[int | None, IN_ANSWER]
    rows_clean: int | None
    period_start: Annotated[str | None, IN_ANSWER] = Field(description="ISO date of the first row.")
    period_end: Annotated[str | None, IN_ANSWER] = Field(description="ISO date of the last row.")
    layout: Annotated[str | None, IN_ANSWER] = Field(
        description="A (before 2019) or B (from 2019)."
    )
    encoding: Annotated[str | None, IN_ANSWER] = Field(description="utf-8 or latin-1, as detected.")
    filename: Annotated[str | None, IN_ANSWER_NULLABLE]
    size_bytes: Annotated[int | None, IN_ANSWER]
    raw_key: Annotated[str | None, IN_ANSWER]
    landing_key: Annotated[str | None, IN_ANSWER]
    export_keys: list[str]
    warnings: Annotated[list[str], IN_ANSWER]
    error: StatusError | None
    superseded_by: str | None = Field(
        default=None,
        description="For a superseded upload: the upload id of the latest version of its "
        "station-year; rows_clean then counts its rows still in CLEAN.",
    )
    received_at: Annotated[str | None, IN_ANSWER_NULLABLE]
    uploaded_by: Annotated[str | None, IN_ANSWER_NULLABLE] = Field(
        description="Who sent the stored version: api-key:<API key id> or iam:<IAM principal "
        "ARN>, from API Gateway's request context; null when the request had none (the local "
        "stack, records written before the field existed)."
    )
    cleaned_at: str | None
    exported_at: str | None
    failed_at: str | None


def failure(code: ErrorCode, message: str) -> dict[str, Any]:
    """The changes that make an upload ``failed`` (docs/contracts.md §1.2): the status and the
    error, as stored (plain strings). The caller sets ``failed_at`` once, where still unset."""
    return {
        "status": str(UploadStatus.FAILED),
        "error": StatusError(code=code, message=message).model_dump(mode="json"),
    }


def _not_none(annotation: Any) -> Any:
    """``X | None`` → ``X``; any other type unchanged."""
    if get_origin(annotation) not in (Union, UnionType):
        return annotation
    kept = [arg for arg in get_args(annotation) if arg is not NoneType]
    return kept[0] if len(kept) == 1 else Union[tuple(kept)]  # noqa: UP007 - built at run time


def _projection(name: str, source: type[BaseModel], doc: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for field_name, info in source.model_fields.items():
        mark = next((m for m in info.metadata if isinstance(m, _InAnswer)), None)
        if mark is None:
            continue
        annotation = info.annotation if mark.nullable else _not_none(info.annotation)
        fields[field_name] = (annotation, Field(description=info.description))
    return create_model(name, __doc__=doc, **fields)


# The POST /uploads answer (201 and the duplicate's 200): the marked fields, in document order.
UploadAnswer: Final = _projection(
    "UploadAnswer", StatusDocument, "The answer of POST /uploads (docs/contracts.md §1.1)."
)

# The field names, in order, for the code that handles the document as a dict (DynamoDB items).
STATUS_FIELDS: Final = tuple(StatusDocument.model_fields)
UPLOAD_FIELDS: Final = tuple(UploadAnswer.model_fields)
