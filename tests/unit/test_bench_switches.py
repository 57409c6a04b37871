"""The benchmarks' switches: benchmarks/daily_off takes exactly the task's two statements on
CLEAN.DAILY and the daily export away (and nothing else), and bench_peers reads its sides."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = [pytest.mark.unit]

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

_PROBE = """
import json
from inmet_local.emulator.task import Task
from inmet_local.snowflake.sqlproject import SQL_ROOT, variables
from inmet_pipeline.exports import ExportService


class Warehouse:
    values = variables()
    sql_root = SQL_ROOT


statements = Task(Warehouse()).statements()  # type: ignore[arg-type]
daily = ExportService._export_daily(None, None, None, None, None)  # type: ignore[arg-type]
print(json.dumps({"statements": statements, "daily": daily}))
"""


def _probe(first_path: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (first_path,) if p)}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=False
    )
    return dict(json.loads(out.stdout)) if out.returncode == 0 else {"error": out.stderr}


def test_daily_off_removes_the_daily_statements_and_export_only() -> None:
    off = _probe(str(BENCHMARKS / "daily_off"))
    assert "error" not in off, off
    statements = off["statements"]
    assert isinstance(statements, list)
    assert not [s for s in statements if "CLEAN.DAILY" in s]
    assert off["daily"] is None  # the daily export did nothing (it would fail on None)
    # Without the switch: the same statements plus the two on CLEAN.DAILY.
    on = _probe("")
    assert "error" in on  # the real daily export cannot run on a None message
    from inmet_local.emulator.task import Task
    from inmet_local.snowflake.sqlproject import SQL_ROOT, variables

    class Warehouse:
        values = variables()
        sql_root = SQL_ROOT

    every = Task(Warehouse()).statements()  # type: ignore[arg-type]
    removed = [s for s in every if s not in statements]
    assert len(removed) == 2
    assert all("CLEAN.DAILY" in s for s in removed)
    assert [s for s in every if s in statements] == statements


def _bench_peers() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_peers", BENCHMARKS / "bench_peers.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_peers"] = module  # its dataclasses look their module up
        try:
            spec.loader.exec_module(module)
        finally:
            del sys.modules["bench_peers"]
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_bench_peers_reads_a_side_with_its_folder(tmp_path: Path) -> None:
    peers = _bench_peers()
    this = peers.parse_side(str(BENCHMARKS.parent) + "@benchmarks/daily_off")
    assert this.checkout is None
    assert this.first_path == str(BENCHMARKS / "daily_off")
    assert this.label == "this checkout @ benchmarks/daily_off"
    other = peers.parse_side(str(tmp_path))
    assert other.checkout == tmp_path.resolve()
    assert other.first_path == ""
    assert other.label == tmp_path.name
