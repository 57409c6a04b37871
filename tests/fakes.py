"""In-memory stand-ins shared by the tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inmet_pipeline.notifications import upload_id_of
from inmet_pipeline.status import UploadStatus


class FakeExportWarehouse:
    """The export's warehouse side (exports.PartitionExporter) with nothing behind it: every
    partition is "written" with ``rows`` rows, every file has ``rows`` clean rows, and the
    progress and acknowledgement bookkeeping is kept nowhere. Subclass to inject a fault."""

    def __init__(self, rows: int = 1) -> None:
        self.rows = rows

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        return dict.fromkeys(raw_keys, self.rows)

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        return {key: self.rows for _, _, key in partitions}

    def remove_partition(self, station_id: str, year: int, key: str) -> None:
        return None

    def export_daily_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        return {key: self.rows for _, _, key in partitions}

    def remove_daily_partition(self, station_id: str, year: int, key: str) -> None:
        return None

    def unprocessed_raw_keys(self) -> list[str]:
        return []

    def superseded(self, station_years: Sequence[tuple[str, int]]) -> list[Any]:
        return []

    def exported_partitions(self, batch_id: str, part: int) -> dict[str, int]:
        return {}

    def record_exported(self, batch_id: str, part: int, done: Sequence[Any]) -> None:
        return None

    def acknowledge(self, batch_id: str, part: int, uploads: int) -> None:
        return None


class MemoryObjects:
    """S3 (ports.ObjectStore) as a dict of key → bytes."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(
        self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> None:
        self.objects[key] = data

    def exists(self, key: str) -> bool:
        return key in self.objects

    def ping(self) -> None:
        return None


class MemoryStatuses:
    """The status table (ports.StatusStore) as a dict of upload id → record, with the same
    conditions as the DynamoDB adapter's conditional writes."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def claim(
        self,
        upload_id: str,
        token: str,
        now_ms: int,
        document: Mapping[str, Any] | None = None,
    ) -> bool:
        if upload_id in self.items:
            return False
        self.items[upload_id] = {
            **dict(document or {}),
            "upload_id": upload_id,
            "status": UploadStatus.UPLOADING,
            "claim_token": token,
            "claimed_at_ms": now_ms,
        }
        return True

    def take_over(self, upload_id: str, old_token: str, new_token: str, now_ms: int) -> bool:
        item = self.items.get(upload_id)
        if not item or item.get("claim_token") != old_token:
            return False
        item.update(claim_token=new_token, claimed_at_ms=now_ms)
        return True

    def complete(self, upload_id: str, token: str, document: Mapping[str, Any]) -> None:
        item = self.items[upload_id]
        assert item["claim_token"] == token
        item.clear()
        item.update(document)

    def release(self, upload_id: str, token: str) -> None:
        if self.items.get(upload_id, {}).get("claim_token") == token:
            del self.items[upload_id]

    def restart_failed(self, upload_id: str, token: str, now_ms: int) -> bool:
        item = self.items.get(upload_id)
        if not item or item.get("status") not in (UploadStatus.FAILED, UploadStatus.SUPERSEDED):
            return False
        item.update(status=UploadStatus.UPLOADING, claim_token=token, claimed_at_ms=now_ms)
        return True

    def with_prefix(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        keys = ("upload_id", "status", "filename", "station_id")
        found = [
            {k: item.get(k) for k in keys}
            for upload_id, item in sorted(self.items.items())
            if upload_id.startswith(prefix)
        ]
        return found[:limit]

    def get(self, upload_id: str) -> dict[str, Any] | None:
        item = self.items.get(upload_id)
        return dict(item) if item else None

    def update(
        self,
        upload_id: str,
        changes: Mapping[str, Any],
        set_if_missing: Mapping[str, Any] | None = None,
    ) -> None:
        item = self.items[upload_id]
        item.update(changes)
        for name, value in (set_if_missing or {}).items():
            item.setdefault(name, value)

    def ping(self) -> None:
        return None

    @classmethod
    def received(cls, raw_keys: Sequence[str]) -> MemoryStatuses:
        """A store with a ``received`` record for each raw/ key, as the upload leaves it (the
        fields the export reads: the id, the station and the year)."""
        store = cls()
        for key in raw_keys:
            upload_id = upload_id_of(key)
            assert upload_id is not None, key
            store.items[upload_id] = {
                "upload_id": upload_id,
                "status": UploadStatus.RECEIVED,
                "station_id": key.split("station=")[1].split("/")[0],
                "year": int(key.split("year=")[1].split("/")[0]),
            }
        return store

    def status(self, raw_key: str) -> dict[str, Any]:
        """The record of the upload stored under ``raw_key``."""
        upload_id = upload_id_of(raw_key)
        assert upload_id is not None, raw_key
        return self.items[upload_id]
