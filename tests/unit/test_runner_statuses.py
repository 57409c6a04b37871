"""The local run reads upload statuses from the stack's table: every page, only the ids asked
for, numbers as JSON would give them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inmet_local.runner import table_statuses

pytestmark = [pytest.mark.unit]


class _PagedTable:
    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        index = int(kwargs.get("ExclusiveStartKey", {}).get("page", 0))
        page: dict[str, Any] = {"Items": self.pages[index]}
        if index + 1 < len(self.pages):
            page["LastEvaluatedKey"] = {"page": index + 1}
        return page


def test_reads_every_page_and_only_the_ids_asked_for() -> None:
    table = _PagedTable(
        [
            [{"upload_id": "a", "status": "exported", "rows_clean": Decimal(8760)}],
            [
                {"upload_id": "b", "status": "received", "rows": Decimal("24")},
                {"upload_id": "c", "status": "failed", "ratio": Decimal("0.5"), "keys": []},
            ],
        ]
    )
    docs = table_statuses(table)({"a", "b"})
    assert docs == {
        "a": {"upload_id": "a", "status": "exported", "rows_clean": 8760},
        "b": {"upload_id": "b", "status": "received", "rows": 24},
    }
    assert isinstance(docs["a"]["rows_clean"], int)
    assert len(table.calls) == 2
    nested = table_statuses(_PagedTable([[{"upload_id": "c", "x": [Decimal("0.5")]}]]))({"c"})
    assert nested["c"]["x"] == [0.5]
