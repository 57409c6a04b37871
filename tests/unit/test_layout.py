"""The layout shows the architecture: ``local/inmet_local/`` is grouped by what each part is, and
imports point one way (the map is in ``inmet_local/__init__.py`` and docs/architecture.md)::

    cli  ->  emulator | client | ops | ml  ->  snowflake | synth  ->  workspace  ->  inmet_pipeline

Nothing that ships to Lambda (``layers/``, ``functions/``) imports ``inmet_local``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.unit]

PACKAGE = REPO_ROOT / "local" / "inmet_local"

# Each package and the packages of inmet_local it may import (besides itself and inmet_pipeline).
ALLOWED: dict[str, frozenset[str]] = {
    "cli": frozenset({"emulator", "client", "ops", "ml", "snowflake", "synth", "workspace"}),
    "emulator": frozenset({"snowflake", "synth", "workspace"}),
    "client": frozenset({"workspace"}),
    "ops": frozenset({"snowflake", "workspace"}),
    "ml": frozenset({"synth", "workspace"}),
    "snowflake": frozenset({"workspace"}),
    "synth": frozenset({"workspace"}),
    "workspace": frozenset(),
}
# The only modules allowed directly in inmet_local/ (the package's docstring says why).
TOP_LEVEL = {"__init__.py", "__main__.py"}


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """Every absolute module name ``path`` imports (at any depth: lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def violations(package_dir: Path, allowed: dict[str, frozenset[str]]) -> list[str]:
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if len(relative.parts) == 1:
            continue
        owner = relative.parts[0]
        for line, name in imported_modules(path):
            parts = name.split(".")
            if parts[0] != "inmet_local" or len(parts) < 2:
                continue
            target = parts[1]
            if target != owner and target not in allowed.get(owner, frozenset()):
                found.append(f"{relative}:{line} ({owner}) imports {name} ({target})")
    return found


def test_no_module_lives_directly_in_the_package_but_the_entry_points() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in TOP_LEVEL)
    assert not loose, (
        f"modules directly in local/inmet_local/ (move each into its package): {loose}"
    )


def test_every_package_is_known_and_says_what_it_may_import() -> None:
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted(ALLOWED)
    for name in packages:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())) or ""
        assert doc.strip(), f"inmet_local/{name}/__init__.py has no docstring"


def test_imports_point_one_way() -> None:
    assert not violations(PACKAGE, ALLOWED)


def test_nothing_shipped_to_lambda_imports_the_local_tools() -> None:
    shipped = [*(REPO_ROOT / "layers").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]
    assert len(shipped) > 10
    found = [
        f"{path.relative_to(REPO_ROOT)}:{line}"
        for path in shipped
        for line, name in imported_modules(path)
        if name.split(".")[0] == "inmet_local"
    ]
    assert not found, f"Lambda code importing inmet_local: {found}"


def test_the_check_finds_an_import_against_the_direction(tmp_path: Path) -> None:
    for package in ("snowflake", "emulator"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text('"""x."""\n')
    (tmp_path / "snowflake" / "bad.py").write_text(
        "def f():\n    from inmet_local.emulator.stack import x\n    return x\n"
    )
    (tmp_path / "emulator" / "good.py").write_text("import inmet_local.snowflake.sqlproject\n")
    assert violations(tmp_path, ALLOWED) == [
        "snowflake/bad.py:2 (snowflake) imports inmet_local.emulator.stack (emulator)"
    ]
