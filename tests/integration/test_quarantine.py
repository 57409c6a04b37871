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

from inmet_local.emulator.servers import ManagedProcess, fakesnow_server_kwargs
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
        fakesnow_server_kwargs(fakesnow), values=values, work_dir=tmp_path / "pipe"
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


def test_with_the_rules_switched_off_a_bad_file_still_cannot_fail_the_batch(
    warehouse: LocalWarehouse,
) -> None:
    """The transform is total: with the rules' check switched off, the file whose latitude
    would break STATIONS.LATITUDE NOT NULL is not written to STATIONS (every NOT NULL column is
    checked before the MERGE), and the batch loads in one run (it used to fail, then be
    halved until the file was found)."""
    warehouse.execute(
        f"CREATE OR REPLACE VIEW {warehouse.raw}.OPEN_BATCH_VIOLATIONS AS SELECT batch_id, "
        f"file_name, file_row_number, 'x' AS reason FROM {warehouse.raw}.OPEN_BATCH_LINES "
        "WHERE FALSE"
    )
    goods = [raw_object(small_file("B", station=i, seed=i).data) for i in range(1, 5)]
    bad_data = crafted_files(small_file("B", station=0).data)["arabic_indic_latitude"].data
    bad = unchecked_object(bad_data)
    warehouse.load_objects([*goods[:2], bad, *goods[2:]])
    run = warehouse.run_task()
    assert run is not None
    assert warehouse.scalar(f"SELECT COUNT(*) FROM {warehouse.raw}.BATCHES") == 1
    assert run.files == 5
    stations = {
        r[0] for r in warehouse.execute(f"SELECT station_id FROM {warehouse.clean}.STATIONS")
    }
    assert len(stations) == 4  # the bad file's station is not written
    assert not warehouse.task.stream_has_data()


def test_a_warehouse_failure_fails_the_run_and_the_next_run_loads_the_whole_batch(
    warehouse: LocalWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed run means the warehouse could not run the batch, not a bad file: nothing is set
    aside, the error is raised (the runtime reports it on the error topic, Snowflake's
    ERROR_INTEGRATION), the stream keeps the files, and the next run loads them all."""
    import snowflake.connector

    files = [raw_object(small_file("B", station=i, seed=i).data) for i in range(1, 4)]
    warehouse.load_objects(files)
    attempts = []
    run_batch = warehouse.task._run_batch

    def counted() -> Any:
        attempts.append(1)
        return run_batch()

    monkeypatch.setattr(warehouse.task, "_run_batch", counted)
    warehouse.execute(f"DROP VIEW {warehouse.clean}.OPEN_BATCH_OBSERVATIONS")  # cannot run
    with pytest.raises(snowflake.connector.errors.Error):
        warehouse.run_task()
    assert len(attempts) == 1  # one attempt: no file-by-file search for a culprit
    assert warehouse.execute(f"SELECT * FROM {warehouse.raw}.QUARANTINE") == []
    assert warehouse.task.stream_has_data()
    warehouse.deploy()  # the warehouse is back
    run = warehouse.run_task()
    assert run is not None
    assert run.files == 3
    loaded = {
        r[0] for r in warehouse.execute(f"SELECT file_name FROM {warehouse.clean}.FILE_LOADS")
    }
    assert loaded == {warehouse.stage_file_name(k) for k, _ in files}
    assert warehouse.execute(f"SELECT * FROM {warehouse.raw}.QUARANTINE") == []


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


def _named(station: int, name: bytes) -> bytes:
    lines = small_file("B", station=station, encoding="utf-8").data.split(b"\n")
    lines[2] = lines[2].split(b";", 1)[0] + b";" + name
    return b"\n".join(lines)


def test_station_names_the_upload_refuses_are_set_aside_by_the_warehouse_too(
    warehouse: LocalWarehouse,
) -> None:
    """The station-name rule of rules.py, as the generated SQL applies it to files that did
    not come through the upload: a formula trigger, a name cut at ';' and the CSV's NULL
    marker are quarantined at line 3; the good file of the batch loads."""
    good = raw_object(small_file("B", station=0).data)
    hostile = {
        "formula": unchecked_object(_named(1, b"=1+2"), station="A002"),
        "cut": unchecked_object(_named(2, b"SAO JOSE;DOS CAMPOS"), station="A003"),
        "null marker": unchecked_object(_named(3, b"\\N"), station="A004"),
    }
    warehouse.load_objects([good, *hostile.values()])
    assert warehouse.run_task() is not None
    reasons = dict(warehouse.execute(f"SELECT file_name, reason FROM {warehouse.raw}.QUARANTINE"))
    for what, (key, _) in hostile.items():
        reason = reasons[warehouse.stage_file_name(key)]
        assert reason.startswith("line 3: ESTACAO (the station name)"), (what, reason)
    assert (
        "must begin with a letter or a digit"
        in reasons[warehouse.stage_file_name(hostile["formula"][0])]
    )
    assert (
        "must begin with a letter or a digit"
        in reasons[warehouse.stage_file_name(hostile["cut"][0])]
    )
    assert len(clean_stations(warehouse)) == 1  # the good file's station


def test_a_thousand_set_aside_files_with_long_reasons_fit_in_bounded_messages(
    warehouse: LocalWarehouse,
) -> None:
    """The worst case of the load notification: 1,000 files set aside in one batch, each with a
    2,000-character reason of characters JSON escapes (6 bytes each). Every message stays under
    SNS's 256 KiB ("Amazon SNS message quotas",
    docs.aws.amazon.com/sns/latest/dg/sns-message-size.html)
    and every file is announced once (they all went in part 1 before: about 2 MB)."""
    from tests.raw_fuzz import SNOWFLAKE_SNS_LIMIT, load_raw

    reason = "\x01" * 2_000
    names = load_raw(
        warehouse,
        [[{"file_row_number": 1, "c01": "REGIAO:", "c02": "X" * 2_000}] for _ in range(1_000)],
    )
    assert warehouse.run_task() is not None
    # The rules' reasons are short; make them the worst case the view must still bound.
    warehouse.execute(f"UPDATE {warehouse.raw}.QUARANTINE SET reason = ?", [reason])
    warehouse.execute(f"DELETE FROM {warehouse.raw}.NOTIFICATIONS")
    warehouse.execute(f"UPDATE {warehouse.raw}.BATCHES SET status = 'loaded'")
    bodies = [
        str(r[0])
        for r in warehouse.execute(f"SELECT message FROM {warehouse.clean}.PENDING_NOTIFICATIONS")
    ]
    messages = [LoadNotification.parse(body) for body in bodies]
    sizes = [len(body.encode()) for body in bodies]
    assert max(sizes) < SNOWFLAKE_SNS_LIMIT
    announced = [q.file for m in messages for q in m.quarantined]
    assert sorted(announced) == sorted(f"raw/{n}" for n in names)
    assert {len(q.error) for m in messages for q in m.quarantined} == {500}
    assert {m.parts for m in messages} == {len(messages)}


@pytest.mark.parametrize(
    "form",
    ["relative to the stage", "with the stage's prefix", "as the stage's URL"],
)
def test_raw_keys_are_right_whatever_form_metadata_filename_takes(
    warehouse: LocalWarehouse, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """METADATA$FILENAME may or may not hold the stage's prefix (modules/keys.sql): the keys the
    export reads (FILE_LOADS.raw_key, UNPROCESSED_FILES, the messages) are the raw/ keys in each
    case (they became raw/raw/… with the prefix before)."""
    names = {
        "relative to the stage": warehouse.stage_file_name,
        "with the stage's prefix": lambda key: key,
        "as the stage's URL": lambda key: f"s3://{warehouse.values['bucket']}/{key}",
    }
    monkeypatch.setattr(warehouse, "stage_file_name", names[form])
    good = raw_object(small_file("B", station=1).data)
    bad = unchecked_object(
        crafted_files(small_file("B", station=0).data)["arabic_indic_latitude"].data
    )
    pending = raw_object(small_file("B", station=2, seed=2).data)
    warehouse.load_objects([good, bad])
    assert warehouse.run_task() is not None
    keys = {r[0] for r in warehouse.execute(f"SELECT raw_key FROM {warehouse.clean}.FILE_LOADS")}
    assert keys == {good[0]}
    messages = [LoadNotification.parse(m) for _, _, m in warehouse.pending_notifications()]
    assert [f for m in messages for f in m.files] == [good[0]]
    assert [q.file for m in messages for q in m.quarantined] == [bad[0]]
    warehouse.load_objects([pending])
    unprocessed = warehouse.execute(f"SELECT raw_key FROM {warehouse.clean}.UNPROCESSED_FILES")
    assert unprocessed == [(pending[0],)]
