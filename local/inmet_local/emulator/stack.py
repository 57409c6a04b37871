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

What survives a restart, a crash or ``kill -9`` (docs/local-runtime.md, "What survives a
crash"): the warehouse (RAW, CLEAN) in ``<data-dir>/warehouse``, and the bucket's objects and
the status table in ``<data-dir>/aws`` (``inmet_local.emulator.aws_state``). A start restores
them and announces again every upload not yet exported (``inmet_local.emulator.recovery``).
The servers stop when this process dies (``inmet_local.emulator.watchdog``); a start first
stops what a dead stack on the same data dir left running; a server that dies stops the stack.

Here: the life cycle (start, stop, the state file). Split out: what a started stack holds and
provisions (``inmet_local.emulator.stack_running``), the loop (``inmet_local.emulator.runtime``)
and Lambda played
in-process (``inmet_local.emulator.lambda_local``); the SNS subscriptions are template.yaml's, as
``inmet_local.emulator.invoke.sns_subscriptions`` reads them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3

from inmet_local.emulator.lambda_local import LocalLambdaContext
from inmet_local.emulator.recovery import Supervisor, restore_aws, resume_uploads
from inmet_local.emulator.runtime import (
    TASK_INTERVAL_SECONDS,
    Runtime,
    RuntimeStats,
    TriggerInterval,
)
from inmet_local.emulator.servers import (
    ManagedProcess,
    ServerError,
    aws_env,
    fakesnow_client_env,
    fakesnow_server,
    fakesnow_server_kwargs,
    moto_access_key,
    moto_client_kwargs,
    moto_server,
    port_in_use,
    uvicorn_server,
)
from inmet_local.emulator.stack_running import BUCKET, TABLE, Running, provision_stack
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.emulator.watchdog import record, stop_leftovers
from inmet_local.snowflake.sqlproject import variables
from inmet_local.workspace.discovery import STATE_FILE, DataDirInUse, DataDirLock, write_state
from inmet_pipeline.notifications import upload_id_of

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

log = logging.getLogger("inmet.local")

__all__ = ["BUCKET", "TABLE", "LocalLambdaContext", "LocalStack", "TriggerInterval"]


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
        self.stats = RuntimeStats()
        self._running: Running | None = None  # set by start() once everything is up
        self._stop = threading.Event()
        # What start() started, undone by stop() in reverse order (a failed start included).
        self._cleanup = contextlib.ExitStack()
        self.cpu_seconds: dict[str, float] = {}  # by server, read as stop() stops it
        # Set when a server died and the stack stopped because of it: one line naming it.
        self.failure: str | None = None
        self._servers: list[ManagedProcess] = []

    @property
    def up(self) -> Running:
        """The running stack; a ServerError before start() or after stop()."""
        if self._running is None:
            raise ServerError("the local stack is not running")
        return self._running

    @property
    def api(self) -> ManagedProcess:
        return self.up.api

    @property
    def warehouse(self) -> LocalWarehouse:
        return self.up.warehouse

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
        # A stack killed before its servers could stop leaves them on our ports and warehouse.
        left = stop_leftovers(self.data_dir)
        if left:
            say(f"stopped {len(left)} process(es) a previous stack left running: {left}")
        if port_in_use(self.port):
            self.lock.release()
            raise ServerError(
                f"port {self.port} on 127.0.0.1 is in use; stop what uses it or "
                "choose another with --port"
            )
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            moto = self._started(
                moto_server(
                    log_path=self.logs / "moto.log",
                    state_dir=self.data_dir / "aws",
                    access_key="LOCAL" + secrets.token_hex(8).upper(),
                )
            )
            say(f"moto server (S3, SQS, SNS, DynamoDB): {moto.url}")
            fakesnow = self._started(
                fakesnow_server(
                    db_path=self.data_dir / "warehouse",
                    log_path=self.logs / "fakesnow.log",
                    unload_dir=self.data_dir / "unload",
                    read_dirs=[self.data_dir / "pipe"],
                )
            )
            say(
                f"fakesnow server (Snowflake):         {fakesnow.url}  "
                f"warehouse in {self.data_dir / 'warehouse'}"
            )
            aws = moto_client_kwargs(moto.url, access_key=moto_access_key(moto))
            provisioned, subscriptions = provision_stack(aws)
            restored = restore_aws(moto)
            try:
                warehouse = self._deploy_warehouse(fakesnow, say)
            except Exception as exc:
                raise ServerError(self._warehouse_failure(exc)) from exc
            resumed = resume_uploads(aws, TABLE, BUCKET, provisioned.queues["SnowpipeQueue"])
            if restored["objects"] or resumed:
                say(
                    f"restored {restored['objects']} object(s) and the status table from "
                    f"{self.data_dir / 'aws'}; {resumed} upload(s) not yet exported resume"
                )
            env = self._function_env(moto, fakesnow)
            # The upload API gets no unload token: only the exporter calls that route.
            api_env = {k: v for k, v in env.items() if k != "INMET_LOCAL_UNLOAD_TOKEN"}
            api = self._started(
                uvicorn_server(api_env, port=self.port, log_path=self.logs / "api.log")
            )
            say(f"upload API (uvicorn):                {api.url}  docs: {api.url}/docs")
            say(f"API key (x-api-key):                 {self.api_key}")
            self._running = Running(moto, fakesnow, api, provisioned, warehouse, env, subscriptions)
            runtime = Runtime(self._running, self.logs, self.task_trigger, self.stats, self._stop)
            thread = threading.Thread(target=runtime.run, name="inmet-runtime", daemon=True)
            thread.start()
            self._cleanup.callback(thread.join, timeout=30)
            say(f"logs: {self.logs}")
            self._write_state()
            Supervisor([moto, fakesnow, api], self._part_died, self._stop).start()
        except BaseException:
            self.stop()
            raise

    def _started(self, server: ManagedProcess) -> ManagedProcess:
        """Start ``server``; stop() stops it (and records its CPU time)."""
        server.start()
        self._servers.append(server)
        record(self.data_dir, {s.name: s.process.pid for s in self._servers if s.process})

        def stop() -> None:
            cpu = server.cpu_seconds()
            if cpu is not None:
                self.cpu_seconds[server.name] = cpu
            server.stop()

        self._cleanup.callback(stop)
        return server

    def _part_died(self, message: str) -> None:
        """The Supervisor's call: no command may find this stack, and the API stops first."""
        self.failure = message
        log.error("%s", message)
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()
        if self._running is not None:
            self._running.api.stop()
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """True once stop() began or a server died (``failure`` then names it)."""
        return self._stop.is_set()

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
        up = self.up
        state: dict[str, Any] = {
            "pid": os.getpid(),
            "data_dir": str(self.data_dir),
            "api_url": up.api.url,
            "sample": self.sample,
            # The functions' variables, for `inmet local invoke` — without the API key: as
            # `sam local invoke`, an invocation does not pass through the gateway's key check
            # (and in AWS the gateway, not the function, holds the key).
            "env": {k: v for k, v in up.env.items() if k != "INMET_API_KEY"},
            "names": {"DataBucket": BUCKET, "UploadsTable": TABLE, **up.provisioned.topics},
            "api_key": self.api_key,
        }
        write_state(self.data_dir, state)

    def stop(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self._running is not None and self.lock.held():  # only a started stack wrote it
                self.state_file.unlink()
        self._stop.set()
        self._cleanup.close()  # the runtime thread, the servers, the warehouse: newest first
        self._running = None
        if self.lock.held():
            (self.data_dir / "stack.pids").unlink(missing_ok=True)
        self.lock.release()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- set-up ---------------------------------------------------------------------------------
    @property
    def client_kwargs(self) -> dict[str, Any]:
        return self.up.client_kwargs

    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service: Literal["sns"]) -> SNSClient: ...
    def client(self, service: Literal["s3", "sqs", "sns"]) -> S3Client | SQSClient | SNSClient:
        """A client of the stack's moto server, typed by the boto3 stubs."""
        kwargs = self.client_kwargs
        if service == "s3":
            return boto3.client("s3", **kwargs)
        if service == "sqs":
            return boto3.client("sqs", **kwargs)
        return boto3.client("sns", **kwargs)

    def _deploy_warehouse(
        self, fakesnow: ManagedProcess, say: Callable[[str], None]
    ) -> LocalWarehouse:
        values = variables({"bucket": BUCKET})
        warehouse = LocalWarehouse(
            fakesnow_server_kwargs(fakesnow),
            values=values,
            work_dir=self.data_dir / "pipe",
        )
        self._cleanup.callback(warehouse.close)
        report = warehouse.deploy()
        say(
            f"warehouse: {len(report.ran)} statements run; left to Snowflake: "
            f"{report.skipped_summary()}"
        )
        return warehouse

    def _function_env(self, moto: ManagedProcess, fakesnow: ManagedProcess) -> dict[str, str]:
        env = {
            **aws_env(moto.url, access_key=moto_access_key(moto)),
            "S3_BUCKET": BUCKET,
            "S3_PATH": "raw/inmet",
            "INMET_STATUS_TABLE": TABLE,
            **fakesnow_client_env(fakesnow),
            "SNOWFLAKE_DATABASE": variables()["database"],
            "POWERTOOLS_SERVICE_NAME": "inmet-pipeline",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "INMET_ENV_FILE": "/dev/null",  # the local stack ignores .env by design
        }
        env["INMET_API_KEY"] = self.api_key
        return env

    # -- queries for the CLI --------------------------------------------------------------------
    def loaded_upload_ids(self) -> set[str]:
        """The upload ids (sha256) of every file the pipe has loaded into this warehouse."""
        wh = self.warehouse
        rows = wh.execute(f"SELECT file_name FROM {wh.raw}._LOCAL_PIPE_HISTORY")
        return {upload_id for (name,) in rows if (upload_id := upload_id_of(str(name)))}

    def counts(self) -> dict[str, int]:
        wh = self.warehouse
        return {
            "raw_rows": int(wh.scalar(f"SELECT COUNT(*) FROM {wh.raw}.INMET_RAW")),
            "clean_rows": int(wh.scalar(f"SELECT COUNT(*) FROM {wh.clean}.OBSERVATIONS")),
        }
