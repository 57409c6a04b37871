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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from aws_lambda_powertools import Logger

from inmet_pipeline.columns import CLEAN_COLUMNS
from inmet_pipeline.errors import PartitionRejected
from inmet_pipeline.notifications import ErrorNotification, LoadNotification, upload_id_of
from inmet_pipeline.ports import StatusStore
from inmet_pipeline.uploads import utc_now_iso

logger = Logger()

PROCESSED_PREFIX: Final = "processed/inmet_clean/"
PARTITION_FILE: Final = "inmet_clean.csv"


def partition_key(station_id: str, year: int, prefix: str = PROCESSED_PREFIX) -> str:
    return f"{prefix}station={station_id}/year={year:04d}/{PARTITION_FILE}"


def _select_columns(quoted_names: bool = False) -> str:
    """The contract's columns; ``quoted_names`` aliases each with its double-quoted lower-case
    name, so that Snowflake's HEADER = TRUE writes the contract's header (see
    UNLOAD_FILE_FORMAT)."""

    observed_at = "REPLACE(TO_VARCHAR(observed_at, 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z'"
    expressions = []
    for column in CLEAN_COLUMNS:
        # ISO 8601 UTC, written without quoted format literals (fakesnow mishandles them).
        expression = observed_at if column == "observed_at" else column
        if quoted_names:
            expression += f' AS "{column}"'
        elif column == "observed_at":
            expression += " AS observed_at"
        expressions.append(expression)
    return ", ".join(expressions)


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


def partition_select(
    view: str, station_id: str, year: int, *, quoted_names: bool = False
) -> tuple[str, list[Any]]:
    """The contract columns of one partition, in order, sorted (docs/contracts.md §3).

    ``observed_at`` is written as ISO 8601 UTC. The time range (not YEAR()) lets Snowflake prune
    micro-partitions (OBSERVATIONS is naturally clustered by its load order, one station-year a
    file): the cost follows the partition, not the table.
    """
    # The view name comes from settings; the values are bound.
    sql = (
        f"SELECT {_select_columns(quoted_names)} FROM {view} "  # noqa: S608
        "WHERE station_id = ? AND observed_at >= ? AND observed_at < ? "
        "ORDER BY observed_at"
    )
    return sql, [station_id, f"{year:04d}-01-01 00:00:00", f"{year + 1:04d}-01-01 00:00:00"]


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _check_partition(station_id: str, year: int) -> None:
    # Literals are inlined in COPY and REMOVE (they take no bind variables): only a WMO code and
    # a plain year ever get there.
    if not (len(station_id) == 4 and station_id[0].isalpha() and station_id[1:].isdigit()):
        raise ValueError(f"not a WMO station code: {station_id!r}")
    if not (isinstance(year, int) and 1000 <= year <= 9999):
        raise ValueError(f"not a four-digit year: {year!r}")


# The unload's file format, option by option, with the documentation each rests on. The
# exported partition must be byte for byte what the local unload writes (csv_lines over the
# same rows): tests/unit/test_unload_format.py states Snowflake's output for these options and
# compares. "COPY INTO <location>" (docs.snowflake.com/en/sql-reference/sql/copy-into-location)
# and "Data unloading considerations" (docs.snowflake.com/en/user-guide/data-unload-considerations):
# - FIELD_OPTIONALLY_ENCLOSED_BY = NONE: strings are written unenclosed ("Enclosing string values
#   in quotes while unloading data is not required"). With '"', every string value would be
#   quoted, unlike the contract's minimal quoting. No CLEAN text value ever needs quoting:
#   station_id, region and state come from closed sets, observed_at is formatted below, and a
#   station name with a character CSV would quote (columns.CSV_QUOTED_CHARACTERS) is refused at
#   upload (reader.py), so unenclosed and minimally-quoted output are the same bytes.
# - ESCAPE_UNENCLOSED_FIELD = NONE: the unload default ('\\') would escape characters in
#   unenclosed fields; none occur, and none must be added.
# - NULL_IF = ('') with EMPTY_FIELD_AS_NULL = FALSE: SQL NULL is written as the first NULL_IF
#   value, an empty field, as the contract says (the default would write \\N).
# - HEADER = TRUE writes the query's output column names: unquoted identifiers resolve to upper
#   case ("Identifier requirements"), so every column is aliased with a double-quoted lower-case
#   name, the contract's header exactly.
# - SINGLE = TRUE, OVERWRITE = TRUE, COMPRESSION = NONE: one object named exactly as the path,
#   replaced whole on re-export (an S3 PUT: readers see the old file or the new one).
UNLOAD_FILE_FORMAT: Final = (
    "TYPE = CSV FIELD_DELIMITER = ',' RECORD_DELIMITER = '\\n' COMPRESSION = NONE "
    "FIELD_OPTIONALLY_ENCLOSED_BY = NONE ESCAPE_UNENCLOSED_FIELD = NONE "
    "NULL_IF = ('') EMPTY_FIELD_AS_NULL = FALSE"
)
UNLOAD_COPY_OPTIONS: Final = (
    "HEADER = TRUE SINGLE = TRUE OVERWRITE = TRUE MAX_FILE_SIZE = 268435456"
)


def _stage_path(stage: str, path: str) -> str:
    """A stage path as a quoted literal: the partition paths hold '=' (station=A001/year=2024),
    and the documented safe form for a path with special characters is the whole location in
    single quotes ("COPY INTO <location>", "REMOVE": "enclose the … path in single quotes")."""
    return _literal(f"@{stage}/{path}")


def copy_into_statement(stage: str, view: str, station_id: str, year: int) -> str:
    """Snowflake's unload of one partition to the export stage (see UNLOAD_FILE_FORMAT)."""
    _check_partition(station_id, year)
    select, params = partition_select(view, station_id, year, quoted_names=True)
    for value in params:
        select = select.replace("?", _literal(value), 1)
    path = partition_key(station_id, year, prefix="")
    return (
        f"COPY INTO {_stage_path(stage, path)} FROM ({select}) "
        f"FILE_FORMAT = ({UNLOAD_FILE_FORMAT}) {UNLOAD_COPY_OPTIONS}"
    )


def remove_statement(stage: str, station_id: str, year: int) -> str:
    """REMOVE of one partition's file from the export stage (a partition that became empty)."""
    _check_partition(station_id, year)
    return f"REMOVE {_stage_path(stage, partition_key(station_id, year, prefix=''))}"


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
    """Writes CLEAN partitions to the processed/ prefix of the bucket, and keeps the export's
    progress and acknowledgements in the warehouse (CLEAN.EXPORTED_PARTITIONS, EXPORT_ACKS)."""

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        """Write several (station_id, year, key) partitions; rows written by key. Each object
        is written whole; on failure, those already written are complete."""
        ...

    def remove_partition(self, station_id: str, year: int, key: str) -> None: ...

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        """FILE_LOADS.rows_clean by raw/ key."""
        ...

    def unprocessed_raw_keys(self) -> list[str]:
        """raw/ keys loaded into RAW that no completed batch processed (a task failure)."""
        ...

    def exported_partitions(self, batch_id: str, part: int) -> dict[str, int]:
        """The partitions of this message already handled by an earlier attempt: rows by key."""
        ...

    def record_exported(self, batch_id: str, part: int, done: Sequence[ExportedPartition]) -> None:
        """Remember handled partitions (the resume point of a retried export)."""
        ...

    def acknowledge(self, batch_id: str, part: int, uploads: int) -> None:
        """The message is fully handled: the warehouse stops re-sending it."""
        ...


@dataclass(frozen=True, slots=True)
class ExportedPartition:
    station_id: str
    year: int
    key: str
    rows: int  # 0 for a removed partition


class ExportIncomplete(RuntimeError):  # noqa: N818 - a state, like TimeoutError
    """The invocation's time ran out between two waves; what is done is recorded, and the retry
    (Lambda's asynchronous retry, or the warehouse's re-send) resumes from there."""


@dataclass(slots=True)
class ExportResult:
    batch_id: str
    part: int = 1
    export_keys: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    resumed_keys: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    unknown_files: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)  # upload ids the task set aside
    # (station_id, year) -> the warehouse's error, for partitions it refused to export
    failed_partitions: dict[tuple[str, int], str] = field(default_factory=dict)


class ExportService:
    # Partitions per export_partitions call: the Snowflake adapter runs a wave's COPY statements
    # concurrently, and progress is recorded after each wave.
    WAVE = 16
    # Time a wave may take, at most: a new wave starts only with this much of the invocation
    # left (16 concurrent single-partition COPYs take seconds on an XSMALL warehouse; the local
    # unload ~0.3 s). template.yaml's ExportFunction timeout is budgeted with it.
    WAVE_BUDGET_MS = 120_000

    def __init__(
        self,
        exporter: PartitionExporter,
        statuses: StatusStore,
        processed_prefix: str = PROCESSED_PREFIX,
    ) -> None:
        self.exporter = exporter
        self.statuses = statuses
        self.processed_prefix = processed_prefix

    def export_batch(
        self, message: LoadNotification, remaining_ms: Callable[[], int] | None = None
    ) -> ExportResult:
        """Idempotent and resumable: the same message twice writes the same objects and
        statuses; a retry skips the partitions an earlier attempt finished. ``remaining_ms``
        (Lambda's context.get_remaining_time_in_millis) stops between waves in time."""
        result = ExportResult(message.batch_id, message.part)
        logger.append_keys(batch_id=message.batch_id, part=message.part)
        done = self.exporter.exported_partitions(message.batch_id, message.part)
        keys_by_partition: dict[tuple[str, int], str] = {}
        removals: list[ExportedPartition] = []
        todo: list[tuple[str, int, str]] = []
        for partition in message.partitions:
            key = partition_key(partition.station_id, partition.year, self.processed_prefix)
            if partition.rows == 0:
                result.removed_keys.append(key)
                if key not in done:
                    self.exporter.remove_partition(partition.station_id, partition.year, key)
                    removals.append(ExportedPartition(partition.station_id, partition.year, key, 0))
                continue
            keys_by_partition[(partition.station_id, partition.year)] = key
            result.export_keys.append(key)
            if key in done:
                result.resumed_keys.append(key)
            else:
                todo.append((partition.station_id, partition.year, key))
        if removals:
            self.exporter.record_exported(message.batch_id, message.part, removals)
        if result.resumed_keys:
            logger.info("resuming an earlier attempt", extra={"done": len(result.resumed_keys)})
        for start in range(0, len(todo), self.WAVE):
            if remaining_ms is not None and remaining_ms() < self.WAVE_BUDGET_MS:
                raise ExportIncomplete(
                    f"batch {message.batch_id} part {message.part}: {len(todo) - start} of "
                    f"{len(todo)} partitions left when the invocation's time ran out; the retry "
                    "resumes"
                )
            wave = todo[start : start + self.WAVE]
            written, exported = self._export_wave(wave, result)
            self.exporter.record_exported(
                message.batch_id,
                message.part,
                [ExportedPartition(s, y, k, int(written.get(k, 0))) for s, y, k in exported],
            )
            for _, _, key in exported:
                logger.info("partition exported", extra={"key": key, "rows": written.get(key)})
        for station_year in result.failed_partitions:
            key = keys_by_partition.pop(station_year)
            result.export_keys.remove(key)
        self._mark_exported(message, keys_by_partition, result)
        self._mark_quarantined(message, result)
        self.exporter.acknowledge(message.batch_id, message.part, len(result.uploads))
        return result

    def _export_wave(
        self, wave: list[tuple[str, int, str]], result: ExportResult
    ) -> tuple[dict[str, int], list[tuple[str, int, str]]]:
        """Export a wave; when the warehouse refuses a partition, the others still go out and
        the refused ones are recorded in ``result.failed_partitions`` (their uploads end
        ``failed``). An outage (DependencyUnavailable) still fails the whole message: it is
        retried."""
        try:
            return self.exporter.export_partitions(wave), wave
        except PartitionRejected:
            pass
        written: dict[str, int] = {}
        exported = []
        for item in wave:  # one at a time, to tell the refused ones from the rest
            station_id, year, key = item
            try:
                written.update(self.exporter.export_partitions([item]))
                exported.append(item)
            except PartitionRejected as exc:
                logger.error(
                    "partition not exported: the warehouse refused it",
                    extra={"key": key, "error": str(exc)},
                )
                result.failed_partitions[(station_id, year)] = str(exc)
        return written, exported

    def _mark_exported(
        self,
        message: LoadNotification,
        keys_by_partition: dict[tuple[str, int], str],
        result: ExportResult,
    ) -> None:
        rows_clean = self.exporter.rows_clean(message.files)
        now = utc_now_iso()
        for raw_key in message.files:
            upload_id = upload_id_of(raw_key)
            record = self.statuses.get(upload_id) if upload_id else None
            if record is None or upload_id is None:
                logger.warning("loaded file has no upload record", extra={"raw_key": raw_key})
                result.unknown_files.append(raw_key)
                continue
            station, record_year = record.get("station_id"), record.get("year")
            refused = result.failed_partitions.get((str(station), int(record_year or 0)))
            if refused is not None:
                self.statuses.update(
                    upload_id,
                    {
                        "status": "failed",
                        "rows_clean": rows_clean.get(raw_key, 0),
                        "error": {
                            "code": "export_failed",
                            "message": (
                                f"The file is in CLEAN, but its partition {station}/{record_year} "
                                f"could not be exported: {refused}. The other partitions of the "
                                "batch were exported. The partition is written again when a "
                                "later upload of this station and year is loaded (the same "
                                "bytes again are not reloaded: Snowpipe skips a name it loaded)."
                            ),
                        },
                    },
                    set_if_missing={"cleaned_at": now, "failed_at": now},
                )
                continue
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

    def _mark_quarantined(self, message: LoadNotification, result: ExportResult) -> None:
        """The files the task set aside end ``failed``, with the reason a person can act on."""
        now = utc_now_iso()
        for item in message.quarantined:
            upload_id = upload_id_of(item.file)
            if upload_id is None or self.statuses.get(upload_id) is None:
                logger.warning(
                    "quarantined file has no upload record", extra={"raw_key": item.file}
                )
                continue
            logger.warning(
                "the warehouse set a file aside", extra={"raw_key": item.file, "error": item.error}
            )
            self.statuses.update(
                upload_id,
                {
                    "status": "failed",
                    "error": {
                        "code": "quarantined",
                        "message": (
                            f"The warehouse set this file aside ({item.error}) and loaded the "
                            "rest of its batch; nothing of it is in CLEAN. Correct the file "
                            "and upload it again."
                        ),
                    },
                },
                set_if_missing={"failed_at": now},
            )
            result.quarantined.append(upload_id)

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
