"""A local stack in a process of its own, for the crash tests: `inmet local up` with the task's
trigger interval chosen (``python -m tests.integration.crash_stack DATA_DIR PORT SECONDS``), so
that a test can hold files loaded but not yet cleaned. Prints ``ready`` once up; exits 1 with
the stack's message when a server dies."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from inmet_local.emulator.stack import LocalStack


def main() -> None:
    data_dir, port, interval = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = LocalStack(data_dir, port=port, task_interval=interval)
    stack.start(say=lambda text: print(text, flush=True))
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
