"""Response models: they document the API (OpenAPI) and check what the routes return."""

from __future__ import annotations

from pydantic import BaseModel, Field


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


class UploadAnswer(BaseModel):
    upload_id: str = Field(description="sha256 (hex) of the uploaded bytes.")
    status: str = Field(description="received, exported or failed (see GET /uploads/{id}).")
    station_id: str
    station_name: str
    year: int
    period_start: str = Field(description="ISO date of the first row.")
    period_end: str = Field(description="ISO date of the last row.")
    rows: int
    layout: str = Field(description="A (before 2019) or B (from 2019).")
    encoding: str = Field(description="utf-8 or latin-1, as detected.")
    filename: str | None
    size_bytes: int
    raw_key: str
    landing_key: str
    warnings: list[str]
    received_at: str | None


class StatusError(BaseModel):
    code: str
    message: str


class StatusDocument(BaseModel):
    upload_id: str
    status: str
    station_id: str | None
    station_name: str | None
    year: int | None
    rows: int | None
    rows_clean: int | None
    period_start: str | None
    period_end: str | None
    layout: str | None
    encoding: str | None
    filename: str | None
    size_bytes: int | None
    raw_key: str | None
    landing_key: str | None
    export_keys: list[str]
    warnings: list[str]
    error: StatusError | None
    received_at: str | None
    cleaned_at: str | None
    exported_at: str | None
    failed_at: str | None
