"""For benchmarks/bench_peers.py --against .@benchmarks/daily_off: every Python process started
with this folder on PYTHONPATH runs the local pipeline with the daily values switched off
(Python imports ``sitecustomize`` at start-up), so that one run shows what quality control costs
alone and what the daily values add on top of it:

- the task runs without its two statements on CLEAN.DAILY (task/daily.sql: the DELETE of the
  batch's station-days and the INSERT that computes them again);
- the export writes no daily partition (ExportService._export_daily does nothing), so the fetch
  finds none and writes no daily file.

Everything else (quality control, the hourly export and fetch) is this checkout's own. The two
modules are patched when a process imports them itself, never imported here: importing them in
every process at start-up (the four servers too) cost seconds of the stack's start.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
from types import ModuleType
from typing import Any

_DAILY_WRITE = re.compile(r"^(?:DELETE FROM|INSERT INTO) \S+\.DAILY\b", re.MULTILINE)


def _patch_task(module: ModuleType) -> None:
    statements = module.Task.statements

    def without_daily(self: Any) -> list[str]:
        every = statements(self)
        kept = [sql for sql in every if not _DAILY_WRITE.search(sql)]
        if len(kept) != len(every) - 2:
            raise RuntimeError("daily_off: expected exactly two statements on CLEAN.DAILY")
        return kept

    module.Task.statements = without_daily


def _patch_exports(module: ModuleType) -> None:
    module.ExportService._export_daily = lambda *_args, **_kwargs: None


_PATCHES = {"inmet_local.emulator.task": _patch_task, "inmet_pipeline.exports": _patch_exports}


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any, patch: Any) -> None:
        self.inner, self.patch = inner, patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self.inner.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        self.patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = getattr(finder, "find_spec", lambda *_: None)(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader, patch)
                return spec
        return None


sys.meta_path.insert(0, _Finder())
