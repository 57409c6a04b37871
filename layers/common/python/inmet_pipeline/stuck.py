"""Uploads stuck in ``received``: stored and announced to the pipe, but never cleaned, exported
or failed within the pipeline's expected latency (StuckUploadsFunction, every 15 minutes).

An upload is stuck when its status is still ``received`` and its ``received_at`` is older than
``after_minutes``. ``received_at`` is an ISO-8601 UTC string with a ``Z`` (uploads.utc_now_iso),
so string order is time order and the comparison runs in DynamoDB.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

METRIC: Final = "UploadsStuckInReceived"
# How many ids the check logs (the count is the metric; the ids are for the person paged).
SHOWN: Final = 20


class StuckSource(Protocol):
    def received_before(self, cutoff_iso: str) -> Iterable[tuple[str, str]]:
        """(upload_id, received_at) of the uploads still ``received`` before ``cutoff_iso``."""
        ...


@dataclass(slots=True)
class StuckReport:
    cutoff: str
    count: int = 0
    oldest: list[tuple[str, str]] = field(default_factory=list)  # (received_at, upload_id)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def find_stuck(source: StuckSource, now: datetime, after_minutes: int) -> StuckReport:
    if after_minutes <= 0:
        raise ValueError(f"after_minutes must be positive, not {after_minutes}")
    report = StuckReport(cutoff=iso_z(now - timedelta(minutes=after_minutes)))
    found = sorted(
        (received_at, upload_id) for upload_id, received_at in source.received_before(report.cutoff)
    )
    report.count = len(found)
    report.oldest = found[:SHOWN]
    return report
