"""The notifier, emulated: what the task's scripting block and the sweep task send.

Each due message of RAW.NOTIFICATIONS_DUE goes to the load topic, as
SYSTEM$SEND_SNOWFLAKE_NOTIFICATION does (task/send_notifications.sql), and load or task errors
go to the error topic in Snowflake's error-notification shape.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from inmet_local.emulator.warehouse_connection import WarehouseConnection

log = logging.getLogger("inmet.warehouse")


class Notifier:
    """The notifications of one warehouse connection."""

    def __init__(self, wh: WarehouseConnection) -> None:
        self.wh = wh

    def replay(self, raw_keys: Sequence[str]) -> str | None:
        """A load notification for files loaded before (the pipe skipped them again).

        In AWS a re-upload of identical bytes never reaches the pipe (the upload answers 200).
        Locally a start announces every upload not yet exported to the pipe again
        (``inmet_local.emulator.recovery``), and the pipe may have loaded some of them before a
        crash: it skips those, and the runtime announces them once more; the export is
        idempotent.

        Why this message is built here and not read from the view that builds the task's
        messages (CLEAN.PENDING_NOTIFICATIONS, queued in RAW.NOTIFICATIONS and listed by
        RAW.NOTIFICATIONS_DUE): those carry the original batch's id, all its files and its
        partitions' row counts *at that batch*. Re-sending one would be skipped by the export,
        which resumes a (batch_id, part) from CLEAN.EXPORTED_PARTITIONS and acknowledges it once
        (EXPORT_ACKS), and could carry stale counts after a later batch. A replay needs a batch
        id of its own, only the re-uploaded files and today's counts; no view gives that
        (a view for it belongs to snowflake_sql/, part A of issue 16).
        """
        names = [self.wh.stage_file_name(k) for k in raw_keys]
        if not names:
            return None
        marks = ", ".join("?" for _ in names)
        files = self.wh.execute(
            f"SELECT raw_key, station_id, year FROM {self.wh.clean}.FILE_LOADS "
            f"WHERE file_name IN ({marks}) ORDER BY raw_key",
            names,
        )
        if not files:
            return None
        partitions = []
        for station_id, year in sorted({(s, y) for _, s, y in files if s and y}):
            rows = self.wh.scalar(
                f"SELECT COUNT(*) FROM {self.wh.clean}.OBSERVATIONS WHERE station_id = ? AND "
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

    def pending(self) -> list[tuple[str, int, str]]:
        """RAW.NOTIFICATIONS_DUE: (batch_id, part, message) to send now."""
        rows = self.wh.execute(
            f"SELECT batch_id, part, message FROM {self.wh.raw}.NOTIFICATIONS_DUE "
            "ORDER BY batch_id, part"
        )
        return [(str(b), int(p), str(m)) for b, p, m in rows]

    def send(self, publish: Callable[[str], object]) -> list[dict[str, Any]]:
        """What the task's scripting block and the sweep task do (task/send_notifications.sql):
        SYSTEM$SEND_SNOWFLAKE_NOTIFICATION for each due message, counting the send. A message
        stays due until the export acknowledges it (CLEAN.EXPORT_ACKS), so one whose delivery
        was lost is sent again after notification_resend_minutes. Returns the messages sent."""
        sent = []
        for batch_id, part, message in self.pending():
            try:
                publish(message)
            except Exception as exc:  # as the scripting block's handler: counted, sent later
                log.warning("load notification %s/%s not sent: %s", batch_id, part, exc)
            else:
                sent.append(json.loads(message))
            self.wh.execute(
                f"UPDATE {self.wh.raw}.NOTIFICATIONS "
                "SET sends = sends + 1, last_sent_at = SYSDATE() WHERE batch_id = ? AND part = ?",
                [batch_id, part],
            )
        return sent


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
