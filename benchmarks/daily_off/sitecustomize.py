"""For benchmarks/bench_peers.py --against . --other-path benchmarks/daily_off: every Python
process started with this folder on PYTHONPATH runs the local pipeline with the daily values
switched off (Python imports ``sitecustomize`` at start-up), so that one run shows what quality
control costs alone and what the daily values add on top of it:

- the task runs without its two statements on CLEAN.DAILY (task/daily.sql: the DELETE of the
  batch's station-days and the INSERT that computes them again);
- the export writes no daily partition (ExportService._export_daily does nothing), so the fetch
  finds none and writes no daily file.

Everything else (quality control, the hourly export and fetch) is this checkout's own.
"""

import re as _re

import inmet_local.emulator.task as _task
from inmet_pipeline.exports import ExportService as _ExportService

_DAILY_WRITE = _re.compile(r"^(?:DELETE FROM|INSERT INTO) \S+\.DAILY\b", _re.MULTILINE)
_statements = _task.Task.statements


def _without_daily(self: _task.Task) -> list[str]:
    kept = [sql for sql in _statements(self) if not _DAILY_WRITE.search(sql)]
    if len(kept) != len(_statements(self)) - 2:
        raise RuntimeError("daily_off: expected exactly two statements on CLEAN.DAILY")
    return kept


_task.Task.statements = _without_daily  # type: ignore[method-assign]
_ExportService._export_daily = lambda *_args, **_kwargs: None  # type: ignore[method-assign]
