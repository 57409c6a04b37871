"""Issue 16: no module over ~400 lines without a reason written at its top.

A module that grows past the limit either splits by what it holds or says, in its docstring,
why it is one piece ("Why one module …"). Tests count too: a newcomer reads them first."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.unit]

LIMIT = 400
REASON = "Why one module"


def unexplained(paths: list[Path]) -> list[str]:
    """The modules of ``paths`` over LIMIT lines whose docstring gives no reason."""
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > LIMIT and REASON not in (ast.get_docstring(ast.parse(text)) or ""):
            found.append(f"{path.name} ({lines} lines)")
    return found


def test_every_long_module_says_why_it_is_one_piece() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(listed) > 100, "git ls-files found too few modules: is this the repository?"
    found = unexplained([REPO_ROOT / name for name in listed])
    assert not found, f"modules over {LIMIT} lines whose docstring lacks '{REASON} …': {found}"


def test_the_check_tells_a_long_module_with_a_reason_from_one_without(tmp_path: Path) -> None:
    body = "x = 1\n" * (LIMIT + 1)
    silent = tmp_path / "silent.py"
    silent.write_text('"""A module."""\n' + body)
    explained = tmp_path / "explained.py"
    explained.write_text(f'"""A module.\n\n{REASON}: it is one table."""\n' + body)
    short = tmp_path / "short.py"
    short.write_text('"""A module."""\nx = 1\n')
    assert unexplained([silent, explained, short]) == [f"silent.py ({LIMIT + 2} lines)"]
