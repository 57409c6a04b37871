"""The messages the warehouse sends: the load notification (docs/contracts.md §4) and Snowflake's
error notifications (pipe INGEST_FAILED_FILE, task USER_TASK_FAILED)."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from inmet_pipeline import rules

UPLOAD_ID_IN_KEY = re.compile(r"([0-9a-f]{64})(?:-[^/]*)?\.csv$")


class NotificationError(ValueError):
    """A message that is not what the contract says; the message names what is wrong."""


def _decoded(body: str | dict[str, Any]) -> Any:
    """The JSON of a message, also when it arrives as a JSON string holding the JSON: how
    Snowflake's error notifications reach SNS is not stated in one form ("Enabling
    notifications for pipes / tasks": the message is JSON; SNS delivers its body as a string,
    and a publisher may encode it once more), so a string that decodes to a string is decoded
    again, once."""
    data = json.loads(body) if isinstance(body, str) else body
    if isinstance(data, str):
        data = json.loads(data)
    return data


class Partition(BaseModel):
    # The validator's rules (inmet_pipeline.rules): a file it accepts makes a partition that
    # parses here.
    station_id: str = Field(pattern=rules.WMO_PATTERN)
    year: int = Field(ge=rules.YEAR_MIN, le=rules.YEAR_MAX)
    rows: int = Field(ge=0)


class QuarantinedFile(BaseModel):
    """A file the task set aside (RAW.QUARANTINE) and why: its upload ends ``failed``."""

    file: str
    error: str


class LoadNotification(BaseModel):
    """docs/contracts.md §4."""

    event: Literal["inmet.clean.loaded"]
    batch_id: str = Field(min_length=1)
    # A batch is announced in parts of at most partitions_per_message partitions
    # (snowflake_sql/schemachange-config.yml); the export acknowledges each (batch_id, part).
    # Additions to the contract's fields: a message without them is part 1 of 1.
    part: int = Field(default=1, ge=1)
    parts: int = Field(default=1, ge=1)
    files: list[str]
    partitions: list[Partition]
    loaded_at: str
    # An addition to the contract's fields (issue 15): the files the batch set aside, in part 1.
    quarantined: list[QuarantinedFile] = Field(default_factory=list)

    @field_validator("files")
    @classmethod
    def _raw_keys(cls, files: list[str]) -> list[str]:
        for key in files:
            if not key.startswith("raw/"):
                raise ValueError(f"file {key!r} is not under raw/")
        return files

    @classmethod
    def parse(cls, body: str | dict[str, Any]) -> LoadNotification:
        try:
            return cls.model_validate(_decoded(body))
        except (ValueError, ValidationError) as exc:
            raise NotificationError(
                f"not a load notification (docs/contracts.md §4): {exc}"
            ) from exc


def upload_id_of(key: str) -> str | None:
    """raw/inmet/station=A001/year=2024/<sequence>-<sha256>.csv -> <sha256> (the upload
    sequence, upload_objects.SEQUENCE_FORMAT, has a T and a Z: never 64 hex digits)."""
    match = UPLOAD_ID_IN_KEY.search(key)
    return match.group(1) if match else None


def station_year_of(raw_key: str) -> tuple[str, int] | None:
    """raw/inmet/station=A001/year=2024/… -> ("A001", 2024)."""
    try:
        station = raw_key.split("station=", 1)[1].split("/", 1)[0]
        year = int(raw_key.split("year=", 1)[1].split("/", 1)[0])
    except (IndexError, ValueError):
        return None
    return station, year


class ErrorNotification(BaseModel):
    """A Snowflake ERROR_INTEGRATION message: which files failed (pipe) or the task's error."""

    message_type: str
    files: list[str]  # object keys, when the pipe says which
    error: str

    @classmethod
    def parse(cls, body: str | dict[str, Any]) -> ErrorNotification:
        try:
            data = _decoded(body)
        except ValueError as exc:
            raise NotificationError(f"error notification is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise NotificationError("error notification is not a JSON object")
        kind = str(data.get("messageType", ""))
        messages = data.get("messages") or []
        if not isinstance(messages, list):
            raise NotificationError("error notification: 'messages' is not a list")
        if kind.startswith("INGEST_FAILED"):
            stage = str(data.get("stageLocation", ""))
            prefix = stage.split("/", 3)[3] if stage.count("/") >= 3 else ""
            files = []
            errors = []
            for item in messages:
                name = str(item.get("fileName", "")).lstrip("/")
                files.append(name if name.startswith("raw/") else prefix + name)
                errors.append(str(item.get("firstError", "")))
            return cls(
                message_type=kind,
                files=files,
                error="; ".join(e for e in errors if e) or "the pipe could not load the file",
            )
        if kind.startswith("USER_TASK_FAILED"):
            errors = [str(m.get("errorMessage", "")) for m in messages if isinstance(m, dict)]
            return cls(
                message_type=kind,
                files=[],
                error="; ".join(e for e in errors if e) or "the task failed",
            )
        raise NotificationError(f"unknown error notification type {kind!r}")
