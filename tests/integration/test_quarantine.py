"""Quarantine in the warehouse (issue 15, point 3), on the local warehouse runtime: a file whose
lines break a constraint is set aside with the reason (the generated rules, or Snowflake's own
error when the rules did not foresee it), the rest of the batch loads, and the export marks
that upload `failed` with a message a person can act on. And the export skips one partition
the warehouse refuses (point 4)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.servers import ManagedProcess, fakesnow_connect_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables
from inmet_pipeline.errors import PartitionRejected
from inmet_pipeline.exports import ExportService
from inmet_pipeline.notifications import LoadNotification
from inmet_pipeline.uploads import next_sequence, raw_key_for, raw_object, upload_id_for
from tests.crafted import crafted_files
from tests.fakes import FakeExportWarehouse, MemoryStatuses
from tests.helpers import small_file

pytestmark = [pytest.mark.integration]


@pytest.fixture
def warehouse(fakesnow: ManagedProcess, tmp_path: Path) -> Iterator[LocalWarehouse]:
    values = variables({"database": f"Q{uuid.uuid4().hex[:10].upper()}"})
    with LocalWarehouse(
        fakesnow_connect_kwargs(fakesnow.url), values=values, work_dir=tmp_path / "pipe"
    ) as wh:
        wh.deploy()
        yield wh


def unchecked_object(data: bytes, station: str = "A001", year: int = 2024) -> tuple[str, bytes]:
    """A raw/ object as if the upload had accepted ``data`` (the validator refuses it: this is
    the warehouse's own defence)."""
    return raw_key_for("raw/inmet", station, year, upload_id_for(data), next_sequence()), data


class NoExport(FakeExportWarehouse):
    """The export's warehouse side for these tests: partitions 'written' without S3, and the
    (station, year) partitions in ``refuse`` refused as Snowflake would refuse an unload."""

    def __init__(self, wh: LocalWarehouse, refuse: set[tuple[str, int]] | None = None) -> None:
        super().__init__(rows=1)
        self.wh = wh
        self.refuse = refuse or set()

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        for station, year, _ in partitions:
            if (station, year) in self.refuse:
                raise PartitionRejected(f"Snowflake refused the unload of {station}/{year}")
        return super().export_partitions(partitions)

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        return dict.fromkeys(raw_keys, 48)


def export_all(wh: LocalWarehouse, statuses: MemoryStatuses, exporter: NoExport) -> list[Any]:
    service = ExportService(exporter, statuses)
    return [service.export_batch(LoadNotification.parse(m)) for m in wh.send_notifications(print)]


def clean_stations(wh: LocalWarehouse) -> set[str]:
    return {r[0] for r in wh.execute(f"SELECT DISTINCT station_id FROM {wh.clean}.OBSERVATIONS")}


def test_a_file_breaking_a_rule_is_set_aside_and_the_batch_loads(
    warehouse: LocalWarehouse,
) -> None:
    before = raw_object(small_file("B", station=1).data)
    bad_data = crafted_files(small_file("B", station=0).data)["arabic_indic_latitude"].data
    bad = unchecked_object(bad_data)
    after = raw_object(small_file("A", station=2).data)
    warehouse.load_objects([before, bad, after])
    assert warehouse.run_task() is not None  # the batch did not fail

    [(file_name, reason)] = warehouse.execute(
        f"SELECT file_name, reason FROM {warehouse.raw}.QUARANTINE"
    )
    assert file_name == warehouse.stage_file_name(bad[0])
    assert reason.startswith("line 5: LATITUDE is not a number between -35 and 6")
    assert "\u0661" in reason  # the value as found
    loaded = {
        r[0] for r in warehouse.execute(f"SELECT file_name FROM {warehouse.clean}.FILE_LOADS")
    }
    assert loaded == {warehouse.stage_file_name(k) for k, _ in (before, after)}
    assert len(clean_stations(warehouse)) == 2
    # Not pending either: a later task failure must not relabel it (CLEAN.UNPROCESSED_FILES).
    assert warehouse.execute(f"SELECT raw_key FROM {warehouse.clean}.UNPROCESSED_FILES") == []

    statuses = MemoryStatuses.received([before[0], bad[0], after[0]])
    results = export_all(warehouse, statuses, NoExport(warehouse))
    assert sum(len(r.quarantined) for r in results) == 1
    failed = statuses.status(bad[0])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "quarantined"
    assert "LATITUDE" in failed["error"]["message"]
    assert "upload it again" in failed["error"]["message"]
    assert statuses.status(before[0])["status"] == "exported"
    assert statuses.status(after[0])["status"] == "exported"


def test_a_file_the_rules_did_not_foresee_is_isolated_with_snowflakes_real_error(
    warehouse: LocalWarehouse,
) -> None:
    """With the rules' check switched off, the bad file breaks STATIONS.LATITUDE NOT NULL, as
    in the issue: the task finds it by halving the batch, sets it aside with the warehouse's
    own error (never "HTTP 500"), and loads the other files."""
    warehouse.execute(
        f"CREATE OR REPLACE VIEW {warehouse.raw}.OPEN_BATCH_VIOLATIONS AS SELECT batch_id, "
        f"file_name, file_row_number, 'x' AS reason FROM {warehouse.raw}.OPEN_BATCH_LINES "
        "WHERE FALSE"
    )
    goods = [raw_object(small_file("B", station=i, seed=i).data) for i in range(1, 5)]
    bad_data = crafted_files(small_file("B", station=0).data)["arabic_indic_latitude"].data
    bad = unchecked_object(bad_data)
    objects = [*goods[:2], bad, *goods[2:]]
    warehouse.load_objects(objects)
    run = warehouse.run_task()
    assert run is not None
    [(reason,)] = warehouse.execute(f"SELECT reason FROM {warehouse.raw}.QUARANTINE")
    assert "NULL result in a non-nullable column" in reason
    assert "LATITUDE" in reason.upper()
    assert "HTTP 500" not in reason
    loaded = {
        r[0] for r in warehouse.execute(f"SELECT file_name FROM {warehouse.clean}.FILE_LOADS")
    }
    assert loaded == {warehouse.stage_file_name(k) for k, _ in goods}
    assert not warehouse.task.stream_has_data()  # nothing left behind to fail the next run

    statuses = MemoryStatuses.received([k for k, _ in objects])
    export_all(warehouse, statuses, NoExport(warehouse))
    assert statuses.status(bad[0])["status"] == "failed"
    assert "non-nullable" in statuses.status(bad[0])["error"]["message"]
    assert {statuses.status(k)["status"] for k, _ in goods} == {"exported"}


def test_the_export_skips_a_partition_the_warehouse_refuses(warehouse: LocalWarehouse) -> None:
    files = [raw_object(small_file("B", station=i, seed=i).data) for i in range(3)]
    warehouse.load_objects(files)
    assert warehouse.run_task() is not None
    statuses = MemoryStatuses.received([k for k, _ in files])
    station = sorted(clean_stations(warehouse))[1]
    refused = (station, 2024)
    [result] = export_all(warehouse, statuses, NoExport(warehouse, {refused}))
    assert list(result.failed_partitions) == [refused]
    assert len(result.export_keys) == 2
    by_station = {statuses.status(k)["station_id"]: statuses.status(k) for k, _ in files}
    assert by_station[station]["status"] == "failed"
    assert by_station[station]["error"]["code"] == "export_failed"
    assert "refused the unload" in by_station[station]["error"]["message"]
    assert {d["status"] for s, d in by_station.items() if s != station} == {"exported"}
