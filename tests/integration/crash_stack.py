"""A local stack in a process of its own, for the crash tests: `inmet local up` with the task's
trigger interval chosen (``python -m tests.integration.crash_stack DATA_DIR PORT SECONDS
[AFTER]``), so that a test can hold files loaded but not yet cleaned. Prints ``ready`` once up;
exits 1 with the stack's message when a server dies.

With ``AFTER``, the process kills itself (SIGKILL: no handler, no clean-up runs) right after
the AFTER-th write statement of the first task run that begins once it is ready: a crash at an
exact moment of the task, which a ``kill -9`` from outside hits only by chance.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from inmet_local.emulator.stack import LocalStack
from inmet_local.emulator.task import Task, TaskRun
from inmet_local.emulator.warehouse_connection import WarehouseConnection


def is_write(sql: str) -> bool:
    """A statement that changes the warehouse (the task's statements open with a comment)."""
    return not sql.lstrip().upper().startswith(("SELECT", "DESCRIBE", "SHOW"))


def die_after_writes(wh: WarehouseConnection, after: int, die: Callable[[], Any]) -> None:
    """From now on, ``die()`` right after the ``after``-th write statement ``wh`` completes."""
    execute = wh.execute
    done = 0

    def counting(sql: str, params: Iterable[Any] | None = None) -> list[tuple[Any, ...]]:
        nonlocal done
        rows = execute(sql, params)
        if is_write(sql):
            done += 1
            if done == after:
                die()
        return rows

    wh.execute = counting  # type: ignore[method-assign]


def kill_during_the_first_task_run(after: int) -> None:
    """SIGKILL this process after the ``after``-th write of the next task run with work."""
    run_batch = Task._run_batch

    def first_run(self: Task) -> TaskRun:
        die_after_writes(self.wh, after, lambda: os.kill(os.getpid(), signal.SIGKILL))
        return run_batch(self)

    Task._run_batch = first_run  # type: ignore[method-assign]


def main() -> None:
    data_dir, port, interval = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = LocalStack(data_dir, port=port, task_interval=interval)
    stack.start(say=lambda text: print(text, flush=True))
    if len(sys.argv) > 4:
        kill_during_the_first_task_run(int(sys.argv[4]))
    print("ready", flush=True)
    try:
        while not stop.wait(0.2) and not stack.stopping:
            pass
    finally:
        stack.stop()
    if stack.failure:
        print(stack.failure, flush=True)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
