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
        """DynamoDB's Scan, with ProjectionExpression (names through #aliases) and paging."""
        self.calls.append(kwargs)
        index = int(kwargs.get("ExclusiveStartKey", {}).get("page", 0))
        items = self.pages[index]
        if "ProjectionExpression" in kwargs:
            aliases = kwargs.get("ExpressionAttributeNames", {})
            wanted = [
                aliases.get(n.strip(), n.strip()) for n in kwargs["ProjectionExpression"].split(",")
            ]
            items = [{k: v for k, v in item.items() if k in wanted} for item in items]
        page: dict[str, Any] = {"Items": items}
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
        "b": {"upload_id": "b", "status": "received"},  # not final: its status only
    }
    assert isinstance(docs["a"]["rows_clean"], int)
    # A round projects (upload_id, status); the whole documents are read only for "a", final.
    assert [c.get("ProjectionExpression") for c in table.calls] == [
        "upload_id, #s",
        "upload_id, #s",
        None,
        None,
    ]


def test_a_round_with_nothing_final_reads_only_ids_and_statuses() -> None:
    table = _PagedTable([[{"upload_id": "b", "status": "received", "rows": Decimal("24")}]])
    assert table_statuses(table)({"b"}) == {"b": {"upload_id": "b", "status": "received"}}
    assert len(table.calls) == 1
    nested = table_statuses(
        _PagedTable([[{"upload_id": "c", "status": "failed", "x": [Decimal("0.5")]}]])
    )({"c"})
    assert nested["c"]["x"] == [0.5]
