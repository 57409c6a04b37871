"""The export use case: a load notification → one CSV per (station, year) partition in S3, and
the uploads of the batch marked ``exported`` (with the ``cleaned`` step's time and row count in the
same write). Also the error use case: a
Snowflake error notification → the uploads concerned marked ``failed``.

The partition query and the Snowflake unload statement are built once, in partitions.py; the
Snowflake adapter runs the unload (the data never passes through Lambda); locally, the
fakesnow server's unload adapter (inmet_local.emulator.unload) writes the files and the local
adapter puts them in S3.

Why one module over 400 lines: the hourly and the daily exports of a batch share one claim,
one progress record per wave and one acknowledgement (a batch is acknowledged only once both
are written); apart, the resume-after-crash logic would be stated twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aws_lambda_powertools import Logger

from inmet_pipeline.document import failure
from inmet_pipeline.errors import PartitionRejected
from inmet_pipeline.notifications import (
    ErrorNotification,
    LoadNotification,
    station_year_of,
    upload_id_of,
)

# Re-exported: these lived here before partitions.py; the adapters, the local tools and the
# tests import them from here.
from inmet_pipeline.partitions import (
    DAILY_PREFIX,
    PARTITION_FILE,
    PROCESSED_PREFIX,
    UNLOAD_COPY_OPTIONS,
    UNLOAD_FILE_FORMAT,
    copy_into_statement,
    csv_field,
    csv_lines,
    daily_partition_key,
    daily_partitions_of,
    partition_key,
    partition_select,
    remove_statement,
    stations_select,
)
from inmet_pipeline.ports import StatusStore
from inmet_pipeline.status import ErrorCode, UploadStatus
from inmet_pipeline.upload_objects import utc_now_iso

__all__ = [
    "PARTITION_FILE",
    "PROCESSED_PREFIX",
    "UNLOAD_COPY_OPTIONS",
    "UNLOAD_FILE_FORMAT",
    "ExportIncomplete",
    "ExportResult",
    "ExportService",
    "ExportedPartition",
    "PartitionExporter",
    "Superseded",
    "copy_into_statement",
    "csv_field",
    "csv_lines",
    "partition_key",
    "partition_select",
    "remove_statement",
    "stations_select",
]

logger = Logger()


class PartitionExporter(Protocol):
    """Writes CLEAN partitions to the processed/ prefix of the bucket, and keeps the export's
    progress and acknowledgements in the warehouse (CLEAN.EXPORTED_PARTITIONS, EXPORT_ACKS)."""

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        """Write several (station_id, year, key) partitions; rows written by key. Each object
        is written whole; on failure, those already written are complete."""
        ...

    def remove_partition(self, station_id: str, year: int, key: str) -> None: ...

    def export_daily_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        """As export_partitions, for CLEAN.DAILY's (station, year of local date) partitions
        (docs/contracts.md §3.2). A partition with no daily row writes nothing (0 rows)."""
        ...

    def remove_daily_partition(self, station_id: str, year: int, key: str) -> None: ...

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        """FILE_LOADS.rows_clean by raw/ key."""
        ...

    def unprocessed_raw_keys(self) -> list[str]:
        """raw/ keys loaded into RAW that no completed batch processed (a task failure)."""
        ...

    def superseded(self, station_years: Sequence[tuple[str, int]]) -> list[Superseded]:
        """The loaded files of these station-years that a later version replaced, in whole or
        in part (CLEAN.EXPORT_SUPERSEDED)."""
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
class Superseded:
    """A loaded file a later version replaced (CLEAN.EXPORT_SUPERSEDED)."""

    raw_key: str
    rows: int  # its rows still in CLEAN
    by: str  # the raw/ key of the latest version of its station-year


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
    superseded: list[str] = field(default_factory=list)  # upload ids a later version replaced
    daily_keys: list[str] = field(default_factory=list)  # the daily partitions written or removed
    failed_daily: list[str] = field(default_factory=list)  # daily keys the warehouse refused
    # (station_id, year) -> the warehouse's error, for partitions it refused to export
    failed_partitions: dict[tuple[str, int], str] = field(default_factory=dict)


class ExportService:
    # Partitions per export_partitions call (a wave), unless the exporter names its own
    # (``partitions_per_call``): the Snowflake adapter runs a wave's COPY statements
    # concurrently, and progress is recorded after each wave. The local adapter unloads a wave
    # with one query over CLEAN, so it takes larger waves (issue 17: fewer scans of CLEAN).
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
        wave: int | None = None,
        daily_prefix: str = DAILY_PREFIX,
    ) -> None:
        self.exporter = exporter
        self.statuses = statuses
        self.processed_prefix = processed_prefix
        self.daily_prefix = daily_prefix
        # A wave size fixed for this service (tests pin one); None: the exporter's, or WAVE.
        self.wave = wave

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
        size = self.wave_size()
        for start in range(0, len(todo), size):
            if remaining_ms is not None and remaining_ms() < self.WAVE_BUDGET_MS:
                raise ExportIncomplete(
                    f"batch {message.batch_id} part {message.part}: {len(todo) - start} of "
                    f"{len(todo)} partitions left when the invocation's time ran out; the retry "
                    "resumes"
                )
            wave = todo[start : start + size]
            written, exported = self._export_wave(wave, result)
            self.exporter.record_exported(
                message.batch_id,
                message.part,
                [ExportedPartition(s, y, k, int(written.get(k, 0))) for s, y, k in exported],
            )
            for _, _, key in exported:
                logger.info("partition exported", extra={"key": key, "rows": written.get(key)})
        self._export_daily(message, done, result, remaining_ms)
        for station_year in result.failed_partitions:
            key = keys_by_partition.pop(station_year)
            result.export_keys.remove(key)
        self._mark_exported(message, keys_by_partition, result)
        self._mark_quarantined(message, result)
        self.exporter.acknowledge(message.batch_id, message.part, len(result.uploads))
        return result

    def _export_daily(
        self,
        message: LoadNotification,
        done: dict[str, int],
        result: ExportResult,
        remaining_ms: Callable[[], int] | None,
    ) -> None:
        """The daily partitions the batch changed (daily_partitions_of: its station-years and
        the year before each, whose 31 December ends in the next UTC year), written after the
        hourly ones with the same guarantees: each file whole (one PUT / one COPY), progress
        recorded per wave in EXPORTED_PARTITIONS (its keys differ from the hourly ones), so a
        retry resumes; the message is acknowledged only after them. A partition with no daily
        row left has its old file removed."""
        todo = [
            (s, y, daily_partition_key(s, y, self.daily_prefix))
            for s, y in daily_partitions_of((p.station_id, p.year) for p in message.partitions)
        ]
        result.daily_keys = [k for _, _, k in todo]
        todo = [item for item in todo if item[2] not in done]
        size = self.wave_size(daily=True)
        for start in range(0, len(todo), size):
            if remaining_ms is not None and remaining_ms() < self.WAVE_BUDGET_MS:
                raise ExportIncomplete(
                    f"batch {message.batch_id} part {message.part}: {len(todo) - start} daily "
                    "partitions left when the invocation's time ran out; the retry resumes"
                )
            wave = todo[start : start + size]
            try:
                written = self.exporter.export_daily_partitions(wave)
            except PartitionRejected as exc:
                # The daily files are derived: a refused one is said in the log and written
                # again with the station-year's next batch; the uploads' own data is exported.
                logger.error("daily partitions not exported", extra={"error": str(exc)})
                result.failed_daily.extend(k for _, _, k in wave)
                continue
            for station_id, year, key in wave:
                if not written.get(key):
                    self.exporter.remove_daily_partition(station_id, year, key)
            self.exporter.record_exported(
                message.batch_id,
                message.part,
                [ExportedPartition(s, y, k, int(written.get(k, 0))) for s, y, k in wave],
            )

    def wave_size(self, daily: bool = False) -> int:
        """The service's own wave size if set; else the exporter's (an optional attribute:
        only an adapter whose waves differ from WAVE names one; for the daily partitions,
        ``daily_partitions_per_call`` if it names that too); else WAVE."""
        if self.wave is not None:
            return self.wave
        hourly = int(getattr(self.exporter, "partitions_per_call", self.WAVE))
        if daily:
            return int(getattr(self.exporter, "daily_partitions_per_call", hourly))
        return hourly

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
        superseded = self._superseded(message)
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
                        **failure(
                            ErrorCode.EXPORT_FAILED,
                            f"The file is in CLEAN, but its partition {station}/{record_year} "
                            f"could not be exported: {refused}. The other partitions of the "
                            "batch were exported. The partition is written again when a "
                            "later upload of this station and year is loaded (the same "
                            "bytes again are not reloaded: Snowpipe skips a name it loaded).",
                        ),
                        "rows_clean": rows_clean.get(raw_key, 0),
                    },
                    set_if_missing={"cleaned_at": now, "failed_at": now},
                )
                continue
            export_keys = [
                k for (s, y), k in keys_by_partition.items() if s == station and y == record_year
            ]
            if raw_key in superseded:
                continue  # marked below, with its surviving rows
            # One write records both steps (cleaned, then exported): the partitions are
            # already in S3 here, so a separate "cleaned" write would be visible only for the
            # moment between two writes, and it doubled the status writes of every batch.
            # No partition for a file with no row in CLEAN (§1.2: a later upload may remove it).
            rows = rows_clean.get(raw_key, 0)
            self.statuses.update(
                upload_id,
                {"status": UploadStatus.EXPORTED, "rows_clean": rows, "error": None}
                | {"export_keys": export_keys if rows else []},
                set_if_missing={"cleaned_at": now, "exported_at": now},
            )
            result.uploads.append(upload_id)
        self._mark_superseded(superseded, result, now)

    def _superseded(self, message: LoadNotification) -> dict[str, Superseded]:
        """Files of the message's station-years (this batch's and earlier) a later one replaced."""
        station_years = sorted(
            {(p.station_id, p.year) for p in message.partitions}
            | {key for key in map(station_year_of, message.files) if key is not None}
        )
        if not station_years:
            return {}
        return {s.raw_key: s for s in self.exporter.superseded(station_years)}

    def _mark_superseded(
        self, superseded: dict[str, Superseded], result: ExportResult, now: str
    ) -> None:
        """docs/contracts.md §1.2 `superseded` (idempotent)."""
        for raw_key, item in sorted(superseded.items()):
            upload_id = upload_id_of(raw_key)
            record = self.statuses.get(upload_id) if upload_id else None
            if record is None or upload_id is None:
                continue
            if record.get("raw_key") not in (None, raw_key) or record.get("status") == "uploading":
                continue  # sent again since (a new raw/ key) or in flight: its own export decides
            station, year = record.get("station_id"), record.get("year")
            keys = [partition_key(str(station), int(year or 0), self.processed_prefix)]
            self.statuses.update(
                upload_id,
                {
                    "status": UploadStatus.SUPERSEDED,
                    "rows_clean": item.rows,
                    "superseded_by": upload_id_of(item.by),
                    "error": None,
                    "export_keys": keys if item.rows else [],
                },
                set_if_missing={"cleaned_at": now, "exported_at": now},
            )
            result.superseded.append(upload_id)

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
                failure(
                    ErrorCode.QUARANTINED,
                    f"The warehouse set this file aside ({item.error}) and loaded the "
                    "rest of its batch; nothing of it is in CLEAN. Correct the file "
                    "and upload it again.",
                ),
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
                ErrorCode.SNOWFLAKE_LOAD_FAILED
                if notification.message_type.startswith("INGEST")
                else ErrorCode.SNOWFLAKE_TASK_FAILED
            )
            self.statuses.update(
                upload_id,
                failure(code, notification.error),
                set_if_missing={"failed_at": now},
            )
            failed.append(upload_id)
        if not keys:
            logger.warning(
                "error notification names no file and none is pending",
                extra={"error": notification.error},
            )
        return failed
