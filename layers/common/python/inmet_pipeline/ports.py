"""What the use cases need from the outside world. Adapters implement these; tests fake them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class ObjectStore(Protocol):
    """The data bucket (S3, or moto locally)."""

    def put(
        self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> None: ...

    def exists(self, key: str) -> bool:
        """Whether the object is there (HEAD)."""
        ...

    def ping(self) -> None: ...


class StatusStore(Protocol):
    """Upload status records (DynamoDB). Records are plain dicts of JSON-compatible values."""

    def claim(
        self,
        upload_id: str,
        token: str,
        now_ms: int,
        document: Mapping[str, Any] | None = None,
    ) -> bool:
        """Create an in-flight record carrying ``document``'s fields (its status stays
        in-flight); False when a record for ``upload_id`` already exists."""
        ...

    def take_over(self, upload_id: str, old_token: str, new_token: str, now_ms: int) -> bool:
        """Replace a stale in-flight claim; False when it is no longer that claim."""
        ...

    def complete(self, upload_id: str, token: str, document: Mapping[str, Any]) -> None:
        """Store the received upload's document, ending the claim. When the record has moved
        on meanwhile (the export recorded it, or another request took the claim over), only
        fields still missing are filled in: nothing the export wrote is overwritten."""
        ...

    def release(self, upload_id: str, token: str) -> None:
        """Drop an in-flight claim after a failure, so that a retry starts afresh."""
        ...

    def restart_failed(self, upload_id: str, token: str, now_ms: int) -> bool:
        """Turn a ``failed`` or ``superseded`` record back into an in-flight claim (a
        re-upload starts it over); False when the record is neither any more."""
        ...

    def with_prefix(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` records whose upload_id starts with ``prefix`` (upload_id, status,
        filename, station_id only)."""
        ...

    def get(self, upload_id: str) -> dict[str, Any] | None: ...

    def update(
        self,
        upload_id: str,
        changes: Mapping[str, Any],
        set_if_missing: Mapping[str, Any] | None = None,
    ) -> None:
        """Set fields of an existing record; ``set_if_missing`` only where still unset (the
        first time a step was reached stays the time of that step)."""
        ...

    def ping(self) -> None: ...
