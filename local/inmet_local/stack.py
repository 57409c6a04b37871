"""The whole pipeline on one machine: `inmet local up` and `inmet local run`.

Started on 127.0.0.1, in this order:
1. moto server (S3, SQS, SNS, DynamoDB) with the resources template.yaml declares, the bucket's
   raw/ notification to a queue standing in for the pipe's (as in AWS once the pipe exists),
   and one SQS queue subscribed to each SNS topic (standing in for the Lambda subscriptions);
2. the fakesnow server, its warehouse on disk in ``<data-dir>/warehouse`` (survives restarts),
   with snowflake_sql/ deployed;
3. the upload API under uvicorn, configured like UploadFunction;
4. the runtime loop (a thread): pipe poller → task runner → notifier → ExportFunction /
   error handler, called in-process with the same SNS-shaped events Lambda gets.

What does not survive a restart: moto's state (S3 objects, upload statuses). The warehouse
(RAW, CLEAN) does; files uploaded again after a restart are recognised by the pipe's load
history and re-exported without being loaded twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from inmet_local.discovery import STATE_FILE, DataDirInUse, DataDirLock, write_state
from inmet_local.servers import (
    ManagedProcess,
    ServerError,
    aws_env,
    fakesnow_client_env,
    fakesnow_connect_kwargs,
    fakesnow_server,
    moto_client_kwargs,
    moto_server,
    port_in_use,
    uvicorn_server,
)
from inmet_local.sqlproject import variables
from inmet_local.template import LocalNames, Provisioned, pipe_queue, provision, queue_arn
from inmet_local.warehouse import LocalWarehouse, pipe_error_message, task_error_message
from inmet_pipeline.notifications import upload_id_of

log = logging.getLogger("inmet.local")

BUCKET = "inmet-local"
TABLE = "inmet-uploads"
PIPE_QUEUE = "snowpipe-local"
# The Lambda function subscribed to each topic in template.yaml.
_FUNCTIONS = {
    "LoadNotificationTopic": "ExportFunction",
    "ErrorNotificationTopic": "ErrorNotificationFunction",
}


@dataclass(slots=True)
class LocalLambdaContext:
    """The context object Lambda passes to a handler (what Powertools reads of it)."""

    function_name: str
    aws_request_id: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    log_group_name: str = "/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000

    @classmethod
    def for_function(cls, name: str) -> LocalLambdaContext:
        import uuid

        return cls(function_name=name, aws_request_id=str(uuid.uuid4()))


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


def _sns_event(topic_arn: str, message: str) -> dict[str, Any]:
    """The event Lambda receives from an SNS subscription (the shape of events/*.json)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:local",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "local",
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "SignatureVersion": "1",
                    "Signature": "",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {},
                },
            }
        ]
    }


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


class LocalStack:
    def __init__(
        self,
        data_dir: Path,
        port: int = 8000,
        api_key: str | None = None,
        task_interval: float = TASK_INTERVAL_SECONDS,
        sample: bool = False,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        # Every local stack has an API key: without one, any web page open in the browser
        # could POST a file into it (a text/plain POST needs no CORS preflight). Generated per
        # start unless given; printed, kept in the stack's settings (stack.json, readable by
        # this user only) and used by `inmet local run`, `inmet upload` and `inmet status`.
        self.api_key = api_key or secrets.token_urlsafe(24)
        self.sample = sample  # the generated sample's stack (stack.json says so)
        self.lock = DataDirLock(self.data_dir)
        self.task_trigger = TriggerInterval(task_interval)
        self.logs = self.data_dir / "logs"
        self.moto: ManagedProcess | None = None
        self.fakesnow: ManagedProcess | None = None
        self.api: ManagedProcess | None = None
        self.provisioned: Provisioned | None = None
        self.warehouse: LocalWarehouse | None = None
        self.stats = RuntimeStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dispatch: dict[str, str] = {}  # topic logical id -> queue URL
        self.env: dict[str, str] = {}
        self.cpu_seconds: dict[str, float] = {}  # by server, read as stop() stops it

    # -- life cycle -----------------------------------------------------------------------------
    def start(self, say: Callable[[str], None] = print) -> None:
        # The data dir first: a second stack on the same folder is the likelier mistake, and
        # its warehouse file cannot be shared (see discovery.DataDirLock).
        try:
            self.lock.acquire()
        except DataDirInUse as exc:
            raise ServerError(str(exc)) from None
        except OSError as exc:
            raise ServerError(
                f"cannot use {self.data_dir} as the data dir: {exc.strerror or exc}"
            ) from None
        if port_in_use(self.port):
            self.lock.release()
            raise ServerError(
                f"port {self.port} on 127.0.0.1 is in use; stop what uses it or "
                "choose another with --port"
            )
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            self.moto = moto_server(log_path=self.logs / "moto.log").start()
            say(f"moto server (S3, SQS, SNS, DynamoDB): {self.moto.url}")
            self.fakesnow = fakesnow_server(
                db_path=self.data_dir / "warehouse",
                log_path=self.logs / "fakesnow.log",
                unload_dir=self.data_dir / "unload",
            ).start()
            say(
                f"fakesnow server (Snowflake):         {self.fakesnow.url}  "
                f"warehouse in {self.data_dir / 'warehouse'}"
            )
            self._provision()
            try:
                self._deploy_warehouse(say)
            except Exception as exc:
                raise ServerError(self._warehouse_failure(exc)) from exc
            self.env = self._function_env()
            # The upload API gets no unload token: only the exporter calls that route.
            api_env = {k: v for k, v in self.env.items() if k != "INMET_LOCAL_UNLOAD_TOKEN"}
            self.api = uvicorn_server(
                api_env, port=self.port, log_path=self.logs / "api.log"
            ).start()
            say(f"upload API (uvicorn):                {self.api.url}  docs: {self.api.url}/docs")
            say(f"API key (x-api-key):                 {self.api_key}")
            self._thread = threading.Thread(
                target=self._run_loop, name="inmet-runtime", daemon=True
            )
            self._thread.start()
            say(f"logs: {self.logs}")
            self._write_state()
        except BaseException:
            self.stop()
            raise

    @property
    def state_file(self) -> Path:
        return self.data_dir / STATE_FILE

    def _warehouse_failure(self, exc: Exception) -> str:
        """One line for a warehouse that could not be set up, with the cause from the log."""
        log_path = self.logs / "fakesnow.log"
        tail = ""
        with contextlib.suppress(OSError):
            tail = log_path.read_text(errors="replace")[-20_000:]
        lock = re.search(r"Conflicting lock is held in (\S+) \(PID (\d+)\)", tail)
        if lock:
            return (
                f"the warehouse {self.data_dir / 'warehouse'} is locked by another process "
                f"(pid {lock.group(2)}, {lock.group(1)}); stop it or use another --data-dir"
            )
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"the local warehouse could not be set up: {first[:300]} (see {log_path})"

    def _write_state(self) -> None:
        """Where this stack is, for every command that talks to it (discovery.read_stack);
        removed again by stop()."""
        assert self.api is not None
        assert self.provisioned is not None
        state: dict[str, Any] = {
            "pid": os.getpid(),
            "data_dir": str(self.data_dir),
            "api_url": self.api.url,
            "sample": self.sample,
            # The functions' variables, for `inmet local invoke` — without the API key: as
            # `sam local invoke`, an invocation does not pass through the gateway's key check
            # (and in AWS the gateway, not the function, holds the key).
            "env": {k: v for k, v in self.env.items() if k != "INMET_API_KEY"},
            "names": {"DataBucket": BUCKET, "UploadsTable": TABLE, **self.provisioned.topics},
            "api_key": self.api_key,
        }
        write_state(self.data_dir, state)

    def stop(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.api is not None and self.lock.held():  # only a stack that started wrote it
                self.state_file.unlink()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.warehouse is not None:
            self.warehouse.close()
        for server in (self.api, self.fakesnow, self.moto):
            if server is not None:
                cpu = server.cpu_seconds()
                if cpu is not None:
                    self.cpu_seconds[server.name] = cpu
                server.stop()
        self.lock.release()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- set-up ---------------------------------------------------------------------------------
    @property
    def client_kwargs(self) -> dict[str, Any]:
        assert self.moto is not None
        return moto_client_kwargs(self.moto.url)

    def client(self, service: str) -> Any:
        return boto3.client(service, **self.client_kwargs)  # type: ignore[call-overload]

    def _provision(self) -> None:
        self.provisioned = provision(self.client_kwargs, LocalNames(bucket=BUCKET, table=TABLE))
        sqs, s3, sns = self.client("sqs"), self.client("s3"), self.client("sns")
        # The pipe's queue: in AWS its ARN comes from SHOW PIPES and becomes the bucket's
        # raw/ notification target (template parameter); here a local queue plays it.
        self.provisioned.queues["SnowpipeQueue"] = pipe_queue(sqs, s3, BUCKET, PIPE_QUEUE)
        for logical, topic in self.provisioned.topics.items():
            queue = sqs.create_queue(QueueName=f"local-{logical}")["QueueUrl"]
            sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=queue_arn(sqs, queue),
                Attributes={"RawMessageDelivery": "false"},
            )
            self._dispatch[logical] = queue

    def _deploy_warehouse(self, say: Callable[[str], None]) -> None:
        assert self.fakesnow is not None
        values = variables({"bucket": BUCKET})
        self.warehouse = LocalWarehouse(
            fakesnow_connect_kwargs(self.fakesnow.url),
            values=values,
            work_dir=self.data_dir / "pipe",
        )
        report = self.warehouse.deploy()
        say(
            f"warehouse: {len(report.ran)} statements run; left to Snowflake: "
            f"{report.skipped_summary()}"
        )

    def _function_env(self) -> dict[str, str]:
        assert self.moto is not None
        assert self.fakesnow is not None
        env = {
            **aws_env(self.moto.url),
            "S3_BUCKET": BUCKET,
            "S3_PATH": "raw/inmet",
            "INMET_STATUS_TABLE": TABLE,
            **fakesnow_client_env(self.fakesnow),
            "SNOWFLAKE_DATABASE": variables()["database"],
            "POWERTOOLS_SERVICE_NAME": "inmet-pipeline",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "INMET_ENV_FILE": "/dev/null",  # the local stack ignores .env by design
        }
        env["INMET_API_KEY"] = self.api_key
        return env

    # -- the runtime loop -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _function_environment(self) -> Iterator[None]:
        """The ExportFunction's environment, for in-process handler calls."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def _run_loop(self) -> None:
        from export_clean import app as export_app
        from export_clean.deps import export_service

        assert self.warehouse is not None

        assert self.provisioned is not None
        # The functions' structured logs go to a file, as they would go to CloudWatch.
        handler = export_app.logger.registered_handler
        log_file = (self.logs / "functions.log").open("a", encoding="utf-8")
        previous = None
        if isinstance(handler, logging.StreamHandler):
            previous = handler.setStream(log_file)
        with self._function_environment():
            export_service.cache_clear()
            # Snowflake and Lambda work independently: the functions (a thread of their own)
            # export batch k while the pipe and the task load and clean batch k+1.
            functions = threading.Thread(
                target=self._serve,
                args=(self._functions_cycle, export_app),
                name="inmet-functions",
                daemon=True,
            )
            functions.start()
            self._serve(self._warehouse_cycle, export_app)
            functions.join(timeout=60)
        if isinstance(handler, logging.StreamHandler) and previous is not None:
            handler.setStream(previous)
        log_file.close()

    def _serve(self, cycle: Callable[..., None], export_app: Any) -> None:
        """Run ``cycle`` until stop(), with clients of its own; an error is recorded and
        shown, and the cycle goes on (as Snowflake and Lambda retry)."""
        assert self.provisioned is not None
        sqs, s3, sns = self.client("sqs"), self.client("s3"), self.client("sns")
        while not self._stop.is_set():
            try:
                cycle(sqs, s3, sns, self.provisioned.topics, export_app)
            except Exception as exc:
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                self.stats.errors.append(self.stats.last_error)
                log.error("runtime cycle failed:\n%s", traceback.format_exc())
                self._stop.wait(1.0)

    def _functions_cycle(
        self, sqs: Any, s3: Any, sns: Any, topics: Mapping[str, str], export_app: Any
    ) -> None:
        """SNS → ExportFunction / ErrorNotificationFunction, with Lambda-shaped events."""
        handled = self._dispatch_topic(sqs, "LoadNotificationTopic", export_app.handler)
        handled += self._dispatch_topic(sqs, "ErrorNotificationTopic", export_app.error_handler)
        if not handled:
            self._stop.wait(0.5)

    def _warehouse_cycle(
        self, sqs: Any, s3: Any, sns: Any, topics: Mapping[str, str], export_app: Any
    ) -> None:
        """The pipe, the task and the notifications: what Snowflake does."""
        wh = self.warehouse
        assert wh is not None
        assert self.provisioned is not None
        polled = wh.poll_pipe(
            sqs, self.provisioned.queues["SnowpipeQueue"], s3, BUCKET, wait_seconds=1
        )
        if polled.files_loaded:
            self.stats.pipe_seconds += polled.seconds
        self.stats.files_loaded += len(polled.files_loaded)
        self.stats.rows_loaded += polled.rows_loaded
        for key, error in polled.errors:
            sns.publish(
                TopicArn=topics["ErrorNotificationTopic"],
                Message=pipe_error_message(wh.values, key, error),
            )
        if polled.files_skipped:
            replay = wh.replay_notification(polled.files_skipped)
            if replay:
                sns.publish(TopicArn=topics["LoadNotificationTopic"], Message=replay)
        try:
            run = self.task_trigger.run(wh.run_task)
        except Exception as exc:
            sns.publish(
                TopicArn=topics["ErrorNotificationTopic"],
                Message=task_error_message(wh.values, str(exc)),
            )
            raise
        if run is not None:
            self.stats.batches += 1
            self.stats.task_seconds += run.seconds
        wh.send_notifications(
            lambda m: sns.publish(TopicArn=topics["LoadNotificationTopic"], Message=m)
        )

    def _dispatch_topic(self, sqs: Any, logical: str, handler: Callable[..., Any]) -> int:
        """Deliver what the topic's queue holds to its function; the number delivered."""
        queue = self._dispatch[logical]
        delivered = 0
        while not self._stop.is_set():
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            for message in messages:
                envelope = json.loads(message["Body"])
                event = _sns_event(envelope["TopicArn"], envelope["Message"])
                function = _FUNCTIONS[logical]
                started = time.perf_counter()
                handler(event, LocalLambdaContext.for_function(function))  # raises: retried
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                delivered += 1
                if logical == "LoadNotificationTopic":
                    self.stats.exports += 1
                    self.stats.export_seconds += time.perf_counter() - started
        return delivered

    # -- queries for the CLI --------------------------------------------------------------------
    def loaded_upload_ids(self) -> set[str]:
        """The upload ids (sha256) of every file the pipe has loaded into this warehouse."""
        wh = self.warehouse
        assert wh is not None
        rows = wh.execute(f"SELECT file_name FROM {wh.raw}._LOCAL_PIPE_HISTORY")
        return {upload_id for (name,) in rows if (upload_id := upload_id_of(str(name)))}

    def counts(self) -> dict[str, int]:
        wh = self.warehouse
        assert wh is not None
        return {
            "raw_rows": int(wh.scalar(f"SELECT COUNT(*) FROM {wh.raw}.INMET_RAW")),
            "clean_rows": int(wh.scalar(f"SELECT COUNT(*) FROM {wh.clean}.OBSERVATIONS")),
        }
