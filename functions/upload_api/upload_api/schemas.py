"""Response models: they document the API (OpenAPI) and check what the routes return."""

from __future__ import annotations

from pydantic import BaseModel, Field

# The status document and the POST answer are one model, in the layer (docs/contracts.md §1.1,
# §1.2): the service builds its records from it, the routes publish it.
from inmet_pipeline.document import StatusDocument, StatusError, UploadAnswer

__all__ = [
    "ErrorBody",
    "ErrorDetail",
    "HealthBody",
    "StatusDocument",
    "StatusError",
    "UploadAnswer",
]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable snake_case code, e.g. bad_hour, payload_too_large.")
    message: str = Field(description="What is wrong and where, in plain words.")
    line: int | None = Field(description="1-based line of the file, when it applies.")
    details: list[dict[str, object]] | None = Field(
        default=None, description="Every error found (code, message, line), for a bad file."
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


class HealthBody(BaseModel):
    status: str
