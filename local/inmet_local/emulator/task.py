"""The task, emulated: PROCESS_RAW, run when the stream has data.

Runs the statements of snowflake_sql/task/process_batch.sql — the same text the Snowflake task
includes — and advances the stream (RAW._LOCAL_STREAM_PENDING) after the capture. The stream
itself is a view over RAW restricted to the pending files (``LocalWarehouse.deploy`` creates it).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

import snowflake.connector

from inmet_local.emulator.warehouse_connection import WarehouseConnection, WarehouseError
from inmet_local.snowflake.sqlproject import TASK_BODY, render, split_statements

log = logging.getLogger("inmet.warehouse")


@dataclass(frozen=True, slots=True)
class TaskRun:
    batch_id: str
    files: int
    seconds: float
    step_seconds: tuple[tuple[str, float], ...] = ()


class Task:
    """The task of one warehouse connection."""

    def __init__(self, wh: WarehouseConnection) -> None:
        self.wh = wh

    def stream_has_data(self) -> bool:
        """SYSTEM$STREAM_HAS_DATA."""
        return bool(self.wh.scalar(f"SELECT COUNT(*) FROM {self.wh.raw}._LOCAL_STREAM_PENDING"))

    def statements(self) -> list[str]:
        return split_statements(render(TASK_BODY, self.wh.values, self.wh.sql_root))

    def run(self) -> TaskRun | None:
        """One run of PROCESS_RAW, or None when the stream is empty (the task would not run).

        When the warehouse refuses the batch (a statement's own error, not an outage), the
        files that cause it are found by halving the batch, set aside in RAW.QUARANTINE with
        that error, and the rest loads (issue 15): one bad file never stops the others. (The
        Snowflake task does the same in its exception handler, R__task.sql, one file at a time
        inside rolled-back transactions; here the halves that load are committed as batches of
        their own, since fakesnow cannot roll a MERGE back.)"""
        if not self.stream_has_data():
            return None
        try:
            return self._run_batch()
        except REFUSALS as exc:
            log.warning("the task failed; isolating the files that fail it: %s", exc)
        started = time.perf_counter()
        files = [str(r[0]) for r in self.wh.execute(
            f"SELECT DISTINCT file_name FROM {self.wh.raw}._LOCAL_STREAM_PENDING ORDER BY 1"
        )]  # fmt: skip
        runs: list[TaskRun] = []
        bad = self._isolate(files, runs)
        if bad:
            marks = ", ".join("(?, 'isolated', ?, SYSDATE())" for _ in bad)
            self.wh.execute(
                f"INSERT INTO {self.wh.raw}.QUARANTINE "
                f"(file_name, batch_id, reason, quarantined_at) VALUES {marks}",
                [v for name, error in bad.items() for v in (name, error)],
            )
            # A batch of the set-aside files alone: it records them and announces them.
            runs.append(self._run_batch())
        last = runs[-1]
        return TaskRun(
            last.batch_id,
            sum(r.files for r in runs),
            time.perf_counter() - started,
            last.step_seconds,
        )

    def _isolate(self, files: list[str], runs: list[TaskRun]) -> dict[str, str]:
        """Load what loads of ``files`` (a failing batch), halving it; the files that fail
        alone, with the warehouse's error."""
        bad: dict[str, str] = {}
        todo = [files[: len(files) // 2], files[len(files) // 2 :]]
        while todo:
            part = todo.pop()
            if not part:
                continue
            error = self._trial(part, runs)
            if error is None:
                continue
            if len(part) == 1:
                bad[part[0]] = error
            else:
                todo += [part[: len(part) // 2], part[len(part) // 2 :]]
        return bad

    def _trial(self, files: list[str], runs: list[TaskRun]) -> str | None:
        """Run the task on ``files`` only (the others held back): None, or its error."""
        held = f"{self.wh.raw}._LOCAL_STREAM_HELD"
        pending = f"{self.wh.raw}._LOCAL_STREAM_PENDING"
        marks = ", ".join("?" for _ in files)
        self.wh.execute(f"CREATE TABLE IF NOT EXISTS {held} (file_name VARCHAR NOT NULL)")
        self.wh.execute(
            f"INSERT INTO {held} SELECT file_name FROM {pending} WHERE file_name NOT IN ({marks})",
            files,
        )
        self.wh.execute(f"DELETE FROM {pending} WHERE file_name NOT IN ({marks})", files)
        try:
            runs.append(self._run_batch())
            return None
        except REFUSALS as exc:
            return str(exc)
        finally:
            self.wh.execute(f"INSERT INTO {pending} SELECT file_name FROM {held}")
            self.wh.execute(f"DELETE FROM {held}")

    def _run_batch(self) -> TaskRun:
        started = time.perf_counter()
        # Snowflake runs these in one transaction. fakesnow cannot run a MERGE inside an
        # explicit transaction, so they run in autocommit here, and a failure is undone by
        # hand: the batch is dropped and the stream is advanced only after the last statement.
        # Every statement is an idempotent upsert, so the next run redoes the batch cleanly.
        statements = self.statements()
        batch_id: str | None = None
        steps: list[tuple[str, float]] = []
        try:
            for sql in statements:
                step_started = time.perf_counter()
                self.wh.execute(sql)
                steps.append((step_name(sql), time.perf_counter() - step_started))
                if batch_id is None:
                    batch_id = self.wh.scalar(
                        f"SELECT batch_id FROM {self.wh.raw}.BATCHES WHERE status = 'open'"
                    )
            if batch_id is None:
                raise WarehouseError("the task did not open a batch")
            files = int(
                self.wh.scalar(
                    f"SELECT COUNT(*) FROM {self.wh.raw}.BATCH_FILES WHERE batch_id = ?",
                    [batch_id],
                )
            )
            self.wh.execute(
                f"DELETE FROM {self.wh.raw}._LOCAL_STREAM_PENDING WHERE file_name IN ("
                f"SELECT file_name FROM {self.wh.raw}.BATCH_FILES WHERE batch_id = ?)",
                [batch_id],
            )
        except Exception:
            self._undo_batch(batch_id)
            raise
        return TaskRun(batch_id, files, time.perf_counter() - started, tuple(steps))

    def _undo_batch(self, batch_id: str | None) -> None:
        with contextlib.suppress(Exception):
            if batch_id is not None:
                for table in (
                    f"{self.wh.raw}.BATCH_FILES",
                    f"{self.wh.clean}.BATCH_PARTITIONS",
                    f"{self.wh.raw}.QUARANTINE",
                ):
                    self.wh.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id])
                self.wh.execute(f"DELETE FROM {self.wh.raw}.BATCHES WHERE batch_id = ?", [batch_id])


# The warehouse refusing a statement for its data or its SQL (not an outage): what makes the task
# isolate the files that cause it.
REFUSALS = (
    snowflake.connector.errors.ProgrammingError,
    snowflake.connector.errors.IntegrityError,
    snowflake.connector.errors.DataError,
)


def step_name(sql: str) -> str:
    """The numbered comment that heads each task statement, else its first code line."""
    for line in sql.splitlines():
        text = line.strip()
        if text.startswith("-- ") and text[3:4].isdigit():
            return text[3:]
    return next(
        (ln.strip() for ln in sql.splitlines() if ln.strip() and not ln.strip().startswith("--")),
        "",
    )[:60]
