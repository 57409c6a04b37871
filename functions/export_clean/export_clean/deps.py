"""Builds the export service from settings, once per warm container, on first use.

The same shape as upload_api.deps: ``build_export_service`` makes the service from settings
(the Snowflake connection and the DynamoDB table are opened on first use, inside the adapters),
``export_service`` keeps one per warm container. Nothing here runs at import time.
"""

from __future__ import annotations

import os
from functools import lru_cache

from inmet_pipeline.adapters.aws import DynamoStatusStore
from inmet_pipeline.adapters.snowflake import SnowflakeExporter, SnowflakeSettings, plugged_exporter
from inmet_pipeline.exports import ExportService, PartitionExporter
from inmet_pipeline.settings import ConfigError, UploadSettings, load_settings


def build_export_service(storage: UploadSettings, warehouse: SnowflakeSettings) -> ExportService:
    # The local runtime plugs its own warehouse in (INMET_WAREHOUSE_ADAPTER, docs/local-runtime.md);
    # a deployed function leaves it unset and unloads through Snowflake.
    exporter: PartitionExporter = plugged_exporter(warehouse) or SnowflakeExporter(warehouse)
    return ExportService(exporter, DynamoStatusStore(storage.inmet_status_table, storage))


@lru_cache(maxsize=1)
def export_service() -> ExportService:
    """One service per warm container, on first use."""
    return build_export_service(load_settings(UploadSettings), load_settings(SnowflakeSettings))


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
