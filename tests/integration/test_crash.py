"""Fault injection on the local stack: ``kill -9`` of the whole stack, of one part, of the parent.

Whatever the stack answered 201 or 200 for ends ``exported`` after a restart on the same data
dir, with no user action; the CSV in the bucket holds exactly the warehouse's rows, every
(station, hour) of the accepted files once. A part that dies stops the stack with a message
naming it (and nothing answers 201 afterwards); a parent killed alone leaves no server behind,
and the next start needs no manual cleanup. Every process signalled here is one the test
started (its pid, or a pid the stack recorded in ``stack.pids`` for its own servers).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import snowflake.connector

from inmet_local.client.fetch import fetch_from_s3
from inmet_local.emulator.local_adapter import fakesnow_connect_kwargs
from inmet_local.emulator.servers import free_port
from inmet_pipeline.columns import CLEAN_COLUMNS
from tests.helpers import small_file
from tests.oracle import expected_clean
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

START_SECONDS = 240  # a start on a loaded machine (two cores, other suites running)
# Moment 1b's kill: after the task's 6th write (steps 1-3b of task/process_batch.sql done: the
# batch open, its files captured, its lines parsed into CLEAN.BATCH_WORK).
TASK_WRITE_KILLED_AFTER = 6


class Stack:
    """One `inmet local up` (or, with ``interval``, tests.integration.crash_stack) process;
    ``kill_task_after``: the process kills itself after that write of its first task run."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        interval: float | None = None,
        kill_task_after: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{port}"
        self.log = data_dir.parent / f"stack-{time.monotonic_ns()}.log"
        argv = (
            ["-m", "inmet_local", "local", "up", "--port", str(port), "--data-dir", str(data_dir)]
            if interval is None
            else ["-m", "tests.integration.crash_stack", str(data_dir), str(port), str(interval)]
        )
        if kill_task_after is not None:
            argv.append(str(kill_task_after))
        self.process = subprocess.Popen(
            [sys.executable, *argv],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO_ROOT,
            env={**os.environ, "INMET_ENV_FILE": "/dev/null"},
        )
        deadline = time.monotonic() + START_SECONDS
        while "ready" not in self.output():
            assert self.process.poll() is None, self.output()[-3000:]
            assert time.monotonic() < deadline, f"not ready in {START_SECONDS} s"
            time.sleep(0.2)
        state = json.loads((data_dir / "stack.json").read_text())
        self.headers = {"x-api-key": state["api_key"]}
        self.env: dict[str, str] = state["env"]
        self.pids = {e["name"]: e["pid"] for e in json.loads((data_dir / "stack.pids").read_text())}

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def upload(self, data: bytes, name: str) -> str | None:
        """The upload id when the stack answered 201/200; None when it refused or was gone."""
        try:
            answer = httpx.post(
                f"{self.url}/uploads",
                files={"file": (name, data, "text/csv")},
                headers=self.headers,
                timeout=30,
            )
        except httpx.HTTPError:
            return None
        return str(answer.json()["upload_id"]) if answer.status_code in (200, 201) else None

    def documents(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Each upload's status document (``{"status": "404"}`` for an unknown id)."""
        found: dict[str, dict[str, Any]] = {}
        for i in ids:
            answer = httpx.get(f"{self.url}/uploads/{i}", headers=self.headers, timeout=30)
            found[i] = answer.json() if answer.status_code == 200 else {"status": "404"}
        return found

    def statuses(self, ids: list[str]) -> dict[str, str]:
        return {i: str(d.get("status")) for i, d in self.documents(ids).items()}

    def wait_exported(self, ids: list[str], timeout: float = 240) -> None:
        """Until every upload is ``exported``; on time out, the documents of the others (their
        ``error`` says why). A status query the loaded machine does not answer in time is asked
        again, within the same bound."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                documents: dict[str, dict[str, Any]] | None = self.documents(ids)
            except httpx.TimeoutException:
                documents = None
            if documents is not None:
                others = {i: d for i, d in documents.items() if d.get("status") != "exported"}
                if not others:
                    return
            assert time.monotonic() < deadline, (
                {i: (d.get("status"), d.get("error")) for i, d in others.items()}
                if documents is not None
                else "the status API did not answer"
            )
            time.sleep(0.5)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        kwargs = fakesnow_connect_kwargs(
            self.env["INMET_SNOWFLAKE_LOCAL_URL"],
            self.env["SNOWFLAKE_DATABASE"],
            password=self.env["INMET_LOCAL_WAREHOUSE_PASSWORD"],
        )
        with snowflake.connector.connect(**kwargs) as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def wait_for(self, sql: str, at_least: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while int(self.query(sql)[0][0]) < at_least:
            assert time.monotonic() < deadline, sql
            time.sleep(0.2)

    def kill_everything(self) -> None:
        """kill -9 of the stack's process and of every server it recorded."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        for pid in self.pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    def s3(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


@pytest.fixture
def files() -> list[tuple[str, bytes]]:
    made = [small_file(station=i, days=2) for i in range(14)]
    return [(f.filename, f.data) for f in made]


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    started: list[Stack] = []
    yield started
    for stack in started:  # whatever a failed assertion left running
        with contextlib.suppress(Exception):
            stack.kill_everything()


def _check_final(stack: Stack, accepted: dict[str, bytes], out: Path) -> None:
    """The bucket's CSV equals the warehouse; each accepted file's hours once, none missing."""
    stack.wait_exported(sorted(accepted))
    fetch_from_s3(stack.s3(), stack.env["S3_BUCKET"], out)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(CLEAN_COLUMNS)
    station, observed = CLEAN_COLUMNS.index("station_id"), CLEAN_COLUMNS.index("observed_at")
    keys = [(r[station], r[observed]) for r in rows[1:]]
    assert len(keys) == len(set(keys)), "a (station, hour) twice"
    clean = stack.query(
        f"SELECT station_id, observed_at FROM {stack.env['SNOWFLAKE_DATABASE']}.CLEAN.OBSERVATIONS"
    )
    assert len(keys) == len(clean)
    assert set(keys) == {(str(s), t.strftime("%Y-%m-%dT%H:%M:%SZ")) for s, t in clean}
    expected = expected_clean(accepted.values())
    wanted = {(s, t.strftime("%Y-%m-%dT%H:%M:%SZ")) for s, t in expected}
    assert set(keys) == wanted


def test_kill_9_of_the_whole_stack_at_three_moments(
    tmp_path: Path, files: list[tuple[str, bytes]], stacks: list[Stack]
) -> None:
    """The three moments of a kill from outside (during uploads, after the load and before
    the export, during the export), and one the stack inflicts on itself at an exact point of
    a task run (1b), which a kill from outside hits only by chance: on a loaded machine, where
    runs take longer, it did, and every file of the half-written batch ended ``failed``."""
    data_dir, port = tmp_path / "local", free_port()
    accepted: dict[str, bytes] = {}
    db = "INMET"

    # 1. During uploads: the stack dies after three of six uploads were answered.
    stack = Stack(data_dir, port, interval=1)
    stacks.append(stack)
    answered = threading.Event()

    def send(batch: list[tuple[str, bytes]]) -> None:
        for name, data in batch:
            upload_id = stack.upload(data, name)
            if upload_id:
                accepted[upload_id] = data
            if len(accepted) >= 3:
                answered.set()

    sender = threading.Thread(target=send, args=(files[:6],))
    sender.start()
    assert answered.wait(120)
    stack.kill_everything()
    sender.join(60)
    assert len(accepted) >= 3

    # 1b. During a task run, between two of its statements: the stack kills itself there, an
    # exact moment a kill from outside hits only by chance (the restart then finds the batch
    # half-written; on Snowflake the run is one transaction and would leave nothing).
    stack = Stack(data_dir, port, interval=1, kill_task_after=TASK_WRITE_KILLED_AFTER)
    stacks.append(stack)
    for name, data in files[12:]:
        upload_id = stack.upload(data, name)
        if upload_id:
            accepted[upload_id] = data
    assert stack.process.wait(120) == -signal.SIGKILL, stack.output()[-3000:]
    stack.kill_everything()

    # 2. After the load, before the export: the task waits an hour, so the pipe's files stay
    # in RAW, not yet cleaned; the stack dies there.
    stack = Stack(data_dir, port, interval=3600)
    stacks.append(stack)
    stack.wait_exported(sorted(accepted))  # the first task run needs no interval
    before = int(stack.query(f"SELECT COUNT(*) FROM {db}.RAW._LOCAL_PIPE_HISTORY")[0][0])
    for name, data in files[6:9]:
        upload_id = stack.upload(data, name)
        assert upload_id
        accepted[upload_id] = data
    stack.wait_for(f"SELECT COUNT(*) FROM {db}.RAW._LOCAL_PIPE_HISTORY", before + 3)
    assert set(stack.statuses(sorted(accepted)).values()) == {"exported", "received"}
    stack.kill_everything()

    # 3. During the export: the stack dies once the task has queued the load notification.
    stack = Stack(data_dir, port, interval=1)
    stacks.append(stack)
    stack.wait_exported(sorted(accepted))
    sent = int(stack.query(f"SELECT COUNT(*) FROM {db}.RAW.NOTIFICATIONS")[0][0])
    for name, data in files[9:]:
        upload_id = stack.upload(data, name)
        assert upload_id
        accepted[upload_id] = data
    stack.wait_for(f"SELECT COUNT(*) FROM {db}.RAW.NOTIFICATIONS", sent + 1)
    stack.kill_everything()

    stack = Stack(data_dir, port, interval=1)
    stacks.append(stack)
    assert "upload(s) not yet exported resume" in stack.output()
    _check_final(stack, accepted, tmp_path / "inmet_clean.csv")
    stack.stop()


def test_a_dead_part_stops_the_stack_and_a_dead_parent_leaves_nothing(
    tmp_path: Path, files: list[tuple[str, bytes]], stacks: list[Stack]
) -> None:
    data_dir, port = tmp_path / "local", free_port()
    accepted: dict[str, bytes] = {}
    parts = ["moto server", "fakesnow server", "upload API (uvicorn)"]
    for number, part in enumerate(parts):
        stack = Stack(data_dir, port)
        stacks.append(stack)
        stack.wait_exported(sorted(accepted))
        for name, data in files[3 * number : 3 * number + 3]:
            upload_id = stack.upload(data, name)
            assert upload_id
            accepted[upload_id] = data
        os.killpg(stack.pids[part], signal.SIGKILL)
        assert stack.process.wait(60) == 1
        assert f"the {part} stopped unexpectedly" in stack.output()
        assert not (data_dir / "stack.json").exists()
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{stack.url}/health", timeout=2)
        for pid in stack.pids.values():
            assert not _alive(pid), part

    # The parent alone: its servers follow it within seconds, the next start needs nothing.
    stack = Stack(data_dir, port)
    stacks.append(stack)
    stack.process.send_signal(signal.SIGKILL)
    stack.process.wait(10)
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in stack.pids.values()):
        assert time.monotonic() < deadline, "a server outlived its parent"
        time.sleep(0.2)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{stack.url}/health", timeout=2)
    stack = Stack(data_dir, port)
    stacks.append(stack)
    _check_final(stack, accepted, tmp_path / "inmet_clean.csv")
    stack.stop()
