"""A superseded upload says so (docs/contracts.md §1.2): when a later version of its
station-year replaces some or all of its hours, its document turns `superseded`, with the
rows of it still in CLEAN and the latest version's upload id; and sending it again makes it
the version sent last (a new acceptance, loaded and exported again)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from export_clean import app as export_app
from inmet_local.synth.synth import generate_station_year, station_catalogue
from tests.events import lambda_context
from tests.integration.test_export import Stack, stack  # noqa: F401 - the fixture

pytestmark = [pytest.mark.integration]

KEY = "processed/inmet_clean/station=A001/year=2024/inmet_clean.csv"


def _version(seed: int, days: int = 2, *, empty: bool = False) -> bytes:
    st = station_catalogue(1)[0]
    until = date(2024, 1, days)
    return generate_station_year(st, 2024, seed=seed, partial_until=until, empty=empty).data


def _send(on: Stack, data: bytes) -> str:
    [upload_id] = on.upload_and_load(data)
    export_app.handler(on.notification_event(), lambda_context())
    return upload_id


def _state(on: Stack, upload_id: str) -> tuple[Any, ...]:
    doc = on.status(upload_id)
    return doc["status"], doc["rows_clean"], doc.get("superseded_by"), doc["export_keys"]


def test_a_later_version_supersedes_and_a_resend_restores(stack: Stack) -> None:  # noqa: F811
    v1 = _send(stack, _version(1))  # two days: 48 hours
    assert _state(stack, v1) == ("exported", 48, None, [KEY])

    v2 = _send(stack, _version(2, days=1))  # the first day again, other values
    assert _state(stack, v1) == ("superseded", 24, v2, [KEY])  # its second day survives
    assert _state(stack, v2) == ("exported", 24, None, [KEY])

    v3 = _send(stack, _version(3, empty=True))  # both days, every value missing
    assert _state(stack, v1) == ("superseded", 0, v3, [])
    assert _state(stack, v2) == ("superseded", 0, v3, [])
    assert _state(stack, v3)[:2] == ("exported", 0)
    rows = stack.warehouse.scalar(f"SELECT COUNT(*) FROM {stack.warehouse.clean}.INMET_CLEAN")
    assert rows == 0

    # The same bytes as v1 again: the user wants that version back.
    old_key = stack.status(v1)["raw_key"]
    again = stack.uploads.accept(_version(1), "again.CSV")
    assert again.created  # 201: a new acceptance, not "exported" from before
    assert again.document["status"] == "received"
    new_key = again.document["raw_key"]
    assert new_key > old_key  # a later upload sequence
    body = stack.s3.get_object(Bucket="inmet-export-test", Key=new_key)["Body"].read()
    stack.warehouse.load_objects([(new_key, body)])
    assert stack.warehouse.run_task() is not None
    export_app.handler(stack.notification_event(), lambda_context())
    assert _state(stack, v1) == ("exported", 48, None, [KEY])
    assert _state(stack, v2) == ("superseded", 0, v1, [])
    rows = stack.warehouse.scalar(f"SELECT COUNT(*) FROM {stack.warehouse.clean}.INMET_CLEAN")
    assert rows == 48


def test_an_emptying_upload_undone_by_a_later_one_is_superseded(stack: Stack) -> None:  # noqa: F811
    """An upload whose every value is missing removes hours and keeps none of its own. When a
    later version replaces its hours, its document must not go on saying `exported` with a
    partition: here the later version empties the whole year, and the partition is gone."""
    v1 = _send(stack, _version(1, days=4))
    v2 = _send(stack, _version(2, days=2, empty=True))  # empties the first two days
    assert _state(stack, v1) == ("superseded", 48, v2, [KEY])
    assert _state(stack, v2) == ("exported", 0, None, [])  # no row of it is in a partition
    v3 = _send(stack, _version(3, days=4, empty=True))  # empties all four days
    assert stack.warehouse.scalar(f"SELECT COUNT(*) FROM {stack.warehouse.clean}.INMET_CLEAN") == 0
    assert _state(stack, v1) == ("superseded", 0, v3, [])
    assert _state(stack, v3) == ("exported", 0, None, [])
    assert _state(stack, v2) == ("superseded", 0, v3, [])  # not ("exported", 0, None, [KEY])


def test_an_upload_with_no_row_names_no_partition(stack: Stack) -> None:  # noqa: F811
    """An upload whose every value is missing holds no row of any partition, so its document
    names none: a later upload may empty the partition without touching its hours (here day 3),
    and the document would name a partition that is gone."""
    v1 = _send(stack, _version(1, days=2))
    empty = _version(2, days=3, empty=True).split(b"\n")
    day_3 = b"\n".join(empty[:9] + empty[9 + 48 :])  # metadata, header, the third day
    v2 = _send(stack, day_3)
    assert _state(stack, v2) == ("exported", 0, None, [])
    v3 = _send(stack, _version(3, days=2, empty=True))  # empties days 1-2: no row is left
    assert _state(stack, v1) == ("superseded", 0, v3, [])
    assert stack.s3.list_objects_v2(Bucket="inmet-export-test", Prefix=KEY)["KeyCount"] == 0
    assert _state(stack, v2) == ("exported", 0, None, [])
