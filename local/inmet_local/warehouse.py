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
  bulk: one COPY INTO per poll from a local CSV file, never row by row. Like Snowpipe it skips
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
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
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
        reasons: dict[str, int] = {}
        for _, reason in self.skipped:
            reasons[reason] = reasons.get(reason, 0) + 1
        return ", ".join(f"{n} {reason}" for reason, n in reasons.items())


@dataclass(slots=True)
class PollResult:
    files_loaded: list[str] = field(default_factory=list)  # raw/ keys
    files_skipped: list[str] = field(default_factory=list)  # already loaded (pipe history)
    rows_loaded: int = 0
    messages: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (key, message)


@dataclass(frozen=True, slots=True)
class TaskRun:
    batch_id: str
    files: int
    seconds: float


class WarehouseError(RuntimeError):
    pass


def _raw_lines_to_copy_rows(
    file_name: str, data: bytes, loaded_at: bytes, out: Callable[[bytes], object]
) -> int:
    """Write the rows the pipe's COPY makes of ``data`` as ';'-separated lines to ``out``.

    Each output line: file_name; row number; the line's first 20 fields, padded with empty
    fields (NULL, as for a short line in Snowflake); the load time.
    """
    prefix = file_name.encode("utf-8") + b";"
    suffix = b";" + loaded_at + b"\n"
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final line end does not start a record
    for number, line in enumerate(lines, start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        separators = line.count(b";")
        if separators >= RAW_FIELDS:
            line = b";".join(line.split(b";")[:RAW_FIELDS])
            separators = RAW_FIELDS - 1
        out(
            prefix
            + str(number).encode()
            + b";"
            + line
            + b";" * (RAW_FIELDS - 1 - separators)
            + suffix
        )
    return len(lines)


class LocalWarehouse:
    """One connection to the fakesnow server and the emulated Snowflake services."""

    def __init__(
        self,
        connect_kwargs: Mapping[str, Any],
        *,
        values: Mapping[str, str] | None = None,
        work_dir: Path | None = None,
        sql_root: Path = SQL_ROOT,
    ) -> None:
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
                self.execute(statement.sql)
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
            "file_name VARCHAR NOT NULL, rows NUMBER(10,0) NOT NULL, "
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

    def load_objects(self, objects: Iterable[tuple[str, bytes]]) -> tuple[list[str], int]:
        """Load (key, bytes) objects like the pipe: one bulk COPY for all of them.

        Returns the keys loaded and the number of RAW rows. Keys loaded before are skipped.
        """
        batch = self.work_dir / f"pipe-{uuid.uuid4().hex}.csv"
        loaded_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f").encode()
        keys: list[str] = []
        counts: list[tuple[str, int]] = []
        rows = 0
        with batch.open("wb", buffering=1024 * 1024) as out:
            for key, data in objects:
                name = self.stage_file_name(key)
                n = _raw_lines_to_copy_rows(name, data, loaded_at, out.write)
                keys.append(key)
                counts.append((name, n))
                rows += n
        try:
            if not keys:
                return [], 0
            parquet = self._to_parquet(batch)
            # No explicit transaction: fakesnow cannot write RAW and its own load history in
            # one. If a step after the COPY fails, the file is loaded again by the next poll
            # and OPEN_BATCH_LINES counts each (file, line) once.
            self.execute(
                f"COPY INTO {self.raw}.INMET_RAW FROM 'file://{self.work_dir}/' "
                f"FILES = ('{parquet.name}') FILE_FORMAT = (TYPE = PARQUET) "
                "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
            )
            stamp = loaded_at.decode()
            values = ", ".join("(?, ?, ?)" for _ in counts)
            self.execute(
                f"INSERT INTO {self.raw}._LOCAL_PIPE_HISTORY (file_name, rows, loaded_at) "
                f"VALUES {values}",
                [v for name, n in counts for v in (name, n, stamp)],
            )
            marks = ", ".join("(?)" for _ in counts)
            self.execute(
                f"INSERT INTO {self.raw}._LOCAL_STREAM_PENDING (file_name) VALUES {marks}",
                [name for name, _ in counts],
            )
        finally:
            batch.unlink(missing_ok=True)
            batch.with_suffix(".parquet").unlink(missing_ok=True)
        return keys, rows

    @staticmethod
    def _to_parquet(batch: Path) -> Path:
        """The batch as Parquet with the RAW column names.

        fakesnow's CSV COPY cannot target more than 10 columns (DuckDB names them column00…),
        so the batch goes through Parquet, which it matches to RAW by column name. The CSV is
        read with the pipe's file format: ';', no quoting, no escapes, empty field = NULL.
        """
        import duckdb

        parquet = batch.with_suffix(".parquet")
        names = [
            "file_name",
            "file_row_number",
            *(f"c{i:02d}" for i in range(1, RAW_FIELDS + 1)),
            "loaded_at",
        ]
        types = dict.fromkeys(names, "VARCHAR")
        types["file_row_number"] = "BIGINT"
        types["loaded_at"] = "TIMESTAMP"
        columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in types.items()) + "}"
        with duckdb.connect() as duck:
            duck.execute(
                f"COPY (SELECT * FROM read_csv('{batch}', delim = ';', header = false, "
                f"quote = '', escape = '', nullstr = ['', '\\N'], columns = {columns}, "
                "auto_detect = false, parallel = false, max_line_size = 1048576)) "
                f"TO '{parquet}' (FORMAT parquet)"
            )
        return parquet

    def poll_pipe(
        self,
        sqs: Any,
        queue_url: str,
        s3: Any,
        bucket: str,
        *,
        wait_seconds: int = 0,
        max_messages: int = 10,
        max_rounds: int = 50,
    ) -> PollResult:
        """Drain the pipe's queue (up to ``max_rounds`` receives) and load what it announces."""
        result = PollResult()
        for _ in range(max_rounds):
            response = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds
            )
            messages = response.get("Messages", [])
            if not messages:
                break
            result.messages += len(messages)
            keys: list[str] = []
            for message in messages:
                keys.extend(
                    k for k in s3_event_keys(message["Body"]) if k.startswith(self.raw_prefix)
                )
            unique = list(dict.fromkeys(keys))
            already = self.loaded_file_names(self.stage_file_name(k) for k in unique)
            todo = [k for k in unique if self.stage_file_name(k) not in already]
            result.files_skipped.extend(k for k in unique if k not in todo)
            fetched: list[tuple[str, bytes]] = []
            for key in todo:
                try:
                    fetched.append((key, s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
                except Exception as exc:  # a vanished object is the pipe's "file not found"
                    result.errors.append((key, f"Remote file '{key}' was not found: {exc}"))
            if fetched:
                loaded, rows = self.load_objects(fetched)
                result.files_loaded.extend(loaded)
                result.rows_loaded += rows
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            wait_seconds = 0
        return result

    # -- task ---------------------------------------------------------------------------------
    def stream_has_data(self) -> bool:
        """SYSTEM$STREAM_HAS_DATA."""
        return bool(self.scalar(f"SELECT COUNT(*) FROM {self.raw}._LOCAL_STREAM_PENDING"))

    def task_statements(self) -> list[str]:
        return split_statements(render(TASK_BODY, self.values, self.sql_root))

    def run_task(self) -> TaskRun | None:
        """One run of PROCESS_RAW, or None when the stream is empty (the task would not run)."""
        if not self.stream_has_data():
            return None
        started = time.perf_counter()
        # Snowflake runs these in one transaction. fakesnow cannot run a MERGE inside an
        # explicit transaction, so they run in autocommit here, and a failure is undone by
        # hand: the batch is dropped and the stream is advanced only after the last statement.
        # Every statement is an idempotent upsert, so the next run redoes the batch cleanly.
        statements = self.task_statements()
        batch_id: str | None = None
        try:
            for sql in statements:
                self.execute(sql)
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
        return TaskRun(batch_id, files, time.perf_counter() - started)

    def _undo_batch(self, batch_id: str | None) -> None:
        with contextlib.suppress(Exception):
            if batch_id is not None:
                for table in (f"{self.raw}.BATCH_FILES", f"{self.clean}.BATCH_PARTITIONS"):
                    self.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id])
                self.execute(f"DELETE FROM {self.raw}.BATCHES WHERE batch_id = ?", [batch_id])

    # -- notifications ------------------------------------------------------------------------
    def pending_notifications(self) -> list[tuple[str, str]]:
        rows = self.execute(
            f"SELECT batch_id, message FROM {self.clean}.PENDING_NOTIFICATIONS ORDER BY batch_id"
        )
        return [(str(b), str(m)) for b, m in rows]

    def send_notifications(self, publish: Callable[[str], object]) -> list[dict[str, Any]]:
        """SYSTEM$SEND_SNOWFLAKE_NOTIFICATION for each pending batch; returns the messages."""
        sent = []
        for batch_id, message in self.pending_notifications():
            publish(message)
            self.execute(
                f"UPDATE {self.raw}.BATCHES SET status = 'notified', notified_at = SYSDATE() "
                "WHERE batch_id = ?",
                [batch_id],
            )
            sent.append(json.loads(message))
        return sent


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


def pipe_error_message(values: Mapping[str, str], key: str, error: str) -> str:
    """A Snowpipe ERROR_INTEGRATION message (INGEST_FAILED_FILE), in Snowflake's shape."""
    return json.dumps(
        {
            "version": "1.0",
            "messageId": str(uuid.uuid4()),
            "messageType": "INGEST_FAILED_FILE",
            "timestamp": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "accountName": "LOCAL",
            "pipeName": f"{values['database']}.{values['raw_schema']}.INMET_PIPE",
            "tableName": f"{values['database']}.{values['raw_schema']}.INMET_RAW",
            "stageLocation": (
                f"s3://{values.get('bucket', 'local')}/{values.get('raw_prefix', 'raw/')}"
            ),
            "messages": [{"fileName": key, "firstError": error}],
        }
    )


def task_error_message(values: Mapping[str, str], error: str) -> str:
    """A task ERROR_INTEGRATION message (USER_TASK_FAILED), in Snowflake's shape."""
    return json.dumps(
        {
            "version": "1.0",
            "messageId": str(uuid.uuid4()),
            "messageType": "USER_TASK_FAILED",
            "timestamp": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "accountName": "LOCAL",
            "taskName": f"{values['database']}.{values['raw_schema']}.PROCESS_RAW",
            "taskId": "local",
            "rootTaskName": f"{values['database']}.{values['raw_schema']}.PROCESS_RAW",
            "rootTaskId": "local",
            "messages": [
                {
                    "runId": datetime.now(UTC).isoformat(),
                    "scheduledTime": None,
                    "queryId": None,
                    "errorCode": "100000",
                    "errorMessage": error,
                }
            ],
        }
    )
