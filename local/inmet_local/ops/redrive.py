"""`inmet aws redrive`: replay the failed invocations waiting in the dead-letter queue.

ExportFunction, ErrorNotificationFunction and StuckUploadsFunction send an event that failed
Lambda's retries to ExportDeadLetterQueue as an on-failure destination record ("Capturing records
of Lambda asynchronous invocations": ``requestContext.functionArn`` names the function (and the
alias it was invoked through), ``requestPayload`` is the original event). SQS's own redrive
(StartMessageMoveTask) only moves messages back to a source queue, and these came from Lambda,
not from a queue; so each record's event is invoked again, asynchronously (InvocationType=Event:
a new failure goes through the same retries and lands in the queue again), and the message is
deleted only once Lambda accepted the invocation (202). Records that are not Lambda's are left
in the queue and reported.

The export and the error handler are idempotent (a re-delivered notification changes nothing:
tests/integration/test_export.py), so replaying a record twice is safe.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RedriveReport:
    replayed: list[str] = field(default_factory=list)  # function ARNs, one per message
    skipped: list[str] = field(default_factory=list)  # why each unusable message was kept
    failed: list[str] = field(default_factory=list)  # invocations Lambda refused
    seen: int = 0


def parse_record(body: str) -> tuple[str, Any]:
    """(function ARN, original event) of an on-failure destination record, or ValueError."""
    try:
        record = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ValueError("not a Lambda invocation record (not an object)")
    context = record.get("requestContext")
    arn = context.get("functionArn") if isinstance(context, dict) else None
    if not isinstance(arn, str) or ":function:" not in arn:
        raise ValueError("not a Lambda invocation record (no requestContext.functionArn)")
    if "requestPayload" not in record:
        raise ValueError("not a Lambda invocation record (no requestPayload)")
    return arn, record["requestPayload"]


def redrive(
    sqs: Any,
    lambda_client: Any,
    queue_url: str,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    on_message: Callable[[str, str], None] | None = None,
) -> RedriveReport:
    """Replay up to ``limit`` messages (all by default). ``on_message(outcome, detail)`` is
    called for each, for progress output."""
    report = RedriveReport()
    seen_ids: set[str] = set()
    kept: list[str] = []  # receipt handles of the messages left in the queue
    try:
        _drain(sqs, lambda_client, queue_url, report, seen_ids, kept, dry_run, limit, on_message)
    finally:
        # What stays is made visible again at once, for the next redrive (or a person).
        for handle in kept:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0
            )
    return report


def _drain(
    sqs: Any,
    lambda_client: Any,
    queue_url: str,
    report: RedriveReport,
    seen_ids: set[str],
    kept: list[str],
    dry_run: bool,
    limit: int | None,
    on_message: Callable[[str, str], None] | None,
) -> None:
    while limit is None or report.seen < limit:
        batch = min(10, limit - report.seen) if limit is not None else 10
        # Hidden while this run lasts, so that it sees each message once.
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch,
            WaitTimeSeconds=1,
            VisibilityTimeout=300,
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen_ids]
        if not fresh:
            break
        for message in fresh:
            seen_ids.add(message["MessageId"])
            report.seen += 1
            try:
                arn, event = parse_record(message["Body"])
            except ValueError as exc:
                kept.append(message["ReceiptHandle"])
                report.skipped.append(f"{message['MessageId']}: {exc}")
                if on_message:
                    on_message("skipped", f"{message['MessageId']}: {exc}")
                continue
            if dry_run:
                kept.append(message["ReceiptHandle"])
                report.replayed.append(arn)
                if on_message:
                    on_message("would replay", arn)
                continue
            answer = lambda_client.invoke(
                FunctionName=arn, InvocationType="Event", Payload=json.dumps(event).encode()
            )
            if answer.get("StatusCode") != 202:
                kept.append(message["ReceiptHandle"])
                report.failed.append(f"{arn}: status {answer.get('StatusCode')}")
                if on_message:
                    on_message("failed", arn)
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.replayed.append(arn)
            if on_message:
                on_message("replayed", arn)
