"""`inmet local up` as a user runs it: a subprocess, real HTTP, three real files, a duplicate and
a broken file; then a restart on the same --data-dir; then nothing left running."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from inmet_local.emulator.servers import free_port, port_in_use
from inmet_pipeline.columns import CLEAN_COLUMNS
from tests.events import EVENTS_DIR
from tests.oracle import expected_clean, expected_qc
from tests.paths import real_file

pytestmark = [pytest.mark.integration, pytest.mark.real_data, pytest.mark.slow]


class RunningStack:
    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "inmet_local",
                "local",
                "up",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "INMET_ENV_FILE": "/dev/null"},
        )
        deadline = time.monotonic() + 120
        while f"ready: {self.url}" not in log.read_text():
            assert self.process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "stack not ready in 120 s"
            time.sleep(0.2)
        # The stack's own API key, printed and kept in stack.json.
        self.api_key = str(json.loads((data_dir / "stack.json").read_text())["api_key"])
        assert self.api_key in log.read_text()
        self.headers = {"x-api-key": self.api_key}

    def children(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return time.monotonic() - started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "local"


def _upload(stack: RunningStack, path: Path) -> httpx.Response:
    return httpx.post(
        f"{stack.url}/uploads",
        files={"file": (path.name, path.read_bytes(), "text/csv")},
        headers=stack.headers,
        timeout=60,
    )


def _wait_exported(
    stack: RunningStack, ids: list[str], timeout: float = 180
) -> dict[str, dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        docs = {
            i: httpx.get(f"{stack.url}/uploads/{i}", headers=stack.headers, timeout=10).json()
            for i in ids
        }
        if all(d["status"] in ("exported", "failed") for d in docs.values()):
            return docs
        assert time.monotonic() < deadline, docs
        time.sleep(0.5)


def _fetch(url_env: dict[str, str], out: Path) -> list[list[str]]:
    result = subprocess.run(
        [sys.executable, "-m", "inmet_local", "fetch", "--out", str(out)],
        env={**os.environ, **url_env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    with out.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _moto_env(data_dir: Path) -> dict[str, str]:
    # The stack's moto accepts only the stack's own access key (stack.json names it).
    env = json.loads((data_dir / "stack.json").read_text())["env"]
    return {
        "AWS_ENDPOINT_URL": env["AWS_ENDPOINT_URL"],
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": "us-east-1",
        "S3_BUCKET": "inmet-local",
        "INMET_ENV_FILE": "/dev/null",
    }


def test_end_to_end_over_http_then_restart(real_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    files = [
        real_file(real_dir, "INMET_CO_DF_A001_BRASILIA"),
        real_file(real_dir, "INMET_NE_SE_A409_ARACAJU_01-01-2015"),
        real_file(real_dir, "INMET_S_PR_A807_CURITIBA_01-01-2019"),
    ]
    broken = tmp_path / "INMET_broken.CSV"
    broken.write_bytes(files[0].read_bytes()[:3000] + b"\n2024/13/45;0000 UTC;;\n")
    port = free_port()
    stack = RunningStack(data_dir, port, tmp_path / "up.log")
    processes = stack.children()
    assert len(processes) >= 3  # moto, fakesnow, uvicorn
    try:
        answers = [_upload(stack, f) for f in files]
        assert [a.status_code for a in answers] == [201, 201, 201]
        assert _upload(stack, files[1]).status_code == 200  # the duplicate
        rejected = _upload(stack, broken)
        assert rejected.status_code == 422
        assert rejected.json()["error"]["code"] == "wrong_field_count"
        ids = [a.json()["upload_id"] for a in answers]
        # The local API refuses callers without the stack's key (a web page's simple POST).
        data = files[0].read_bytes()
        for headers in ({}, {"x-api-key": "wrong"}):
            anonymous = httpx.post(
                f"{stack.url}/uploads",
                content=data,
                headers={"Content-Type": "text/plain", **headers},
                timeout=60,
            )
            assert anonymous.status_code == 401
            assert httpx.get(f"{stack.url}/uploads/{ids[0]}", headers=headers).status_code == 401
        docs = _wait_exported(stack, ids)
        assert {d["status"] for d in docs.values()} == {"exported"}
        assert docs[ids[0]]["rows_clean"] == 8760

        rows = _fetch(_moto_env(data_dir), tmp_path / "inmet_clean.csv")
        assert tuple(rows[0]) == CLEAN_COLUMNS
        body = rows[1:]
        assert [(r[0], r[7]) for r in body] == sorted((r[0], r[7]) for r in body)
        expected = expected_clean([f.read_bytes() for f in files])
        flags = expected_qc([f.read_bytes() for f in files])
        assert len(body) == len(expected)
        by_key = {(r[0], r[7]): r for r in body}
        for (station, ts), values in list(expected.items())[::500]:
            row = by_key[(station, ts.strftime("%Y-%m-%dT%H:%M:%SZ"))]
            assert [float(v) if v else None for v in row[8:25]] == list(values)
            assert [int(v) if v else None for v in row[25:]] == list(flags[(station, ts)])
        # A source value, straight from the file: Brasília 2024-08-12 13:00, dew point -,2.
        assert by_key[("A001", "2024-08-12T13:00:00Z")][14] == "-0.2"

    finally:
        seconds = stack.stop()
    assert seconds < 30
    assert not [p for p in processes if _alive(p)]
    assert not port_in_use(port)
    assert not (data_dir / "stack.json").exists()  # removed on stop

    # Restart on the same data dir: CLEAN and the statuses are still there; the same files
    # again are recognised (200) and change nothing.
    port = free_port()
    stack = RunningStack(data_dir, port, tmp_path / "up2.log")
    try:
        again = [_upload(stack, f) for f in files]
        assert [a.status_code for a in again] == [200, 200, 200]  # the statuses persist
        docs = _wait_exported(stack, [a.json()["upload_id"] for a in again])
        assert {d["status"] for d in docs.values()} == {"exported"}
        rows_again = _fetch(_moto_env(data_dir), tmp_path / "again.csv")
        assert rows_again == rows

        # Then `inmet local invoke` (sam local invoke without Docker) against this stack.
        assert (data_dir / "stack.json").exists()
        invoked = subprocess.run(
            [sys.executable, "-m", "inmet_local", "local", "invoke", "UploadFunction",
             "-e", str(EVENTS_DIR / "upload_raw.json"), "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert invoked.returncode == 0, invoked.stderr[-2000:]
        answer = json.loads(invoked.stdout)
        assert answer["statusCode"] == 201
        status = httpx.get(
            f"{stack.url}/uploads/{json.loads(answer['body'])['upload_id']}",
            headers=stack.headers,
        )
        assert status.status_code == 200  # the handler wrote to the stack's own table
    finally:
        stack.stop()
    assert not port_in_use(port)
    assert not (data_dir / "stack.json").exists()
