"""The local warehouse runtime: what Snowflake does that fakesnow cannot, played on fakesnow.

fakesnow (server mode, reached with the real snowflake-connector-python) runs the project's
CREATE TABLE / VIEW / MERGE / QUALIFY … unchanged. It has no pipe, stream, task, notification
integration or external stage, so this module emulates exactly those:

- **deploy**: renders snowflake_sql/ like schemachange, runs every statement fakesnow can run and
  reports the Snowflake-only ones it skips (roles, grants, integrations, external stages, the
  pipe, the stream, the task, the file format), then creates the two local stand-ins: the
  stream (a view over RAW restricted to files not yet consumed) and the pipe's load history.
- **pipe poller**: the bucket's SQS queue (S3 event notifications, as Snowpipe gets them) → the
  rows the pipe's COPY produces (one per line; fields split on ';' with no quoting; empty
  fields NULL; METADATA$FILENAME relative to the stage; METADATA$FILE_ROW_NUMBER from 1), in
  bulk: one COPY INTO per chunk of files (an Arrow-built Parquet file), never row by row; the
  next chunk is fetched while one loads. Like Snowpipe it skips
  a file name it has loaded before.
- **task runner**: when the stream has data, runs the statements of snowflake_sql/task/
  process_batch.sql — the same text the Snowflake task includes — in one transaction, and
  advances the stream after the capture.
- **notifier**: publishes each pending message of the PENDING_NOTIFICATIONS view to the load
  topic, as SYSTEM$SEND_SNOWFLAKE_NOTIFICATION does, and load or task errors to the error topic
  in Snowflake's error-notification shape.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import snowflake.connector

from inmet_local.sqlproject import (
    SQL_ROOT,
    TASK_BODY,
    Statement,
    render,
    rendered_statements,
    snowflake_only_reason,
    split_statements,
    variables,
)

log = logging.getLogger("inmet.warehouse")

RAW_FIELDS = 20  # INMET's 19 columns and the empty field after the trailing ';'
_COLUMNS = ", ".join(f"c{i:02d}" for i in range(1, RAW_FIELDS + 1))


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


@dataclass(slots=True)
class PollResult:
    files_loaded: list[str] = field(default_factory=list)  # raw/ keys
    files_skipped: list[str] = field(default_factory=list)  # already loaded (pipe history)
    rows_loaded: int = 0
    messages: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (key, message)
    seconds: float = 0.0  # from the first message received to the load's end


@dataclass(frozen=True, slots=True)
class TaskRun:
    batch_id: str
    files: int
    seconds: float
    step_seconds: tuple[tuple[str, float], ...] = ()


class WarehouseError(RuntimeError):
    pass


def _pad_lines(data: bytes) -> bytes:
    """Each line with exactly RAW_FIELDS fields: short lines padded with empty fields (NULL, as
    Snowflake reads a short line with ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE), extra fields
    dropped (the pipe's COPY selects $1..$20)."""
    out = []
    for line in data.split(b"\n"):
        separators = line.count(b";")
        if separators >= RAW_FIELDS:
            line = b";".join(line.split(b";")[:RAW_FIELDS])
            separators = RAW_FIELDS - 1
        out.append(line + b";" * (RAW_FIELDS - 1 - separators))
    return b"\n".join(out)


def _copy_rows_table(files: list[tuple[str, bytes, datetime]], loaded_at: datetime) -> Any:
    """The rows the pipe's COPY makes of ``files`` [(METADATA$FILENAME, bytes,
    METADATA$FILE_LAST_MODIFIED)], as an Arrow table with RAW's columns; ``loaded_at`` is
    METADATA$START_SCAN_TIME. Built in bulk by Arrow's CSV reader; only the short metadata
    lines (and any malformed line) are padded in Python."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    chunks: list[bytes] = []
    names: list[str] = []
    counts: list[int] = []
    modified: list[datetime] = []
    full = RAW_FIELDS - 1
    for name, raw, last_modified in files:
        data = raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw
        if data.endswith(b"\n"):
            data = data[:-1]  # the final line end does not start a record
        if not data:
            continue
        parts = data.split(b"\n", 9)
        body = parts[9] if len(parts) == 10 else b""
        if body and body.count(b";") == full * (body.count(b"\n") + 1):
            chunk = _pad_lines(b"\n".join(parts[:9])) + b"\n" + body
        else:
            chunk = _pad_lines(data)
        chunks.append(chunk)
        names.append(name)
        modified.append(last_modified)
        counts.append(data.count(b"\n") + 1)
    if not chunks:
        return None
    blob = b"\n".join(chunks) + b"\n"
    columns = [f"c{i:02d}" for i in range(1, RAW_FIELDS + 1)]
    table = pacsv.read_csv(
        pa.py_buffer(blob),
        read_options=pacsv.ReadOptions(column_names=columns, block_size=64 << 20),
        parse_options=pacsv.ParseOptions(
            delimiter=";",
            quote_char=False,
            escape_char=False,
            double_quote=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=True,
            null_values=["", "\\N"],
            quoted_strings_can_be_null=True,
        ),
    )
    import numpy as np

    sizes = np.asarray(counts, dtype=np.int64)
    file_index = pa.array(np.repeat(np.arange(len(sizes), dtype=np.int32), sizes))
    file_name = pa.DictionaryArray.from_arrays(file_index, pa.array(names, pa.string()))
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    row_number = pa.array(np.arange(int(sizes.sum()), dtype=np.int64) - starts + 1)
    table = table.add_column(0, "file_name", file_name.cast(pa.string()))
    table = table.add_column(1, "file_row_number", row_number)
    last_modified = pa.array(modified, pa.timestamp("us")).take(file_index)
    table = table.append_column("file_last_modified", last_modified)
    return table.append_column(
        "loaded_at",
        pa.repeat(
            pa.scalar(loaded_at.replace(tzinfo=UTC), pa.timestamp("us", "UTC")), table.num_rows
        ),
    )


class LocalWarehouse:
    """One connection to the fakesnow server and the emulated Snowflake services."""

    # Files per COPY when a poll brings many: big enough for bulk loading, small enough that
    # fetching the next chunk overlaps loading this one.
    load_chunk = 96

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
        self._own_tmp: tempfile.TemporaryDirectory[str] | None = None
        if work_dir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix="inmet-pipe-")
            work_dir = Path(self._own_tmp.name)
        self.work_dir = work_dir
        self.work_dir.mkdir(parents=True, exist_ok=True)

    # -- connection ---------------------------------------------------------------------------
    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = snowflake.connector.connect(**self._connect_kwargs)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
            self._own_tmp = None

    def __enter__(self) -> LocalWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple[Any, ...]]:
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

    # -- pipe ---------------------------------------------------------------------------------
    def stage_file_name(self, key: str) -> str:
        """METADATA$FILENAME: the object key relative to the raw stage's URL."""
        return key[len(self.raw_prefix) :] if key.startswith(self.raw_prefix) else key

    def loaded_file_names(self, names: Iterable[str]) -> set[str]:
        names = list(names)
        if not names:
            return set()
        marks = ", ".join("?" for _ in names)
        rows = self.execute(
            f"SELECT file_name FROM {self.raw}._LOCAL_PIPE_HISTORY WHERE file_name IN ({marks})",
            names,
        )
        return {r[0] for r in rows}

    def load_objects(
        self,
        objects: Sequence[tuple[str, bytes]],
        last_modified: Mapping[str, datetime] | None = None,
    ) -> tuple[list[str], int]:
        """Load (key, bytes) objects like the pipe: one bulk COPY for all of them.

        ``last_modified`` holds each key's S3 LastModified (METADATA$FILE_LAST_MODIFIED, the
        order of uploads); a key without one counts as written now. Returns the keys loaded and
        the number of RAW rows. (The poller consults the load history first; this method loads
        what it is given.)
        """
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        stamps = last_modified or {}
        table = _copy_rows_table(
            [
                (
                    self.stage_file_name(key),
                    data,
                    stamps[key].astimezone(UTC).replace(tzinfo=None)
                    if key in stamps
                    else loaded_at,
                )
                for key, data in objects
            ],
            loaded_at,
        )
        if table is None:
            return [], 0
        parquet = self.work_dir / f"pipe-{uuid.uuid4().hex}.parquet"
        try:
            import pyarrow.parquet as pq

            # Uncompressed, no statistics, dictionary only for the file name: the file is read
            # once, next door, so writing it fast matters more than its size (1.1 s instead of
            # 2.3 s for a year of 564 stations).
            pq.write_table(
                table,
                parquet,
                compression="none",
                use_dictionary=["file_name"],
                write_statistics=False,
            )
            # No explicit transaction: fakesnow cannot write RAW and its own load history in
            # one. If a step after the COPY fails, the file is loaded again by the next poll
            # and the task reads only its latest load.
            if self.live:
                # A real account reads the file from the table's own stage ("Choosing an
                # internal stage for local files": @%<table>), then drops it (PURGE).
                stage = f"@{self.raw}.%INMET_RAW"
                self.execute(f"PUT 'file://{parquet}' '{stage}' AUTO_COMPRESS = FALSE")
                source = stage
            else:
                source = f"'file://{self.work_dir}/'"
            self.execute(
                f"COPY INTO {self.raw}.INMET_RAW FROM {source} "
                f"FILES = ('{parquet.name}') FILE_FORMAT = (TYPE = PARQUET) "
                "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" + (" PURGE = TRUE" if self.live else "")
            )
        finally:
            parquet.unlink(missing_ok=True)
        counts = table.group_by("file_name").aggregate([("file_row_number", "count")])
        pairs = list(
            zip(
                counts.column("file_name").to_pylist(),
                counts.column("file_row_number_count").to_pylist(),
                strict=True,
            )
        )
        stamp = loaded_at.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.execute(
            f"INSERT INTO {self.raw}._LOCAL_PIPE_HISTORY (file_name, row_count, loaded_at) VALUES "
            + ", ".join("(?, ?, ?)" for _ in pairs),
            [v for name, n in pairs for v in (name, n, stamp)],
        )
        self.execute(
            f"INSERT INTO {self.raw}._LOCAL_STREAM_PENDING (file_name) VALUES "
            + ", ".join("(?)" for _ in pairs),
            [name for name, _ in pairs],
        )
        return [key for key, _ in objects], int(table.num_rows)

    def poll_pipe(
        self,
        sqs: Any,
        queue_url: str,
        s3: Any,
        bucket: str,
        *,
        wait_seconds: int = 0,
        max_files: int = 1000,
        max_receives: int = 1000,
    ) -> PollResult:
        """Drain the pipe's queue and load what it announces, in bulk.

        Messages are collected until the queue is empty or ``max_files`` keys are pending; the
        new files are then loaded in chunks of ``load_chunk`` (one COPY each) and the messages
        deleted (a failure leaves them in the queue for the next poll: at-least-once, like S3's
        events).
        """
        result = PollResult()
        started = time.perf_counter()
        pending: list[dict[str, Any]] = []
        keys: list[str] = []
        for _ in range(max_receives):
            response = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            )
            messages = response.get("Messages", [])
            if not messages:
                break
            if not pending:
                started = time.perf_counter()
            wait_seconds = 0
            pending.extend(messages)
            for message in messages:
                keys.extend(
                    k for k in s3_event_keys(message["Body"]) if k.startswith(self.raw_prefix)
                )
            if len(keys) >= max_files:
                break
        result.messages = len(pending)
        if not pending:
            return result
        unique = list(dict.fromkeys(keys))
        already = self.loaded_file_names(self.stage_file_name(k) for k in unique)
        todo = [k for k in unique if self.stage_file_name(k) not in already]
        result.files_skipped = [k for k in unique if k not in todo]
        # Fetching (Python, holds the GIL) overlaps loading (Arrow's parser and the warehouse's
        # COPY, which do not): each chunk is loaded by one background thread while the next is
        # fetched. A failed load re-raises below, before any message is deleted.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipe-load") as loader:
            loads: list[Future[tuple[list[str], int]]] = []
            fetched: list[tuple[str, bytes]] = []
            modified: dict[str, datetime] = {}
            for key in todo:
                try:
                    response = s3.get_object(Bucket=bucket, Key=key)
                    fetched.append((key, response["Body"].read()))
                    modified[key] = response["LastModified"]
                except Exception as exc:  # a vanished object is the pipe's "file not found"
                    result.errors.append((key, f"Remote file '{key}' was not found: {exc}"))
                if len(fetched) >= self.load_chunk:
                    loads.append(loader.submit(self.load_objects, fetched, modified))
                    fetched, modified = [], {}
            if fetched:
                loads.append(loader.submit(self.load_objects, fetched, modified))
            for load in loads:
                loaded, rows = load.result()
                result.files_loaded += loaded
                result.rows_loaded += rows
        for start in range(0, len(pending), 10):
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(pending[start : start + 10])
                ],
            )
        result.seconds = time.perf_counter() - started
        return result

    # -- task ---------------------------------------------------------------------------------
    def stream_has_data(self) -> bool:
        """SYSTEM$STREAM_HAS_DATA."""
        return bool(self.scalar(f"SELECT COUNT(*) FROM {self.raw}._LOCAL_STREAM_PENDING"))

    def task_statements(self) -> list[str]:
        return split_statements(render(TASK_BODY, self.values, self.sql_root))

    def run_task(self) -> TaskRun | None:
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
        except _REFUSALS as exc:
            log.warning("the task failed; isolating the files that fail it: %s", exc)
        started = time.perf_counter()
        files = [str(r[0]) for r in self.execute(
            f"SELECT DISTINCT file_name FROM {self.raw}._LOCAL_STREAM_PENDING ORDER BY 1"
        )]  # fmt: skip
        runs: list[TaskRun] = []
        bad = self._isolate(files, runs)
        if bad:
            marks = ", ".join("(?, 'isolated', ?, SYSDATE())" for _ in bad)
            self.execute(
                f"INSERT INTO {self.raw}.QUARANTINE (file_name, batch_id, reason, quarantined_at) "
                f"VALUES {marks}",
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
        held = f"{self.raw}._LOCAL_STREAM_HELD"
        pending = f"{self.raw}._LOCAL_STREAM_PENDING"
        marks = ", ".join("?" for _ in files)
        self.execute(f"CREATE TABLE IF NOT EXISTS {held} (file_name VARCHAR NOT NULL)")
        self.execute(
            f"INSERT INTO {held} SELECT file_name FROM {pending} WHERE file_name NOT IN ({marks})",
            files,
        )
        self.execute(f"DELETE FROM {pending} WHERE file_name NOT IN ({marks})", files)
        try:
            runs.append(self._run_batch())
            return None
        except _REFUSALS as exc:
            return str(exc)
        finally:
            self.execute(f"INSERT INTO {pending} SELECT file_name FROM {held}")
            self.execute(f"DELETE FROM {held}")

    def _run_batch(self) -> TaskRun:
        started = time.perf_counter()
        # Snowflake runs these in one transaction. fakesnow cannot run a MERGE inside an
        # explicit transaction, so they run in autocommit here, and a failure is undone by
        # hand: the batch is dropped and the stream is advanced only after the last statement.
        # Every statement is an idempotent upsert, so the next run redoes the batch cleanly.
        statements = self.task_statements()
        batch_id: str | None = None
        steps: list[tuple[str, float]] = []
        try:
            for sql in statements:
                step_started = time.perf_counter()
                self.execute(sql)
                steps.append((_step_name(sql), time.perf_counter() - step_started))
                if batch_id is None:
                    batch_id = self.scalar(
                        f"SELECT batch_id FROM {self.raw}.BATCHES WHERE status = 'open'"
                    )
            if batch_id is None:
                raise WarehouseError("the task did not open a batch")
            files = int(
                self.scalar(
                    f"SELECT COUNT(*) FROM {self.raw}.BATCH_FILES WHERE batch_id = ?", [batch_id]
                )
            )
            self.execute(
                f"DELETE FROM {self.raw}._LOCAL_STREAM_PENDING WHERE file_name IN ("
                f"SELECT file_name FROM {self.raw}.BATCH_FILES WHERE batch_id = ?)",
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
                    f"{self.raw}.BATCH_FILES",
                    f"{self.clean}.BATCH_PARTITIONS",
                    f"{self.raw}.QUARANTINE",
                ):
                    self.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id])
                self.execute(f"DELETE FROM {self.raw}.BATCHES WHERE batch_id = ?", [batch_id])

    # -- notifications ------------------------------------------------------------------------
    def replay_notification(self, raw_keys: Sequence[str]) -> str | None:
        """A load notification for files loaded before (the pipe skipped them again).

        In AWS a re-upload of identical bytes never reaches the pipe (the upload answers 200).
        Locally the status table does not survive a restart while the warehouse does, so the
        runtime announces such files once more; the export is idempotent.
        """
        names = [self.stage_file_name(k) for k in raw_keys]
        if not names:
            return None
        marks = ", ".join("?" for _ in names)
        files = self.execute(
            f"SELECT raw_key, station_id, year FROM {self.clean}.FILE_LOADS "
            f"WHERE file_name IN ({marks}) ORDER BY raw_key",
            names,
        )
        if not files:
            return None
        partitions = []
        for station_id, year in sorted({(s, y) for _, s, y in files if s and y}):
            rows = self.scalar(
                f"SELECT COUNT(*) FROM {self.clean}.OBSERVATIONS WHERE station_id = ? AND "
                "observed_at >= ? AND observed_at < ?",
                [station_id, f"{int(year):04d}-01-01", f"{int(year) + 1:04d}-01-01"],
            )
            partitions.append({"station_id": station_id, "year": int(year), "rows": int(rows)})
        return json.dumps(
            {
                "event": "inmet.clean.loaded",
                "batch_id": f"replay-{uuid.uuid4()}",
                "files": [f[0] for f in files],
                "partitions": partitions,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )

    def pending_notifications(self) -> list[tuple[str, int, str]]:
        """RAW.NOTIFICATIONS_DUE: (batch_id, part, message) to send now."""
        rows = self.execute(
            f"SELECT batch_id, part, message FROM {self.raw}.NOTIFICATIONS_DUE "
            "ORDER BY batch_id, part"
        )
        return [(str(b), int(p), str(m)) for b, p, m in rows]

    def send_notifications(self, publish: Callable[[str], object]) -> list[dict[str, Any]]:
        """What the task's scripting block and the sweep task do (task/send_notifications.sql):
        SYSTEM$SEND_SNOWFLAKE_NOTIFICATION for each due message, counting the send. A message
        stays due until the export acknowledges it (CLEAN.EXPORT_ACKS), so one whose delivery
        was lost is sent again after notification_resend_minutes. Returns the messages sent."""
        sent = []
        for batch_id, part, message in self.pending_notifications():
            try:
                publish(message)
            except Exception as exc:  # as the scripting block's handler: counted, sent later
                log.warning("load notification %s/%s not sent: %s", batch_id, part, exc)
            else:
                sent.append(json.loads(message))
            self.execute(
                f"UPDATE {self.raw}.NOTIFICATIONS SET sends = sends + 1, last_sent_at = SYSDATE() "
                "WHERE batch_id = ? AND part = ?",
                [batch_id, part],
            )
        return sent


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


# The warehouse refusing a statement for its data or its SQL (not an outage): what makes the task
# isolate the files that cause it.
_REFUSALS = (
    snowflake.connector.errors.ProgrammingError,
    snowflake.connector.errors.IntegrityError,
    snowflake.connector.errors.DataError,
)


def _step_name(sql: str) -> str:
    """The numbered comment that heads each task statement, else its first code line."""
    for line in sql.splitlines():
        text = line.strip()
        if text.startswith("-- ") and text[3:4].isdigit():
            return text[3:]
    return next(
        (ln.strip() for ln in sql.splitlines() if ln.strip() and not ln.strip().startswith("--")),
        "",
    )[:60]


def s3_event_keys(body: str) -> Iterator[str]:
    """Object keys of an S3 event notification (keys arrive URL-encoded, spaces as '+')."""
    try:
        payload = json.loads(body)
    except ValueError:
        return
    if isinstance(payload, dict) and "Message" in payload and "Records" not in payload:
        # Delivered through SNS: the S3 event is the SNS message.
        with contextlib.suppress(ValueError, TypeError):
            payload = json.loads(payload["Message"])
    for record in payload.get("Records", []) if isinstance(payload, dict) else []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        key = record.get("s3", {}).get("object", {}).get("key")
        if key:
            yield unquote_plus(key)


def _error_envelope(message_type: str, **fields: Any) -> str:
    """The fields every Snowflake ERROR_INTEGRATION message carries, plus ``fields``."""
    return json.dumps(
        {
            "version": "1.0",
            "messageId": str(uuid.uuid4()),
            "messageType": message_type,
            "timestamp": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "accountName": "LOCAL",
            **fields,
        }
    )


def pipe_error_message(values: Mapping[str, str], key: str, error: str) -> str:
    """A Snowpipe ERROR_INTEGRATION message (INGEST_FAILED_FILE), in Snowflake's shape."""
    schema = f"{values['database']}.{values['raw_schema']}"
    return _error_envelope(
        "INGEST_FAILED_FILE",
        pipeName=f"{schema}.INMET_PIPE",
        tableName=f"{schema}.INMET_RAW",
        stageLocation=f"s3://{values.get('bucket', 'local')}/{values.get('raw_prefix', 'raw/')}",
        messages=[{"fileName": key, "firstError": error}],
    )


def task_error_message(values: Mapping[str, str], error: str) -> str:
    """A task ERROR_INTEGRATION message (USER_TASK_FAILED), in Snowflake's shape."""
    task = f"{values['database']}.{values['raw_schema']}.PROCESS_RAW"
    return _error_envelope(
        "USER_TASK_FAILED",
        taskName=task,
        taskId="local",
        rootTaskName=task,
        rootTaskId="local",
        messages=[
            {
                "runId": datetime.now(UTC).isoformat(),
                "scheduledTime": None,
                "queryId": None,
                "errorCode": "100000",
                "errorMessage": error,
            }
        ],
    )
