"""Children that die with their parent, and a start that clears a dead stack's leftovers.

Each local server runs in a session of its own (so that stopping it stops what it spawned),
which also means nothing stops it when the parent is killed with SIGKILL: the orphaned API kept
answering ``/health`` and accepting uploads nothing would process.

- **The watch pipe**: the parent holds the write end of one pipe for its whole life; each
  server is started as ``python -m inmet_local.emulator.watchdog MODULE ARGS…`` with the read end
  (its number in ``INMET_WATCH_FD``). A thread blocks reading it; when the parent dies, however
  it dies, the kernel closes the write end, the read returns end-of-file, and the child stops
  its whole process group: SIGTERM, then SIGKILL 5 s later. Unlike Linux's parent-death signal
  (``PR_SET_PDEATHSIG``, which fires when the *thread* that started the child ends), it depends
  on the process only, and it works on macOS too.
- **The PID file**: the stack records each server's pid and start time in
  ``<data-dir>/stack.pids``; a start on the same data dir stops those that still run (a stack
  of an older version, or a child stuck past its watchdog) before it takes the ports and the
  warehouse. Only a process whose pid *and* start time match is signalled, so a pid the system
  has since given to another program is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import signal
import sys
import threading
import time
from pathlib import Path

WATCH_FD_ENV = "INMET_WATCH_FD"
PIDS_FILE = "stack.pids"
GRACE_SECONDS = 5.0

_write_end: int | None = None
_read_end: int | None = None
_lock = threading.Lock()


def watch_fd() -> int:
    """The read end of this process's watch pipe (made on first use, kept open for life)."""
    global _read_end, _write_end
    with _lock:
        if _read_end is None:
            _read_end, _write_end = os.pipe()  # not inherited by default (PEP 446)
        return _read_end


def _watch(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 1):
            pass
    group = os.getpgid(0)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def main(argv: list[str] | None = None) -> None:
    """``python -m inmet_local.emulator.watchdog MODULE ARGS…``: run MODULE as ``python -m``
    would, stopping when the parent's watch pipe closes (no pipe named: no watch)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        raise SystemExit("usage: python -m inmet_local.emulator.watchdog MODULE [ARGS…]")
    fd = os.environ.pop(WATCH_FD_ENV, "")
    if fd:
        threading.Thread(target=_watch, args=(int(fd),), name="watchdog", daemon=True).start()
    module = args[0]
    sys.argv = [module, *args[1:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


# -- the PID file -------------------------------------------------------------------------------
def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc); None when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def record(data_dir: Path, pids: dict[str, int]) -> None:
    """Write ``<data-dir>/stack.pids`` for the servers now running (by name)."""
    entries = [{"name": name, "pid": pid, "start": start_time(pid)} for name, pid in pids.items()]
    path = data_dir / PIDS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries), encoding="utf-8")
    tmp.replace(path)


def stop_leftovers(data_dir: Path, timeout: float = GRACE_SECONDS) -> list[int]:
    """Stop the recorded servers of a previous stack on ``data_dir`` that still run; the pids
    stopped. Only a process whose start time matches the record is signalled."""
    path = data_dir / PIDS_FILE
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    ours = [
        int(e["pid"])
        for e in entries
        if isinstance(e, dict)
        and e.get("start") is not None
        and start_time(int(e.get("pid", 0))) == e["start"]
    ]
    for pid in ours:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)  # each server leads its own group
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(start_time(pid) is not None for pid in ours):
        time.sleep(0.1)
    for pid in ours:
        if start_time(pid) is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return ours


if __name__ == "__main__":
    main()
