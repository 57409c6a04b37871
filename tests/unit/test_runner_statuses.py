"""The local run reads upload statuses from the stack's table: every page, only the ids asked
for, numbers as JSON would give them."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from inmet_local.cli.runner import table_statuses

pytestmark = [pytest.mark.unit]


class _PagedTable:
    name = "statuses"

    def __init__(self, pages: list[list[dict[str, Any]]], batch_limit: int = 100) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []
        self.batch_limit = batch_limit  # keys answered per call; the rest come back unprocessed
        self.meta = SimpleNamespace(client=SimpleNamespace(batch_get_item=self.batch_get_item))

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        """DynamoDB's BatchGetItem through a resource's client: Python values, at most 100
        keys, and UnprocessedKeys when it answered only part."""
        keys = RequestItems[self.name]["Keys"]
        assert len(keys) <= 100
        self.calls.append({"BatchGetItem": [k["upload_id"] for k in keys]})
        items = {i["upload_id"]: i for page in self.pages for i in page}
        answered, rest = keys[: self.batch_limit], keys[self.batch_limit :]
        answer: dict[str, Any] = {
            "Responses": {self.name: [items[k["upload_id"]] for k in answered]}
        }
        if rest:
            answer["UnprocessedKeys"] = {self.name: {"Keys": rest}}
        return answer

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
    assert table.calls == [
        {"ProjectionExpression": "upload_id, #s", "ExpressionAttributeNames": {"#s": "status"}},
        {
            "ProjectionExpression": "upload_id, #s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExclusiveStartKey": {"page": 1},
        },
        {"BatchGetItem": ["a"]},
    ]


def test_final_documents_are_read_100_at_a_time_until_none_is_left() -> None:
    items = [{"upload_id": f"u{i:03d}", "status": "exported"} for i in range(250)]
    table = _PagedTable([items], batch_limit=60)
    docs = table_statuses(table)({f"u{i:03d}" for i in range(250)})
    assert set(docs) == {f"u{i:03d}" for i in range(250)}
    batches = [c["BatchGetItem"] for c in table.calls if "BatchGetItem" in c]
    assert max(len(b) for b in batches) == 100
    assert sorted(k for b in batches for k in b[:60]) == sorted(docs)


def test_a_round_with_nothing_final_reads_only_ids_and_statuses() -> None:
    table = _PagedTable([[{"upload_id": "b", "status": "received", "rows": Decimal("24")}]])
    assert table_statuses(table)({"b"}) == {"b": {"upload_id": "b", "status": "received"}}
    assert len(table.calls) == 1
    nested = table_statuses(
        _PagedTable([[{"upload_id": "c", "status": "failed", "x": [Decimal("0.5")]}]])
    )({"c"})
    assert nested["c"]["x"] == [0.5]


def test_the_run_summary_says_why_a_file_has_no_clean_row() -> None:
    from rich.console import Console

    from inmet_local.cli.run_summary import print_files_table
    from inmet_local.client.client import UploadOutcome

    results = [
        UploadOutcome("data/raw/INMET_CO_MT_A921_X_01-01-2024_A_31-12-2024.CSV", "accepted",
                      201, "a" * 64, "A921", 8784),
        UploadOutcome("data/raw/INMET_bad.CSV", "rejected", 422, code="bad_hour",
                      message="Line 17: the hour …", line=17),
    ]  # fmt: skip
    docs: dict[str, dict[str, object]] = {"a" * 64: {"status": "exported", "rows_clean": 0}}
    console = Console(record=True, width=300)
    problems = print_files_table(results, docs, object(), {"upload": 1.0}, console)
    text = console.export_text()
    assert "every hour has all its measurements missing: CLEAN keeps none" in text
    assert "bad_hour Line 17: the hour" in text
    assert text.lower().count("line 17") == 1
    assert "INMET_CO_MT_A921_X_01-01-2024_A_31-12-2024.CSV" in text  # never cut
    assert problems == 1
