"""The pipe, emulated: Snowpipe's auto-ingest of raw/ into RAW.INMET_RAW.

The bucket's SQS queue (S3 event notifications, as Snowpipe gets them) → the rows the pipe's COPY
produces (``inmet_local.emulator.copy_rows``), in bulk: one COPY INTO per chunk of files (an
Arrow-built
Parquet file), never row by row; the next chunk is fetched while one loads. Like Snowpipe it
skips a file name it has loaded before (its load history, RAW._LOCAL_PIPE_HISTORY), and it
adds what it loads to the stream's pending files (RAW._LOCAL_STREAM_PENDING).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from inmet_local.emulator.copy_rows import copy_rows_table
from inmet_local.emulator.warehouse_connection import WarehouseConnection

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef


@dataclass(slots=True)
class PollResult:
    files_loaded: list[str] = field(default_factory=list)  # raw/ keys
    files_skipped: list[str] = field(default_factory=list)  # already loaded (pipe history)
    rows_loaded: int = 0
    messages: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (key, message)
    seconds: float = 0.0  # from the first message received to the load's end


class Pipe:
    """The pipe of one warehouse connection."""

    # Files per COPY when a poll brings many: big enough for bulk loading, small enough that
    # fetching the next chunk overlaps loading this one.
    load_chunk = 96

    def __init__(self, wh: WarehouseConnection) -> None:
        self.wh = wh

    def loaded_file_names(self, names: Iterable[str]) -> set[str]:
        names = list(names)
        if not names:
            return set()
        marks = ", ".join("?" for _ in names)
        rows = self.wh.execute(
            f"SELECT file_name FROM {self.wh.raw}._LOCAL_PIPE_HISTORY WHERE file_name IN ({marks})",
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
        table = copy_rows_table(
            [
                (
                    self.wh.stage_file_name(key),
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
        parquet = self.wh.work_dir / f"pipe-{uuid.uuid4().hex}.parquet"
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
            if self.wh.live:
                # A real account reads the file from the table's own stage ("Choosing an
                # internal stage for local files": @%<table>), then drops it (PURGE).
                stage = f"@{self.wh.raw}.%INMET_RAW"
                self.wh.execute(f"PUT 'file://{parquet}' '{stage}' AUTO_COMPRESS = FALSE")
                source = stage
            else:
                source = f"'file://{self.wh.work_dir}/'"
            self.wh.execute(
                f"COPY INTO {self.wh.raw}.INMET_RAW FROM {source} "
                f"FILES = ('{parquet.name}') FILE_FORMAT = (TYPE = PARQUET) "
                "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
                + (" PURGE = TRUE" if self.wh.live else "")
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
        # The stream first, the load history last. Snowpipe records a file in its history in
        # the transaction that loads it ("No record is added if the transaction is rolled
        # back", https://docs.snowflake.com/en/sql-reference/info-schema/load_history); here the
        # three writes are separate, and a process killed between two of them must leave a
        # file that is loaded again, never one the history knows and the stream does not (the
        # poller would skip it for ever, and its upload would never leave `received`). Killed
        # after the COPY or after the stream's insert, the file is not in the history: the
        # start's announcement loads it again, and the task reads only its latest load.
        self.wh.execute(
            f"INSERT INTO {self.wh.raw}._LOCAL_STREAM_PENDING (file_name) VALUES "
            + ", ".join("(?)" for _ in pairs),
            [name for name, _ in pairs],
        )
        self.wh.execute(
            f"INSERT INTO {self.wh.raw}._LOCAL_PIPE_HISTORY "
            "(file_name, row_count, loaded_at) VALUES " + ", ".join("(?, ?, ?)" for _ in pairs),
            [v for name, n in pairs for v in (name, n, stamp)],
        )
        return [key for key, _ in objects], int(table.num_rows)

    def poll(
        self,
        sqs: SQSClient,
        queue_url: str,
        s3: S3Client,
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
        pending: list[MessageTypeDef] = []
        keys: list[str] = []
        for _ in range(max_receives):
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            ).get("Messages", [])
            if not messages:
                break
            if not pending:
                started = time.perf_counter()
            wait_seconds = 0
            pending.extend(messages)
            for message in messages:
                keys.extend(
                    k for k in s3_event_keys(message["Body"]) if k.startswith(self.wh.raw_prefix)
                )
            if len(keys) >= max_files:
                break
        result.messages = len(pending)
        if not pending:
            return result
        unique = list(dict.fromkeys(keys))
        already = self.loaded_file_names(self.wh.stage_file_name(k) for k in unique)
        todo = [k for k in unique if self.wh.stage_file_name(k) not in already]
        result.files_skipped = [k for k in unique if k not in todo]
        # Fetching (Python, holds the GIL) overlaps loading (Arrow's parser and the warehouse's
        # COPY, which do not): each chunk is loaded by one background thread while the next is
        # fetched, and a chunk waits for the one before it, so at most two chunks are held. A
        # failed load re-raises here, before any message is deleted.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipe-load") as loader:
            loads: list[Future[tuple[list[str], int]]] = []

            def collect() -> None:
                loaded, rows = loads.pop(0).result()
                result.files_loaded += loaded
                result.rows_loaded += rows

            fetched: list[tuple[str, bytes]] = []
            modified: dict[str, datetime] = {}
            for key in todo:
                try:
                    obj = s3.get_object(Bucket=bucket, Key=key)
                    fetched.append((key, obj["Body"].read()))
                    modified[key] = obj["LastModified"]
                except Exception as exc:  # a vanished object is the pipe's "file not found"
                    result.errors.append((key, f"Remote file '{key}' was not found: {exc}"))
                if len(fetched) >= self.load_chunk:
                    if loads:
                        collect()
                    loads.append(loader.submit(self.load_objects, fetched, modified))
                    fetched, modified = [], {}
            if fetched:
                if loads:
                    collect()
                loads.append(loader.submit(self.load_objects, fetched, modified))
            while loads:
                collect()
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
