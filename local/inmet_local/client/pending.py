"""Uploads not yet final: what `inmet fetch` counts before it writes, so that a CSV never looks
complete while uploads are still on their way through the pipeline.

An upload is pending while its status is not final (``inmet_pipeline.status.FINAL_STATUSES``:
``exported`` or ``failed``): ``received`` (stored, not yet loaded, cleaned and exported), or the
claim of a request still storing it. The count is a Scan of the status table with a projection
of the status alone: ~40 bytes an item, so 15,000 station-years read ~150 read units, once per
fetch (and once per poll of ``--wait``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inmet_pipeline.status import FINAL_STATUSES


def pending_uploads(dynamodb: Any, table: str) -> Counter[str]:
    """How many uploads of ``table`` are in each non-final status."""
    counts: Counter[str] = Counter()
    kwargs: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "#s",
        "ExpressionAttributeNames": {"#s": "status"},
    }
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page.get("Items", []):
            status = item.get("status", {}).get("S", "")
            if status not in FINAL_STATUSES:
                counts[status or "unknown"] += 1
        if "LastEvaluatedKey" not in page:
            return counts
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def describe(counts: Counter[str]) -> str:
    """'3 uploads still pending (2 received, 1 uploading)'."""
    total = sum(counts.values())
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"{total} upload{'s' if total != 1 else ''} still pending ({detail})"


@dataclass(slots=True)
class WaitResult:
    pending: Counter[str]
    waited: float


def wait_until_settled(
    count: Callable[[], Counter[str]],
    timeout: float,
    progress: Callable[[int, float], None] | None = None,
    poll: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Poll ``count`` until nothing is pending or ``timeout`` seconds pass; ``progress`` gets
    (pending, seconds waited) after each poll. Returns what is still pending (empty: settled)."""
    start = clock()
    while True:
        pending = count()
        waited = clock() - start
        if progress is not None:
            progress(sum(pending.values()), waited)
        if not pending or waited >= timeout:
            return WaitResult(pending, waited)
        sleep(min(poll, max(0.0, timeout - waited)))
