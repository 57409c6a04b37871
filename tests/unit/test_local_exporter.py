"""The local exporter's pipeline: a wave is unloaded a group at a time by the local warehouse, and
each group's objects go to S3 while the next group is unloaded. Every object is written before
the call returns, a failed put stops the wave before more is unloaded, and the rows counted are
the unload's. The warehouse and S3 are fakes here; tests/integration/test_export*.py run the real
local servers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, ClassVar

import pytest

from inmet_local.emulator import local_adapter
from inmet_local.emulator.local_adapter import LocalExporter, LocalSnowflakeSettings
from inmet_pipeline.errors import DependencyUnavailable

pytestmark = pytest.mark.unit


class FakeS3:
    """Records each put; a put can be held until released, or fail."""

    def __init__(self, fail_key: str | None = None) -> None:
        self.objects: dict[str, bytes] = {}
        self.events: list[str] = []
        self.release = threading.Event()
        self.release.set()
        self.fail_key = fail_key
        self.failed = threading.Event()
        self.lock = threading.Lock()

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:  # noqa: N803 - boto3's names
        assert self.release.wait(5)
        if Key == self.fail_key:
            self.failed.set()
            raise RuntimeError("connection reset")
        with self.lock:
            self.objects[Key] = Body
            self.events.append(f"put {Key}")


class RecordingPool(ThreadPoolExecutor):
    """The exporter's thread pool, keeping its futures for the test to wait on."""

    futures: ClassVar[list[Future[Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        RecordingPool.futures.append(future)
        return future


class PipelineExporter(LocalExporter):
    """The unload writes each partition's file as the local warehouse would (no header, one
    line a row) and records its order against the puts."""

    def __init__(self, tmp: Path, s3: FakeS3, hold_puts_until_unload: int | None = None) -> None:
        settings = LocalSnowflakeSettings(inmet_local_unload_dir=str(tmp))
        super().__init__(settings, s3, "bucket")
        self.fake_s3 = s3
        self.unloads = 0
        self.hold = hold_puts_until_unload

    def _unload(
        self, sql: str, params: Any, parts: list[dict[str, Any]], time_column: int = 7
    ) -> Any:
        self.unloads += 1
        with self.fake_s3.lock:
            self.fake_s3.events.append(f"unload {self.unloads}")
        if self.hold is not None and self.unloads == self.hold:
            self.fake_s3.release.set()
        if self.fake_s3.fail_key is not None and self.unloads >= 2:
            # The failing put has finished by the time this unload answers.
            wait(RecordingPool.futures, timeout=5, return_when=FIRST_EXCEPTION)
        rows = {}
        for part in parts:
            Path(part["path"]).write_bytes(f"{part['station_id']},{part['year']}\n".encode())
            rows[part["path"]] = 1
        return rows


def partitions(n: int) -> list[tuple[str, int, str]]:
    return [(f"A{i:03d}", 2024, f"processed/A{i:03d}/2024.csv") for i in range(n)]


def test_every_object_of_a_wave_is_written_before_the_call_returns(tmp_path: Path) -> None:
    s3 = FakeS3()
    exporter = PipelineExporter(tmp_path, s3)
    wave = partitions(exporter.GROUP * 2 + 5)
    written = exporter.export_partitions(wave)
    assert exporter.unloads == 3
    assert written == {key: 1 for _, _, key in wave}
    assert set(s3.objects) == {key for _, _, key in wave}
    header = s3.objects[wave[0][2]].split(b"\n", 1)[0]
    assert header.startswith(b"station_id,")
    assert s3.objects[wave[7][2]].split(b"\n", 1)[1] == b"A007,2024\n"
    assert list(tmp_path.iterdir()) == []  # the group files are gone


def test_the_next_group_is_unloaded_while_the_last_groups_objects_are_put(tmp_path: Path) -> None:
    s3 = FakeS3()
    s3.release.clear()  # the puts of group 1 cannot finish until the second unload has begun
    exporter = PipelineExporter(tmp_path, s3, hold_puts_until_unload=2)
    exporter.export_partitions(partitions(exporter.GROUP * 2))
    assert s3.events[:2] == ["unload 1", "unload 2"]
    assert len([e for e in s3.events if e.startswith("put ")]) == exporter.GROUP * 2


def test_a_failed_put_is_raised_and_stops_the_unloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_adapter, "ThreadPoolExecutor", RecordingPool)
    monkeypatch.setattr(RecordingPool, "futures", [])
    wave = partitions(LocalExporter.GROUP * 4)
    s3 = FakeS3(fail_key=wave[0][2])
    s3.release.clear()  # group 1's puts run once group 2 is being unloaded
    exporter = PipelineExporter(tmp_path, s3, hold_puts_until_unload=2)
    with pytest.raises(DependencyUnavailable, match="connection reset"):
        exporter.export_partitions(wave)
    # Group 1's put failed while group 2 was unloaded: group 3 is never asked for. The objects
    # that were written are whole.
    assert exporter.unloads == 2
    assert all(body.startswith(b"station_id,") for body in s3.objects.values())
    assert list(tmp_path.iterdir()) == []


def test_daily_partitions_go_in_larger_groups(tmp_path: Path) -> None:
    s3 = FakeS3()
    exporter = PipelineExporter(tmp_path, s3)
    wave = [(s, y, k.replace("2024.csv", "daily.csv")) for s, y, k in partitions(100)]
    written = exporter.export_daily_partitions(wave)
    assert exporter.unloads == 1  # 100 daily partitions, one request
    assert s3.objects[wave[0][2]].startswith(b"station_id,local_date,")
    assert written == {key: 1 for _, _, key in wave}
