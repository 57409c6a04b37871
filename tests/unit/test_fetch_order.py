"""`inmet fetch` from S3 reads a few partitions ahead (issue 17) but writes them in (station,
year) order, with at most PREFETCH requests in flight, and stops at a bad header."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from inmet_local.client import fetch
from inmet_local.client.fetch import HEADER, FetchError, fetch_from_s3

pytestmark = [pytest.mark.unit]


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class SlowFirstS3:
    """A bucket whose earlier objects answer later than the ones after them."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()

    def get_paginator(self, _name: str) -> Any:
        objects = self.objects

        class Paginator:
            def paginate(self, **_kwargs: Any) -> list[dict[str, Any]]:
                return [{"Contents": [{"Key": key} for key in reversed(list(objects))]}]

        return Paginator()

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        index = list(self.objects).index(Key)
        time.sleep(0.02 * (len(self.objects) - index))
        with self.lock:
            self.in_flight -= 1
        return {"Body": Body(self.objects[Key])}


def partition(station: str, year: int, rows: int) -> tuple[str, bytes]:
    key = f"processed/inmet_clean/station={station}/year={year}/inmet_clean.csv"
    lines = "".join(f"{station},{year},{n}\n" for n in range(rows))
    return key, HEADER + lines.encode()


def test_partitions_are_written_in_order_with_a_bounded_read_ahead(tmp_path: Path) -> None:
    objects = dict(partition(f"A{n:03d}", 2020 + n % 3, rows=n + 1) for n in range(10))
    s3 = SlowFirstS3(objects)
    out = tmp_path / "inmet_clean.csv"
    result = fetch_from_s3(s3, "bucket", out)
    expected = HEADER + b"".join(data[len(HEADER) :] for data in objects.values())
    assert out.read_bytes() == expected
    assert result.rows == sum(range(1, 11))
    assert result.partitions == 10
    assert 1 < s3.most_in_flight <= fetch.PREFETCH


def test_a_partition_with_another_header_stops_the_fetch_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    objects = dict(partition(f"A{n:03d}", 2024, rows=2) for n in range(6))
    bad = list(objects)[3]
    objects[bad] = b"station,year\n" + objects[bad][len(HEADER) :]
    out = tmp_path / "inmet_clean.csv"
    with pytest.raises(FetchError, match="unexpected header"):
        fetch_from_s3(SlowFirstS3(objects), "bucket", out)
    assert not out.exists()
