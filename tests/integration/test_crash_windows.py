"""A crash between two statements of the local pipe or task, at every such moment.

On Snowflake the pipe's load and its load history, and the task's statements, each commit as
one transaction: a crash leaves all or nothing. Locally they are separate statements on
fakesnow, so a process killed between two of them leaves a part behind. Here the kill is
injected after each write statement in turn (a BaseException, so that no ``except
Exception`` clean-up runs, as none runs under ``kill -9``), then the stack's restart is played:
every upload not yet exported is announced to the pipe again (``recovery.s3_created_event``),
the pipe polls, the task runs until the stream is empty. Every file must then be in CLEAN
exactly as the oracle says, none set aside, every batch finished, and every file announced to
the export (a due message, or the replay of a file the pipe had loaded before).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.recovery import s3_created_event
from inmet_local.emulator.task import step_name
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import TASK_BODY, render, split_statements, variables
from inmet_local.workspace.template import pipe_queue
from inmet_pipeline.uploads import raw_object
from tests.helpers import small_file
from tests.integration.crash_stack import die_after_writes
from tests.integration.resources import WarehouseTarget
from tests.integration.test_warehouse import assert_one_row_per_station_hour, clean_rows
from tests.oracle import expected_clean

pytestmark = [pytest.mark.integration]

BUCKET = "crash-windows"
TASK_WRITES = len(split_statements(render(TASK_BODY, variables()))) + 1  # + the stream's advance
PIPE_WRITES = 3  # the COPY, the stream's pending files, the load history


class Killed(BaseException):
    """The process died here."""


def _die() -> None:
    raise Killed


@pytest.fixture
def warehouse(warehouse_target: WarehouseTarget, tmp_path: Path) -> Iterator[LocalWarehouse]:
    if warehouse_target.live:
        pytest.skip("the crash windows are the local emulation's (one transaction on Snowflake)")
    with warehouse_target.warehouse(tmp_path / "pipe") as wh:
        yield wh


@pytest.fixture
def restarted(
    warehouse: LocalWarehouse, warehouse_target: WarehouseTarget
) -> Iterator[LocalWarehouse]:
    """The same warehouse through a new connection (the killed process's is gone), on the
    database and schema a start's deploy leaves its session in (fakesnow's MERGE needs both)."""
    with LocalWarehouse(
        warehouse_target.connect_kwargs, values=warehouse.values, work_dir=warehouse.work_dir
    ) as wh:
        wh.execute(f"USE SCHEMA {wh.raw}")
        yield wh


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3, boto3.client("sqs", region_name="us-east-1")


def _put(s3: Any, datas: list[bytes]) -> list[str]:
    keys = []
    for data in datas:
        key, body = raw_object(data)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        keys.append(key)
    return keys


def _restart(restarted: LocalWarehouse, s3: Any, sqs: Any, keys: list[str]) -> set[str]:
    """What a start does with the warehouse left behind: every unfinished upload announced on
    a new queue (moto's queues did not survive), then the runtime's cycle until the stream is
    empty. The raw/ keys the export is told about (due messages and replays)."""
    queue = sqs.create_queue(QueueName="pipe-after-restart")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=s3_created_event(BUCKET, keys))
    announced: set[str] = set()
    polled = restarted.pipe.poll(sqs, queue, s3, BUCKET)
    assert polled.errors == []
    replay = restarted.notifier.replay(polled.files_skipped)
    if replay:
        announced.update(json.loads(replay)["files"])
    for _ in range(3):
        if restarted.run_task() is None:
            break
    assert restarted.run_task() is None
    for _, _, message in restarted.pending_notifications():
        announced.update(json.loads(message)["files"])
    return announced


def _check(wh: LocalWarehouse, datas: list[bytes], keys: list[str], announced: set[str]) -> None:
    quarantined = wh.execute(f"SELECT file_name, reason FROM {wh.raw}.QUARANTINE")
    assert quarantined == [], "a file set aside although nothing is wrong with it"
    batches = wh.execute(f"SELECT batch_id, status FROM {wh.raw}.BATCHES WHERE status <> 'queued'")
    assert batches == [], "a batch left unfinished"
    assert clean_rows(wh) == expected_clean(datas)
    assert_one_row_per_station_hour(wh)
    loads = wh.execute(f"SELECT raw_key, rows_clean FROM {wh.clean}.FILE_LOADS ORDER BY raw_key")
    assert [k for k, _ in loads] == sorted(keys)
    assert all(rows == 48 for _, rows in loads)  # two days of hours each
    assert set(keys) <= announced, "a file the export is never told about"


# The kill points that leave a different state behind, after the last write of a step (the
# comments' step numbers in task/process_batch.sql): the batch opened (step 1); its files
# captured (step 2); CLEAN, its flags, the daily values and FILE_LOADS written (steps 3-6); the
# batch closed, not yet announced (step 8); its messages queued, the batch still `loaded`
# (step 9); the batch `queued`, the stream not advanced (the UPDATE after step 9). Found by the
# steps' names, so that a step added to the task moves them with it. (Every write in turn takes
# ~4 s each on fakesnow.)
KILL_AFTER_STEPS = ("1. ", "2. ", "6. ", "8. ", "9. ", "UPD")


def _kill_points() -> tuple[int, ...]:
    """The 1-based write after which each of KILL_AFTER_STEPS ends."""
    names = [step_name(s)[:3] for s in split_statements(render(TASK_BODY, variables()))]
    return tuple(
        max(i for i, n in enumerate(names, start=1) if n == step) for step in KILL_AFTER_STEPS
    )


TASK_KILL_POINTS = _kill_points()


def test_the_kill_points_name_the_task_steps_they_follow(warehouse: LocalWarehouse) -> None:
    writes = [*warehouse.task.statements(), "the stream's advance"]
    assert len(writes) == TASK_WRITES
    follows = [step_name(writes[after - 1])[:3] for after in TASK_KILL_POINTS]
    assert follows == list(KILL_AFTER_STEPS)
    # Each point is the last write of its step: the next write belongs to a later step.
    assert [step_name(writes[after])[:3] for after in TASK_KILL_POINTS[:-1]] == [
        "2. ",
        "2b.",
        "7. ",
        "9. ",
        "UPD",
    ]
    assert TASK_KILL_POINTS[-1] == TASK_WRITES - 1  # the stream's advance would end the run


@pytest.mark.parametrize("after", TASK_KILL_POINTS)
def test_a_task_run_killed_after_any_statement_is_redone_whole(
    warehouse: LocalWarehouse, restarted: LocalWarehouse, aws: tuple[Any, Any], after: int
) -> None:
    """Killed after write ``after`` of the run (the last one, the stream's advance, would be
    a finished run); a new file arrives after the restart, as in a stack that keeps working."""
    s3, sqs = aws
    datas = [small_file(station=i).data for i in range(3)]
    keys = _put(s3, datas[:2])
    warehouse.load_objects([(k, s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys])
    die_after_writes(warehouse, after, _die)
    with pytest.raises(Killed):
        warehouse.run_task()
    keys += _put(s3, datas[2:])
    _check(restarted, datas, keys, _restart(restarted, s3, sqs, keys))


@pytest.mark.parametrize("after", range(1, PIPE_WRITES + 1))
def test_a_pipe_load_killed_after_any_write_is_loaded_again(
    warehouse: LocalWarehouse, restarted: LocalWarehouse, aws: tuple[Any, Any], after: int
) -> None:
    s3, sqs = aws
    datas = [small_file(station=i).data for i in range(2)]
    queue = pipe_queue(sqs, s3, BUCKET, "pipe")
    keys = _put(s3, datas)
    die_after_writes(warehouse, after, _die)
    with pytest.raises(Killed):
        warehouse.pipe.poll(sqs, queue, s3, BUCKET)
    _check(restarted, datas, keys, _restart(restarted, s3, sqs, keys))
