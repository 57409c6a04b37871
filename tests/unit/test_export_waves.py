"""Issue 17: how many partitions one export_partitions call takes (a wave). The Snowflake
adapter runs a wave's COPY statements concurrently (ExportService.WAVE); the local adapter
unloads a wave with one query over CLEAN, so it names larger waves (partitions_per_call) and a
message scans CLEAN fewer times. A wave size pinned on the service (as tests do) wins."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from inmet_local.emulator.local_adapter import LocalExporter
from inmet_pipeline.adapters.snowflake import SnowflakeExporter
from inmet_pipeline.exports import ExportService
from inmet_pipeline.notifications import LoadNotification
from tests.fakes import FakeExportWarehouse, MemoryStatuses

pytestmark = [pytest.mark.unit]

STATIONS = [f"A{n:03d}" for n in range(1, 8)]
FILES = [f"raw/inmet/station={s}/year=2024/{n:064x}.csv" for n, s in enumerate(STATIONS, 1)]


class RecordingWarehouse(FakeExportWarehouse):
    def __init__(
        self, partitions_per_call: int | None = None, daily_partitions_per_call: int | None = None
    ) -> None:
        super().__init__(rows=10)
        self.calls: list[int] = []
        self.daily_calls: list[int] = []
        if partitions_per_call is not None:
            self.partitions_per_call = partitions_per_call
        if daily_partitions_per_call is not None:
            self.daily_partitions_per_call = daily_partitions_per_call

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        self.calls.append(len(partitions))
        return super().export_partitions(partitions)

    def export_daily_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        self.daily_calls.append(len(partitions))
        return super().export_daily_partitions(partitions)


def message() -> LoadNotification:
    return LoadNotification.parse(
        {
            "event": "inmet.clean.loaded",
            "batch_id": "b1",
            "files": FILES,
            "partitions": [{"station_id": s, "year": 2024, "rows": 10} for s in STATIONS],
            "loaded_at": "2026-12-05T00:00:00Z",
        }
    )


def export(warehouse: RecordingWarehouse, pinned: int | None = None) -> list[int]:
    service = ExportService(warehouse, MemoryStatuses.received(FILES), wave=pinned)
    result = service.export_batch(message())
    assert len(result.export_keys) == len(STATIONS)
    return warehouse.calls


def test_an_exporter_without_a_preference_gets_waves_of_the_default_size() -> None:
    assert ExportService.WAVE == 16
    assert export(RecordingWarehouse()) == [7]


def test_the_exporter_names_its_wave_size() -> None:
    assert export(RecordingWarehouse(partitions_per_call=3)) == [3, 3, 1]


def test_daily_waves_take_the_exporters_daily_size_else_its_hourly_one() -> None:
    """Seven station-years give fourteen daily partitions (each year and the year before)."""
    warehouse = RecordingWarehouse(partitions_per_call=3)
    export(warehouse)
    assert warehouse.daily_calls == [3, 3, 3, 3, 2]
    warehouse = RecordingWarehouse(partitions_per_call=3, daily_partitions_per_call=5)
    export(warehouse)
    assert warehouse.calls == [3, 3, 1]
    assert warehouse.daily_calls == [5, 5, 4]
    pinned = RecordingWarehouse(partitions_per_call=3, daily_partitions_per_call=5)
    export(pinned, pinned=4)
    assert pinned.daily_calls == [4, 4, 4, 2]


def test_a_wave_size_pinned_on_the_service_wins() -> None:
    assert export(RecordingWarehouse(partitions_per_call=3), pinned=2) == [2, 2, 2, 1]


def test_the_adapters_wave_sizes() -> None:
    assert not hasattr(SnowflakeExporter, "partitions_per_call")  # concurrent COPYs: WAVE
    # Four unload groups a wave: the next group is unloaded while the last one's objects are
    # put (a group's files are written by the local warehouse, put by the exporter).
    assert LocalExporter.GROUP == 48
    assert LocalExporter.partitions_per_call == 4 * LocalExporter.GROUP
    assert LocalExporter.DAILY_GROUP >= LocalExporter.GROUP
    # The daily partitions likewise: four groups a call, unloads overlapping puts.
    assert LocalExporter.daily_partitions_per_call == 4 * LocalExporter.DAILY_GROUP
    assert not hasattr(SnowflakeExporter, "daily_partitions_per_call")
