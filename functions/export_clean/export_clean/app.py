"""Lambda handlers: the load notification → export; an error notification → failed uploads;
the scheduled stuck-upload check (StuckUploadsFunction).

Both are subscribed to SNS topics that Snowflake publishes to. A failure re-raises: SNS → Lambda
is asynchronous, so Lambda retries and then sends the event to the on-failure dead-letter queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_clean.deps import export_service, stuck_after_minutes, stuck_source
from inmet_pipeline.notifications import ErrorNotification, LoadNotification
from inmet_pipeline.stuck import METRIC as STUCK_METRIC
from inmet_pipeline.stuck import find_stuck

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="InmetPipeline")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    results = []
    for record in event.records:
        message = LoadNotification.parse(record.sns.message)
        # Between waves the export checks the invocation's time left; when it runs short it
        # records its progress and raises ExportIncomplete: Lambda's asynchronous retry (or the
        # warehouse's re-send) resumes from there.
        result = export_service().export_batch(message, context.get_remaining_time_in_millis)
        metrics.add_metric(
            "PartitionsExported",
            MetricUnit.Count,
            len(result.export_keys) - len(result.resumed_keys),
        )
        metrics.add_metric("UploadsExported", MetricUnit.Count, len(result.uploads))
        # One bad partition or file is skipped, not the whole message: counted here.
        metrics.add_metric("PartitionsFailed", MetricUnit.Count, len(result.failed_partitions))
        metrics.add_metric("UploadsQuarantined", MetricUnit.Count, len(result.quarantined))
        results.append(
            {
                "batch_id": result.batch_id,
                "part": result.part,
                "resumed_keys": result.resumed_keys,
                "export_keys": result.export_keys,
                "removed_keys": result.removed_keys,
                "uploads": result.uploads,
                "failed_partitions": [f"{s}/{y}" for s, y in result.failed_partitions],
                "quarantined": result.quarantined,
            }
        )
    return {"batches": results}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def error_handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    failed: list[str] = []
    for record in event.records:
        notification = ErrorNotification.parse(record.sns.message)
        logger.error(
            "Snowflake reported an error",
            extra={"type": notification.message_type, "error": notification.error},
        )
        failed.extend(export_service().record_failure(notification))
    metrics.add_metric("UploadsFailed", MetricUnit.Count, len(failed))
    return {"failed_uploads": failed}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def stuck_uploads_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Scheduled (StuckUploadsFunction): publish how many uploads are stuck in `received`."""
    report = find_stuck(stuck_source(), datetime.now(UTC), stuck_after_minutes())
    metrics.add_metric(STUCK_METRIC, MetricUnit.Count, report.count)
    if report.count:
        logger.warning(
            "uploads stuck in received",
            extra={"count": report.count, "cutoff": report.cutoff, "oldest": report.oldest},
        )
    return {"stuck": report.count, "cutoff": report.cutoff, "oldest": report.oldest}
