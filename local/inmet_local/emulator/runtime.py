"""The local stack's runtime loop: what Snowflake and Lambda do between the servers.

Two threads, each with clients of its own: the warehouse's (pipe poller → task runner →
notifier, as ``LocalWarehouse`` emulates them) and the functions' (each SNS topic's queue → the
function template.yaml subscribes to it, called in-process with the Lambda-shaped event). An
error in a cycle is recorded and shown, and the cycle goes on (as Snowflake and Lambda retry).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inmet_local.emulator.lambda_local import (
    LocalLambdaContext,
    function_environment,
    handler_named,
    redirect_function_logs,
    sns_event,
)
from inmet_local.emulator.stack_running import BUCKET, ERROR_TOPIC, LOAD_TOPIC, Clients, Running
from inmet_local.emulator.warehouse import pipe_error_message, task_error_message

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

log = logging.getLogger("inmet.local")


@dataclass(slots=True)
class RuntimeStats:
    files_loaded: int = 0
    rows_loaded: int = 0
    batches: int = 0
    exports: int = 0
    errors: list[str] = field(default_factory=list)
    last_error: str | None = None
    # Busy time of each emulated service (the loop's idle waits are not counted).
    pipe_seconds: float = 0.0
    task_seconds: float = 0.0
    export_seconds: float = 0.0

    def describe(self) -> str:
        return (
            f"{self.files_loaded} files loaded by the pipe in {self.pipe_seconds:.1f} s; "
            f"{self.batches} task runs in {self.task_seconds:.1f} s; "
            f"{self.exports} exports in {self.export_seconds:.1f} s"
        )


# Snowflake runs a triggered task at most once per USER_TASK_MINIMUM_TRIGGER_INTERVAL_IN_SECONDS
# (30 s by default): files that arrive meanwhile wait in the stream and make one bigger batch.
# The local runtime does the same with a shorter default, so that a year of files uploaded over
# half a minute becomes a handful of batches instead of one per poll (each batch's MERGE reads
# all of CLEAN), while a small demo still runs its first batch at once.
TASK_INTERVAL_SECONDS = 10.0


@dataclass(slots=True)
class TriggerInterval:
    """When the emulated task may run again: ``seconds`` after the start of its last run."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    last_start: float = float("-inf")

    def due(self) -> bool:
        return self.clock() - self.last_start >= self.seconds

    def run(self, task: Callable[[], Any]) -> Any:
        """Run ``task`` if due; a run that found work (not None) starts the next interval."""
        if not self.due():
            return None
        started = self.clock()
        result = task()
        if result is not None:
            self.last_start = started
        return result


class Runtime:
    """The loop of one running stack; ``stats`` counts what it did."""

    def __init__(
        self,
        up: Running,
        logs: Path,
        trigger: TriggerInterval,
        stats: RuntimeStats,
        stop: threading.Event,
    ) -> None:
        self.up = up
        self.logs = logs
        self.task_trigger = trigger
        self.stats = stats
        self.stop = stop

    def run(self) -> None:
        """The loop, until ``stop`` is set (LocalStack.start runs it in a thread)."""
        from export_clean.deps import export_service

        up = self.up
        handlers = {
            topic: handler_named(sub.function.handler) for topic, sub in up.subscriptions.items()
        }
        # The functions' structured logs go to a file, as they would go to CloudWatch.
        log_file = (self.logs / "functions.log").open("a", encoding="utf-8")
        redirected = redirect_function_logs(handlers.values(), log_file)
        with function_environment(up.env):
            export_service.cache_clear()
            # Snowflake and Lambda work independently: the functions (a thread of their own)
            # export batch k while the pipe and the task load and clean batch k+1.
            functions = threading.Thread(
                target=self._serve,
                args=(lambda clients: self._functions_cycle(clients, handlers),),
                name="inmet-functions",
                daemon=True,
            )
            functions.start()
            self._serve(self._warehouse_cycle)
            functions.join(timeout=60)
        for handler, previous in redirected:
            handler.setStream(previous)
        log_file.close()

    def _serve(self, cycle: Callable[[Clients], None]) -> None:
        """Run ``cycle`` until stop(), with clients of its own; an error is recorded and
        shown, and the cycle goes on (as Snowflake and Lambda retry)."""
        clients = self.up.clients()
        while not self.stop.is_set():
            try:
                cycle(clients)
            except Exception as exc:
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                self.stats.errors.append(self.stats.last_error)
                log.error("runtime cycle failed:\n%s", traceback.format_exc())
                self.stop.wait(1.0)

    def _functions_cycle(self, clients: Clients, handlers: dict[str, Callable[..., Any]]) -> None:
        """SNS → the subscribed functions (ExportFunction, ErrorNotificationFunction), with
        Lambda-shaped events."""
        handled = 0
        for topic, handler in handlers.items():
            handled += self._dispatch_topic(clients.sqs, topic, handler)
        if not handled:
            self.stop.wait(0.5)

    def _warehouse_cycle(self, clients: Clients) -> None:
        """The pipe, the task and the notifications: what Snowflake does."""
        up = self.up
        wh, sns = up.warehouse, clients.sns
        polled = wh.pipe.poll(
            clients.sqs, up.provisioned.queues["SnowpipeQueue"], clients.s3, BUCKET, wait_seconds=1
        )
        if polled.files_loaded:
            self.stats.pipe_seconds += polled.seconds
        self.stats.files_loaded += len(polled.files_loaded)
        self.stats.rows_loaded += polled.rows_loaded
        for key, error in polled.errors:
            sns.publish(
                TopicArn=up.topic(ERROR_TOPIC), Message=pipe_error_message(wh.values, key, error)
            )
        if polled.files_skipped:
            replay = wh.notifier.replay(polled.files_skipped)
            if replay:
                sns.publish(TopicArn=up.topic(LOAD_TOPIC), Message=replay)
        try:
            run = self.task_trigger.run(wh.run_task)
        except Exception as exc:
            sns.publish(
                TopicArn=up.topic(ERROR_TOPIC), Message=task_error_message(wh.values, str(exc))
            )
            raise
        if run is not None:
            self.stats.batches += 1
            self.stats.task_seconds += run.seconds
        wh.send_notifications(lambda m: sns.publish(TopicArn=up.topic(LOAD_TOPIC), Message=m))

    def _dispatch_topic(self, sqs: SQSClient, logical: str, handler: Callable[..., Any]) -> int:
        """Deliver what the topic's queue holds to its function; the number delivered."""
        subscription = self.up.subscriptions[logical]
        delivered = 0
        while not self.stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=subscription.queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                envelope = json.loads(message["Body"])
                event = sns_event(envelope["TopicArn"], envelope["Message"])
                function = subscription.function.logical_id
                started = time.perf_counter()
                handler(event, LocalLambdaContext.for_function(function))  # raises: retried
                sqs.delete_message(
                    QueueUrl=subscription.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                delivered += 1
                if logical == LOAD_TOPIC:
                    self.stats.exports += 1
                    self.stats.export_seconds += time.perf_counter() - started
        return delivered
