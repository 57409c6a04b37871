"""In-memory stand-ins shared by the tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FakeExportWarehouse:
    """The export's warehouse side (exports.PartitionExporter) with nothing behind it: every
    partition is "written" with ``rows`` rows, every file has ``rows`` clean rows, and the
    progress and acknowledgement bookkeeping is kept nowhere. Subclass to inject a fault."""

    def __init__(self, rows: int = 1) -> None:
        self.rows = rows

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        return dict.fromkeys(raw_keys, self.rows)

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        return {key: self.rows for _, _, key in partitions}

    def remove_partition(self, station_id: str, year: int, key: str) -> None:
        return None

    def unprocessed_raw_keys(self) -> list[str]:
        return []

    def exported_partitions(self, batch_id: str, part: int) -> dict[str, int]:
        return {}

    def record_exported(self, batch_id: str, part: int, done: Sequence[Any]) -> None:
        return None

    def acknowledge(self, batch_id: str, part: int, uploads: int) -> None:
        return None
