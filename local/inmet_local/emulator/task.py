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

        The transform is total (no content of RAW makes a statement fail; the files that break
        a rule are set aside in RAW.QUARANTINE by the statements themselves), so an error here
        is the warehouse's, not a file's: as on Snowflake, the batch is undone, the stream is
        left as it was, and the error is raised (the runtime reports it as the task's error
        notification); the next run retries the whole batch."""
        if not self.stream_has_data():
            return None
        self.undo_interrupted()
        return self._run_batch()

    def undo_interrupted(self) -> list[str]:
        """Undo every batch a run began and did not finish; their ids.

        On Snowflake the task's statements are one transaction: "all statements in the
        transaction are either applied (committed) or undone (rolled back) together"
        (https://docs.snowflake.com/en/sql-reference/transactions), so a run cut short leaves
        nothing. Here they run one by one (see ``_run_batch``): a process killed between two of
        them (``kill -9``, a closed laptop lid, a crash) leaves its batch ``open`` or
        ``loaded``, and the next run's statements, written for one open batch, would take the
        leftover's files along with their own: each line twice, the station metadata no longer
        one line each, every file of both set aside as "incomplete" (RAW.QUARANTINE) and its
        upload marked ``failed`` although nothing is wrong with it. Runs never overlap (one
        runner per warehouse: the stack's data dir is locked), so a batch not ``queued`` when a
        run begins is such a leftover. Its files are still in the stream (the stream advances
        only after the last statement): the run that follows takes them again, whole."""
        rows = self.wh.execute(
            f"SELECT batch_id FROM {self.wh.raw}.BATCHES WHERE status <> 'queued' ORDER BY 1"
        )
        batch_ids = [str(batch_id) for (batch_id,) in rows]
        for batch_id in batch_ids:
            log.warning("undoing batch %s, left unfinished by an interrupted task run", batch_id)
            self._delete_batch(batch_id)
        return batch_ids

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
        """After a statement failed. Should this undo fail too, the batch is still not
        ``queued``, and the next run's ``undo_interrupted`` finishes it."""
        with contextlib.suppress(Exception):
            if batch_id is not None:
                self._delete_batch(batch_id)

    def _delete_batch(self, batch_id: str) -> None:
        """Everything the task's statements wrote under ``batch_id`` that the next run would
        read as this batch's: its files, partitions, set-aside files and queued messages, and
        its row in BATCHES last (while it exists, the batch is still found unfinished). What
        the upserts wrote to CLEAN stays; the next run writes the same rows again."""
        for table in (
            f"{self.wh.raw}.BATCH_FILES",
            f"{self.wh.clean}.BATCH_PARTITIONS",
            f"{self.wh.raw}.QUARANTINE",
            f"{self.wh.raw}.NOTIFICATIONS",
        ):
            self.wh.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id])
        self.wh.execute(f"DELETE FROM {self.wh.raw}.BATCHES WHERE batch_id = ?", [batch_id])


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
