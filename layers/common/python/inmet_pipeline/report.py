"""What the reader reports: issues, the station's metadata, the file's report, the rows.

Split from reader.py (issue 16): these types are what the rest of the pipeline consumes
(uploads, the CLI, the tests), independent of how the scanner finds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from inmet_pipeline.inmet_format import Encoding, Layout, MetadataStyle

DEFAULT_MAX_ERRORS: Final = 20


@dataclass(frozen=True, slots=True)
class Issue:
    """An error or a warning: a stable snake_case code, a plain message, the 1-based line."""

    code: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "line": self.line}


@dataclass(frozen=True, slots=True)
class StationMeta:
    """Station attributes from metadata lines 1-8 (docs/contracts.md §3 rule 1)."""

    region: str
    state: str
    station_name: str
    station_id: str
    latitude: float
    longitude: float
    altitude_m: float
    founded_on: date | None
    metadata_style: MetadataStyle

    def to_dict(self) -> dict[str, object]:
        return {
            "station_id": self.station_id,
            "station_name": self.station_name,
            "region": self.region,
            "state": self.state,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude_m": self.altitude_m,
            "founded_on": self.founded_on.isoformat() if self.founded_on else None,
            "metadata_style": self.metadata_style,
        }


@dataclass(slots=True)
class ValidationReport:
    """Everything the validator learnt about one file."""

    filename: str | None = None
    size_bytes: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    station: StationMeta | None = None
    layout: Layout | None = None
    encoding: Encoding | None = None
    has_bom: bool = False
    radiation_label: str | None = None
    rows: int = 0
    period_start: datetime | None = None
    period_end: datetime | None = None
    missing_cells: int = 0
    all_missing_rows: int = 0
    out_of_range: dict[str, int] = field(default_factory=dict)
    truncated: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def is_binary(self) -> bool:
        return bool(self.errors) and self.errors[0].code == "binary_file"

    @property
    def year(self) -> int | None:
        return self.period_start.year if self.period_start else None

    def to_dict(self) -> dict[str, object]:
        st = self.station
        return {
            "path": self.filename,
            "valid": self.valid,
            "station_id": st.station_id if st else None,
            "station_name": st.station_name if st else None,
            "station": st.to_dict() if st else None,
            "layout": self.layout,
            "encoding": self.encoding,
            "size_bytes": self.size_bytes,
            "rows": self.rows,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "missing_cells": self.missing_cells,
            "all_missing_rows": self.all_missing_rows,
            "out_of_range": dict(self.out_of_range),
            "radiation_label": self.radiation_label,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "truncated": self.truncated,
        }


@dataclass(frozen=True, slots=True)
class Observation:
    """One data row: the UTC hour and the 17 measures (None = missing), in MEASURES order."""

    line: int
    observed_at: datetime
    values: tuple[float | None, ...]


class InmetFormatError(ValueError):
    """Raised by ``read_observations`` at the first error; carries the Issue."""

    def __init__(self, issue: Issue) -> None:
        where = f" (line {issue.line})" if issue.line else ""
        super().__init__(f"{issue.code}: {issue.message}{where}")
        self.issue = issue


class ErrorLimitReachedError(Exception):
    """Raised by ``IssueLog.error`` when the report holds ``max_errors`` errors: reading stops."""


class IssueLog:
    """Where the scanner's parts record errors and warnings, into one report."""

    __slots__ = ("max_errors", "report")

    def __init__(self, report: ValidationReport, max_errors: int) -> None:
        self.report = report
        self.max_errors = max(1, max_errors)

    def error(self, code: str, message: str, line: int | None = None) -> None:
        self.report.errors.append(Issue(code, message, line))
        if len(self.report.errors) >= self.max_errors:
            self.report.truncated = True
            raise ErrorLimitReachedError

    def stop(self, code: str, message: str, line: int | None = None) -> None:
        """Record an error and stop reading whatever the error count."""
        self.report.errors.append(Issue(code, message, line))
        self.report.truncated = True
        raise ErrorLimitReachedError

    def warn(self, code: str, message: str, line: int | None = None) -> None:
        self.report.warnings.append(Issue(code, message, line))


def show(text: str, limit: int = 60) -> str:
    """A value quoted for a message, cut at ``limit`` characters."""
    text = text.strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


def show_bytes(token: bytes) -> str:
    return show(token.decode("latin-1"))
