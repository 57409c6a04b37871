"""The local warehouse gives the same tables whether it translates each long statement once
(inmet_local/emulator/fakesnow_cache.py, the default) or every time (fakesnow's own way): the
same batches, the second and third re-running every kept statement of the task on new rows,
into two servers, one each way; every table the task writes is compared whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.servers import ManagedProcess, fakesnow_server, fakesnow_server_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.synth.synth import generate_station_year
from inmet_local.synth.synth_stations import station_catalogue
from tests.integration.resources import load

pytestmark = [pytest.mark.integration]

# Every CLEAN table the task writes whose rows outlive it.
TABLES = (
    "CLEAN.OBSERVATIONS",
    "CLEAN.STATIONS",
    "CLEAN.STATION_YEARS",
    "CLEAN.QC_FLAGS",
    "CLEAN.DAILY",
    "CLEAN.FILE_LOADS",
    "CLEAN.BATCH_PARTITIONS",
)
# Left out: what holds the time of a run or of an upload, or a name made from it (the raw
# objects' keys hold their upload time); the hours themselves stay.
RUN_BOUND = {"batch_id", "source_file", "file_name", "raw_key"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, ManagedProcess]]:
    logs = tmp_path_factory.mktemp("logs")
    started = {
        once: fakesnow_server(translate_once=once, log_path=logs / f"fakesnow-{once}.log").start()
        for once in (True, False)
    }
    try:
        yield started
    finally:
        for server in started.values():
            server.stop()


def batches() -> list[list[bytes]]:
    stations = station_catalogue(4)
    return [
        [
            generate_station_year(st, 2023, seed=1, partial_until=date(2023, 2, 10)).data
            for st in stations[:2]
        ],
        [
            # A station's second version (other values), a new station, another year.
            generate_station_year(stations[0], 2023, seed=2, partial_until=date(2023, 2, 20)).data,
            generate_station_year(
                stations[2], 2024, seed=1, partial_until=date(2024, 1, 20), outlier_rate=0.05
            ).data,
        ],
        [
            generate_station_year(
                stations[3], 2023, seed=4, partial_until=date(2023, 1, 31), outlier_rate=0.05
            ).data,
            generate_station_year(stations[1], 2024, seed=1, partial_until=date(2024, 1, 3)).data,
        ],
    ]


def table_rows(wh: LocalWarehouse, table: str) -> list[tuple[Any, ...]]:
    schema, name = table.split(".")
    columns = [
        str(column).lower()
        for column, data_type in wh.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = '{schema}' AND table_name = '{name}' ORDER BY ordinal_position"
        )
        if not str(data_type).upper().startswith("TIMESTAMP")
        or str(column).lower().endswith("observed_at")
    ]
    kept = [c for c in columns if c not in RUN_BOUND]
    assert "station_id" in kept, (table, columns)
    rows = wh.execute(f"SELECT {', '.join(kept)} FROM {wh.clean}.{name}")
    return sorted(rows, key=repr)


def test_the_task_writes_the_same_tables_translating_once_or_every_time(
    servers: dict[bool, ManagedProcess], tmp_path: Path
) -> None:
    tables: dict[bool, dict[str, list[tuple[Any, ...]]]] = {}
    for once, server in servers.items():
        with LocalWarehouse(
            fakesnow_server_kwargs(server), work_dir=tmp_path / f"pipe-{once}"
        ) as wh:
            wh.deploy()
            for batch in batches():
                load(wh, *batch)
            tables[once] = {t: table_rows(wh, t) for t in TABLES}
    for table in TABLES:
        assert tables[True][table], f"{table} is empty: the comparison would prove nothing"
        assert tables[True][table] == tables[False][table], table
