"""The export use case: a load notification → one CSV per (station, year) partition in S3, and
the uploads of the batch marked ``exported`` (with the ``cleaned`` step's time and row count in the
same write). Also the error use case: a
Snowflake error notification → the uploads concerned marked ``failed``.

The partition query and the Snowflake unload statement are built here once; the Snowflake
adapter runs the unload (the data never passes through Lambda); locally, the fakesnow server's
unload adapter (inmet_local.unload) writes the files and the local adapter puts them in S3.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from aws_lambda_powertools import Logger

from inmet_pipeline.columns import CLEAN_COLUMNS
from inmet_pipeline.notifications import ErrorNotification, LoadNotification, upload_id_of
from inmet_pipeline.ports import StatusStore
from inmet_pipeline.uploads import utc_now_iso

logger = Logger()

PROCESSED_PREFIX: Final = "processed/inmet_clean/"
PARTITION_FILE: Final = "inmet_clean.csv"


def partition_key(station_id: str, year: int, prefix: str = PROCESSED_PREFIX) -> str:
    return f"{prefix}station={station_id}/year={year:04d}/{PARTITION_FILE}"


def _select_columns() -> str:
    return ", ".join(
        # ISO 8601 UTC, written without quoted format literals (fakesnow mishandles them).
        "REPLACE(TO_VARCHAR(observed_at, 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z' AS observed_at"
        if c == "observed_at"
        else c
        for c in CLEAN_COLUMNS
    )


def stations_select(
    view: str, station_ids: Sequence[str], first_year: int, last_year: int
) -> tuple[str, list[Any]]:
    """Several stations' rows over a span of years, sorted by station then time: the local
    unload adapter runs it once for a group of partitions and writes each partition's file."""
    marks = ", ".join("?" for _ in station_ids)
    sql = (
        f"SELECT {_select_columns()} FROM {view} "  # noqa: S608 - names from settings
        f"WHERE station_id IN ({marks}) AND observed_at >= ? AND observed_at < ? "
        "ORDER BY station_id, observed_at"
    )
    return sql, [
        *station_ids,
        f"{first_year:04d}-01-01 00:00:00",
        f"{last_year + 1:04d}-01-01 00:00:00",
    ]


def partition_select(view: str, station_id: str, year: int) -> tuple[str, list[Any]]:
    """The contract columns of one partition, in order, sorted (CONTRACTS §3).

    ``observed_at`` is written as ISO 8601 UTC. The time range (not YEAR()) lets Snowflake prune
    micro-partitions clustered by (station_id, observed_at): the cost follows the partition,
    not the table.
    """
    # The view name comes from settings; the values are bound.
    sql = (
        f"SELECT {_select_columns()} FROM {view} "  # noqa: S608
        "WHERE station_id = ? AND observed_at >= ? AND observed_at < ? "
        "ORDER BY observed_at"
    )
    return sql, [station_id, f"{year:04d}-01-01 00:00:00", f"{year + 1:04d}-01-01 00:00:00"]


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def copy_into_statement(stage: str, view: str, station_id: str, year: int) -> str:
    """Snowflake's unload of one partition to the export stage: CSV with a header, one file,
    overwritten. Literals are inlined because COPY INTO <location> takes no bind variables; they
    are validated (WMO code, year) before they get here."""
    if not (len(station_id) == 4 and station_id[0].isalpha() and station_id[1:].isdigit()):
        raise ValueError(f"not a WMO station code: {station_id!r}")
    select, params = partition_select(view, station_id, year)
    for value in params:
        select = select.replace("?", _literal(value), 1)
    path = partition_key(station_id, year, prefix="")
    return (
        f"COPY INTO @{stage}/{path} FROM ({select}) "
        "FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = ',' COMPRESSION = NONE "
        "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('')) "
        "HEADER = TRUE SINGLE = TRUE OVERWRITE = TRUE MAX_FILE_SIZE = 268435456"
    )


def csv_field(value: Any) -> str:
    """One value as the contract CSV writes it: '.' decimals, ISO UTC times, '' for NULL."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_lines(rows: Iterable[Sequence[Any]], header: bool = True) -> Iterator[str]:
    """The contract CSV, line by line (UTF-8 text, ',' separated, minimal quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(CLEAN_COLUMNS)
    for row in rows:
        writer.writerow([csv_field(v) for v in row])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class PartitionExporter(Protocol):
    """Writes CLEAN partitions to the processed/ prefix of the bucket."""

    def export_partition(self, station_id: str, year: int, key: str) -> int:
        """Write the partition to ``key`` atomically (a reader sees the old file or the new
        one, never a part); return its row count."""
        ...

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        """Write several (station_id, year, key) partitions; rows written by key. Each object
        is written whole; on failure, those already written are complete."""
        ...

    def remove_partition(self, key: str) -> None: ...

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        """FILE_LOADS.rows_clean by raw/ key."""
        ...

    def unprocessed_raw_keys(self) -> list[str]:
        """raw/ keys loaded into RAW that no completed batch processed (a task failure)."""
        ...


@dataclass(slots=True)
class ExportResult:
    batch_id: str
    export_keys: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    unknown_files: list[str] = field(default_factory=list)


class ExportService:
    def __init__(
        self,
        exporter: PartitionExporter,
        statuses: StatusStore,
        processed_prefix: str = PROCESSED_PREFIX,
    ) -> None:
        self.exporter = exporter
        self.statuses = statuses
        self.processed_prefix = processed_prefix

    def export_batch(self, message: LoadNotification) -> ExportResult:
        """Idempotent: the same message twice writes the same objects and statuses."""
        result = ExportResult(message.batch_id)
        logger.append_keys(batch_id=message.batch_id)
        rows_clean = self.exporter.rows_clean(message.files)
        keys_by_partition: dict[tuple[str, int], str] = {}
        todo: list[tuple[str, int, str]] = []
        for partition in message.partitions:
            key = partition_key(partition.station_id, partition.year, self.processed_prefix)
            if partition.rows == 0:
                self.exporter.remove_partition(key)
                result.removed_keys.append(key)
            else:
                todo.append((partition.station_id, partition.year, key))
        rows_written = self.exporter.export_partitions(todo)
        for station_id, year, key in todo:
            logger.info("partition exported", extra={"key": key, "rows": rows_written.get(key)})
            keys_by_partition[(station_id, year)] = key
            result.export_keys.append(key)
        now = utc_now_iso()
        for raw_key in message.files:
            upload_id = upload_id_of(raw_key)
            record = self.statuses.get(upload_id) if upload_id else None
            if record is None or upload_id is None:
                logger.warning("loaded file has no upload record", extra={"raw_key": raw_key})
                result.unknown_files.append(raw_key)
                continue
            station, record_year = record.get("station_id"), record.get("year")
            export_keys = [
                k for (s, y), k in keys_by_partition.items() if s == station and y == record_year
            ]
            # One write records both steps (cleaned, then exported): the partitions are
            # already in S3 here, so a separate "cleaned" write would be visible only for the
            # moment between two writes, and it doubled the status writes of every batch.
            self.statuses.update(
                upload_id,
                {
                    "status": "exported",
                    "rows_clean": rows_clean.get(raw_key, 0),
                    "error": None,
                    "export_keys": export_keys,
                },
                set_if_missing={"cleaned_at": now, "exported_at": now},
            )
            result.uploads.append(upload_id)
        return result

    def record_failure(self, notification: ErrorNotification) -> list[str]:
        """Mark the uploads concerned ``failed`` with Snowflake's message; return their ids."""
        keys = notification.files or self.exporter.unprocessed_raw_keys()
        failed = []
        now = utc_now_iso()
        for key in keys:
            upload_id = upload_id_of(key)
            if upload_id is None or self.statuses.get(upload_id) is None:
                logger.warning("error for a file with no upload record", extra={"raw_key": key})
                continue
            code = (
                "snowflake_load_failed"
                if notification.message_type.startswith("INGEST")
                else "snowflake_task_failed"
            )
            self.statuses.update(
                upload_id,
                {
                    "status": "failed",
                    "error": {"code": code, "message": notification.error},
                },
                set_if_missing={"failed_at": now},
            )
            failed.append(upload_id)
        if not keys:
            logger.warning(
                "error notification names no file and none is pending",
                extra={"error": notification.error},
            )
        return failed
