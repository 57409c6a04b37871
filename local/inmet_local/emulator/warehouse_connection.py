"""One connection to the local warehouse (the fakesnow server, or a live account for
`make test-snowflake`), with the names every emulated service uses.

The emulated services each take one: the pipe (``inmet_local.emulator.pipe``), the task
(``inmet_local.emulator.task``) and the notifier (``inmet_local.emulator.notifier``);
``LocalWarehouse`` (``inmet_local.emulator.warehouse``) is one and deploys snowflake_sql/ on it.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

import snowflake.connector

from inmet_local.snowflake.sqlproject import SQL_ROOT, variables


class WarehouseError(RuntimeError):
    pass


class WarehouseConnection:
    """The connection (opened on first use), the database's names and a work folder."""

    def __init__(
        self,
        connect_kwargs: Mapping[str, Any],
        *,
        values: Mapping[str, str] | None = None,
        work_dir: Path | None = None,
        sql_root: Path = SQL_ROOT,
        live: bool = False,
    ) -> None:
        """``live``: the connection is a real Snowflake account (`make test-snowflake`): the
        same deploy, loads and task statements, with the two things only fakesnow needs left
        out: the local length checks (Snowflake enforces VARCHAR(n) itself) and loading from a
        local file:// path (a real account gets the file by PUT to the table's stage)."""
        self.live = live
        self.values = dict(values or variables())
        self.db = self.values["database"]
        self.raw = f"{self.db}.{self.values['raw_schema']}"
        self.clean = f"{self.db}.{self.values['clean_schema']}"
        self.raw_prefix = self.values.get("raw_prefix", "raw/")
        self.sql_root = sql_root
        self._connect_kwargs = dict(connect_kwargs)
        self._conn: Any = None
        # One session, one statement at a time. The runtime's thread (pipe, task, notifier)
        # and the CLI's thread (`inmet local run`'s summary, status queries) share this
        # connection; the fakesnow server keeps one DuckDB cursor per session, and two
        # statements of one session at once mix their results ("schema and rowtype must be
        # same length", an HTTP 500). Snowflake itself runs a session's statements in turn.
        self._lock = threading.RLock()
        self._own_tmp: tempfile.TemporaryDirectory[str] | None = None
        if work_dir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix="inmet-pipe-")
            work_dir = Path(self._own_tmp.name)
        self.work_dir = work_dir
        self.work_dir.mkdir(parents=True, exist_ok=True)

    # -- connection ---------------------------------------------------------------------------
    @property
    def conn(self) -> Any:
        with self._lock:
            if self._conn is None:
                self._conn = snowflake.connector.connect(**self._connect_kwargs)
            return self._conn

    def close(self) -> None:
        with self._lock:  # not while another thread's statement runs
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
            self._own_tmp = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._execute(sql, params)

    def _execute(self, sql: str, params: Iterable[Any] | None) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, list(params) if params is not None else None)
            try:
                return list(cursor.fetchall())
            except snowflake.connector.errors.Error:
                return []
        finally:
            cursor.close()

    def scalar(self, sql: str, params: Iterable[Any] | None = None) -> Any:
        rows = self.execute(sql, params)
        return rows[0][0] if rows else None

    def stage_file_name(self, key: str) -> str:
        """METADATA$FILENAME: the object key relative to the raw stage's URL."""
        return key[len(self.raw_prefix) :] if key.startswith(self.raw_prefix) else key
