"""The local warehouse runtime: what Snowflake does that fakesnow cannot, played on fakesnow.

fakesnow (server mode, reached with the real snowflake-connector-python) runs the project's
CREATE TABLE / VIEW / MERGE / QUALIFY … unchanged. It has no pipe, stream, task, notification
integration or external stage, so the local runtime emulates exactly those, one module each:

- **deploy** (here): renders snowflake_sql/ like schemachange, runs every statement fakesnow can
  run and reports the Snowflake-only ones it skips (roles, grants, integrations, external stages,
  the pipe, the stream, the task, the file format), then creates the two local stand-ins: the
  stream (a view over RAW restricted to files not yet consumed) and the pipe's load history.
- **pipe** (``inmet_local.emulator.pipe``, its rows built by ``inmet_local.emulator.copy_rows``):
the bucket's SQS
  queue → RAW, in bulk, skipping a file name it has loaded before.
- **task** (``inmet_local.emulator.task``): when the stream has data, the statements of
  snowflake_sql/task/process_batch.sql in one batch, setting aside the files that fail it.
- **notifier** (``inmet_local.emulator.notifier``): the due messages of RAW.NOTIFICATIONS_DUE to
the load
  topic, and load or task errors to the error topic in Snowflake's error-notification shape.

``LocalWarehouse`` is one connection (``inmet_local.emulator.warehouse_connection``) with the three
services attached (``.pipe``, ``.task``, ``.notifier``); callers reach them through those
attributes. Four operations that tests and benchmarks call dozens of times keep a short name
here: ``load_objects`` (a COPY of given objects), ``run_task``, ``pending_notifications`` and
``send_notifications``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import snowflake.connector

from inmet_local.emulator.copy_rows import RAW_FIELDS
from inmet_local.emulator.notifier import Notifier, pipe_error_message, task_error_message
from inmet_local.emulator.pipe import Pipe, PollResult, s3_event_keys
from inmet_local.emulator.task import Task, TaskRun
from inmet_local.emulator.warehouse_connection import WarehouseConnection, WarehouseError
from inmet_local.snowflake.sqlproject import (
    Statement,
    rendered_statements,
    snowflake_only_reason,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "RAW_FIELDS",
    "DeployReport",
    "LocalWarehouse",
    "PollResult",
    "TaskRun",
    "WarehouseError",
    "enforce_lengths",
    "pipe_error_message",
    "s3_event_keys",
    "task_error_message",
]


@dataclass(slots=True)
class DeployReport:
    ran: list[Statement] = field(default_factory=list)
    skipped: list[tuple[Statement, str]] = field(default_factory=list)

    def skipped_summary(self) -> str:
        """``14 statements (roles, grants, …)``: the kinds once each, in script order, and one
        count (a count per kind read as "1 file formats … 1 pipes")."""
        reasons = list(dict.fromkeys(reason for _, reason in self.skipped))
        count = len(self.skipped)
        noun = "statement" if count == 1 else "statements"
        return f"{count} {noun} ({'; '.join(reasons)})" if reasons else "nothing"


class LocalWarehouse(WarehouseConnection):
    """One connection to the fakesnow server and the emulated Snowflake services (made on first
    use; the connection's arguments are WarehouseConnection's)."""

    @cached_property
    def pipe(self) -> Pipe:
        return Pipe(self)

    @cached_property
    def task(self) -> Task:
        return Task(self)

    @cached_property
    def notifier(self) -> Notifier:
        return Notifier(self)

    # -- deploy -------------------------------------------------------------------------------
    def deploy(self) -> DeployReport:
        report = DeployReport()
        for statement in rendered_statements(self.values, self.sql_root):
            reason = snowflake_only_reason(statement.sql)
            if reason is not None:
                report.skipped.append((statement, reason))
                continue
            try:
                self.execute(statement.sql if self.live else enforce_lengths(statement.sql))
            except snowflake.connector.errors.Error as exc:
                raise WarehouseError(
                    f"{statement.script} statement {statement.index} "
                    f"({statement.first_line[:70]}) failed on fakesnow: {exc}"
                ) from exc
            report.ran.append(statement)
        for sql in self._emulation_ddl():
            self.execute(sql)
        return report

    def _emulation_ddl(self) -> list[str]:
        return [
            # The pipe's load history (Snowpipe skips a file name it has loaded).
            f"CREATE TABLE IF NOT EXISTS {self.raw}._LOCAL_PIPE_HISTORY ("
            "file_name VARCHAR NOT NULL, row_count NUMBER(10,0) NOT NULL, "
            "loaded_at TIMESTAMP_NTZ NOT NULL)",
            # The stream's offset: files loaded but not yet consumed by the task.
            f"CREATE TABLE IF NOT EXISTS {self.raw}._LOCAL_STREAM_PENDING ("
            "file_name VARCHAR NOT NULL)",
            # The stream: the RAW lines of those files (append-only, like APPEND_ONLY = TRUE).
            f"CREATE OR REPLACE VIEW {self.raw}.INMET_RAW_STREAM AS SELECT r.* FROM "
            f"{self.raw}.INMET_RAW r WHERE r.file_name IN (SELECT file_name FROM "
            f"{self.raw}._LOCAL_STREAM_PENDING)",
        ]

    # -- the services, by the names the callers use -----------------------------------------------
    def load_objects(
        self,
        objects: Sequence[tuple[str, bytes]],
        last_modified: Mapping[str, datetime] | None = None,
    ) -> tuple[list[str], int]:
        return self.pipe.load_objects(objects, last_modified)

    def run_task(self) -> TaskRun | None:
        return self.task.run()

    def pending_notifications(self) -> list[tuple[str, int, str]]:
        return self.notifier.pending()

    def send_notifications(self, publish: Callable[[str], object]) -> list[dict[str, Any]]:
        return self.notifier.send(publish)


_CREATE_TABLE = re.compile(r"^\s*CREATE\s+(TRANSIENT\s+)?TABLE\b", re.I)
_VARCHAR_N = re.compile(r"^(?P<lead>\s*)(?P<column>\w+) VARCHAR\((?P<n>\d+)\)", re.M)


def enforce_lengths(sql: str) -> str:
    """A CREATE TABLE whose VARCHAR(n) columns refuse longer strings, as Snowflake does
    ("String '…' is too long and would be truncated"), where DuckDB ignores the length. Only
    the local copy of the DDL changes: NUMBER(p,s) overflow and NOT NULL DuckDB already refuses
    as Snowflake does (tests/integration/test_warehouse.py shows all three)."""
    code = re.sub(r"^(\s*--[^\n]*\n)+", "", sql)
    if not _CREATE_TABLE.match(code):
        return sql
    return _VARCHAR_N.sub(
        lambda m: (
            f"{m['lead']}{m['column']} VARCHAR({m['n']}) CHECK (LENGTH({m['column']}) <= {m['n']})"
        ),
        sql,
    )
