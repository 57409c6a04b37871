"""The local warehouse's connection runs one statement at a time, whatever thread sends it.

The runtime's thread (pipe, task, notifier) and the CLI's thread (`inmet local run`'s summary)
share one session; the fakesnow server keeps one DuckDB cursor per session, and two statements
of a session at once mixed their results into an HTTP 500 ("schema and rowtype must be same
length", seen in `make demo` under load)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse_connection import WarehouseConnection

pytestmark = [pytest.mark.unit]


class OverlapRecorder:
    """A DB-API connection whose statements take a while and count how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.guard = threading.Lock()

    def cursor(self) -> Any:
        recorder = self

        class Cursor:
            def execute(self, _sql: str, _params: Any = None) -> None:
                with recorder.guard:
                    recorder.running += 1
                    recorder.most = max(recorder.most, recorder.running)
                time.sleep(0.01)
                with recorder.guard:
                    recorder.running -= 1

            def fetchall(self) -> list[tuple[Any, ...]]:
                return [(1,)]

            def close(self) -> None:
                return None

        return Cursor()


def test_statements_from_two_threads_run_one_at_a_time(tmp_path: Path) -> None:
    connection = WarehouseConnection(
        {},
        values={"database": "INMET", "raw_schema": "RAW", "clean_schema": "CLEAN"},
        work_dir=tmp_path,
    )
    recorder = OverlapRecorder()
    connection._conn = recorder

    def work() -> None:
        for _ in range(10):
            assert connection.scalar("SELECT 1") == 1

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert recorder.most == 1
