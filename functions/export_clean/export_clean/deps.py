"""Builds the export service from settings, once per warm container, on first use."""

from __future__ import annotations

import os
from functools import lru_cache

from inmet_pipeline.adapters.aws import DynamoStatusStore
from inmet_pipeline.adapters.snowflake import SnowflakeExporter, SnowflakeSettings, plugged_exporter
from inmet_pipeline.exports import ExportService, PartitionExporter
from inmet_pipeline.settings import ConfigError, UploadSettings, load_settings


@lru_cache(maxsize=1)
def export_service() -> ExportService:
    storage = load_settings(UploadSettings)
    warehouse = load_settings(SnowflakeSettings)
    # The local runtime plugs its own warehouse in (INMET_WAREHOUSE_ADAPTER); a deployed
    # function leaves it unset.
    exporter: PartitionExporter = plugged_exporter(warehouse) or SnowflakeExporter(warehouse)
    return ExportService(exporter, DynamoStatusStore(storage.inmet_status_table, storage))


def stuck_after_minutes() -> int:
    """INMET_STUCK_AFTER_MINUTES (template parameter StuckUploadMinutes), default 60."""
    raw = os.environ.get("INMET_STUCK_AFTER_MINUTES", "60")
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"invalid setting INMET_STUCK_AFTER_MINUTES: {raw!r} is not a number of minutes"
        ) from None


def stuck_source() -> DynamoStatusStore:
    storage = load_settings(UploadSettings)
    return DynamoStatusStore(storage.inmet_status_table, storage)
