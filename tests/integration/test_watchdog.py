"""A server dies with the process that started it, and a start stops only its own leftovers.

Every process signalled here is one this test started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from inmet_local.emulator.watchdog import PIDS_FILE, record, start_time, stop_leftovers
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.integration]


def _alive(pid: int) -> bool:
    state = None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_a_server_dies_with_its_parent_even_on_kill_9(tmp_path: Path) -> None:
    # A parent that starts one server the way the stack does (a session of its own, through the
    # watchdog), prints its pid and sleeps; the test kills the parent with SIGKILL.
    parent = textwrap.dedent(
        """
        import sys, time
        from inmet_local.emulator.servers import WATCHED, ManagedProcess, free_port
        port = free_port()
        server = ManagedProcess(
            "http", [*WATCHED, "http.server", "-b", "127.0.0.1", str(port)],
            f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/",
        ).start()
        print(server.process.pid, flush=True)
        time.sleep(600)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    child = 0
    try:
        assert process.stdout is not None
        child = int(process.stdout.readline())
        assert _alive(child)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        # SIGTERM at once; SIGKILL 5 s later if it ignored that.
        assert _wait_gone(child, 10), "the server outlived its parent"
    finally:
        process.kill()
        if child and _alive(child):  # the server this test started, should it outlive
            os.killpg(child, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_a_start_stops_recorded_leftovers_and_nothing_else(tmp_path: Path) -> None:
    ours = subprocess.Popen(["sleep", "600"], start_new_session=True)
    other = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        record(tmp_path, {"moto server": ours.pid, "fakesnow server": other.pid})
        # The second pid now names another program (as when the system reuses a pid): its
        # start time differs from the one recorded.
        entries = json.loads((tmp_path / PIDS_FILE).read_text())
        entries[1]["start"] = int(start_time(other.pid) or 0) + 1
        (tmp_path / PIDS_FILE).write_text(json.dumps(entries))
        assert stop_leftovers(tmp_path) == [ours.pid]
        assert ours.wait(10) == -signal.SIGTERM
        assert other.poll() is None  # not ours: left alone
        assert not (tmp_path / PIDS_FILE).exists()
        assert stop_leftovers(tmp_path) == []  # no record: nothing to do
    finally:
        for p in (ours, other):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
