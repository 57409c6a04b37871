"""The local runtime runs the task like a Snowflake triggered task: at most once per interval,
so that files arriving meanwhile make one batch."""

from __future__ import annotations

import pytest

from inmet_local.emulator.stack import TriggerInterval

pytestmark = [pytest.mark.unit]


def test_the_task_trigger_waits_its_interval_after_a_run_that_found_work() -> None:
    now = [100.0]
    trigger = TriggerInterval(10, clock=lambda: now[0])
    calls: list[float] = []

    def task(found: bool) -> object:
        calls.append(now[0])
        return "batch" if found else None

    assert trigger.run(lambda: task(True)) == "batch"  # the first run is not delayed
    now[0] = 105
    assert trigger.run(lambda: task(True)) is None  # within the interval: not even tried
    now[0] = 110
    assert trigger.run(lambda: task(False)) is None  # due, but the stream was empty ...
    now[0] = 111
    assert trigger.run(lambda: task(True)) == "batch"  # ... so the interval did not restart
    assert calls == [100, 110, 111]
