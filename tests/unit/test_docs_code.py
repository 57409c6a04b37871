"""What the documentation says of the code exists: the command table of docs/cli.md names every
`inmet` command, and docs/architecture.md opens with the map of the code (every package of
inmet_local, each deployed folder) and follows one upload through modules that exist."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
import typer

from inmet_local.cli import app
from tests.unit.test_docs import DOCS, REPO_ROOT, _text
from tests.unit.test_docs_history import _commands

pytestmark = [pytest.mark.unit]


def _leaf_commands(cli: typer.Typer) -> list[str]:
    return [
        " ".join(("inmet", *path))
        for path, command in _commands(typer.main.get_command(cli))
        if not getattr(command, "commands", None)
    ]


def _missing_from_table(markdown: str, commands: list[str]) -> list[str]:
    """The commands that no row of the command table of ``markdown`` starts with."""
    rows = re.findall(r"^\| `(inmet [^`]*)`", markdown, re.M)
    return [c for c in commands if not any(re.match(rf"{re.escape(c)}(?![\w-])", r) for r in rows)]


def test_the_command_table_names_every_command() -> None:
    commands = _leaf_commands(app)
    assert {"inmet upload", "inmet aws redrive", "inmet local compose logs"} <= set(commands)
    assert not _missing_from_table(_text(DOCS / "cli.md"), commands)
    # and the check sees a missing row
    assert _missing_from_table("| `inmet local up [--port 8000]` | … |\n", commands) == [
        c for c in commands if c != "inmet local up"
    ]


def _section_text(markdown: str, heading: str) -> str:
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", markdown, re.M | re.S)
    assert match is not None, f"no heading {heading!r}"
    return match.group(1)


def _names(node: ast.stmt) -> list[str]:
    """The names a top-level statement defines: a class, a function, an assignment, an import."""
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.name]
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [alias.asname or alias.name for alias in node.names]
    return []


def _defines(body: list[ast.stmt], name: str) -> ast.stmt | None:
    """The statement of ``body`` that defines ``name``, if any."""
    return next((node for node in body if name in _names(node)), None)


def _unknown_code_names(text: str) -> list[str]:
    """The dotted module names of ``text`` (`inmet_pipeline.uploads`) that no file defines, and
    the names given beside one (`inmet_pipeline.uploads` (`UploadService.accept`)) it lacks.
    Read from the source, not imported: importing the functions' modules takes seconds."""
    unknown = []
    pattern = (
        r"`((?:inmet_pipeline|inmet_local|upload_api|export_clean)(?:\.\w+)+)`(?: \(`([\w.]+)`)?"
    )
    for module_name, attribute in re.findall(pattern, text):
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.origin is None:
            unknown.append(module_name)
            continue
        body = ast.parse(Path(spec.origin).read_text(encoding="utf-8")).body
        for part in filter(None, attribute.split(".")):
            node = _defines(body, part)
            if node is None:
                unknown.append(f"{module_name} ({attribute})")
                break
            body = node.body if isinstance(node, ast.ClassDef) else []
    return unknown


def test_the_path_of_one_upload_names_modules_that_exist() -> None:
    section = _section_text(_text(DOCS / "architecture.md"), "One upload, module by module")
    assert "inmet_local.client.fetch" in section
    assert not _unknown_code_names(section)
    planted = "`inmet_pipeline.nowhere`, `inmet_pipeline.uploads` (`UploadService.nothing`)"
    assert _unknown_code_names(planted) == [
        "inmet_pipeline.nowhere",
        "inmet_pipeline.uploads (UploadService.nothing)",
    ]


def _unmapped(section: str, root: Path) -> list[str]:
    """The packages of ``root`` (folders with an __init__.py) the map does not name."""
    return sorted(
        p.parent.name for p in root.glob("*/__init__.py") if f"[`{p.parent.name}/`](" not in section
    )


def test_the_map_of_the_code_names_every_package() -> None:
    """architecture.md opens with the map: each inmet_local package and each deployed folder."""
    markdown = _text(DOCS / "architecture.md")
    first = re.search(r"^## (.+)$", markdown, re.M)
    assert first is not None
    assert first.group(1) == "The map of the code"
    section = _section_text(markdown, "The map of the code")
    assert not _unmapped(section, REPO_ROOT / "local" / "inmet_local")
    for folder in (
        "layers/common/python/inmet_pipeline/",
        "layers/snowflake/",
        "functions/upload_api/",
        "functions/export_clean/",
        "snowflake_sql/",
    ):
        assert f"[`{folder}`](" in section, folder
    assert _unmapped("[`cli/`](x) [`ml/`](y)", REPO_ROOT / "local" / "inmet_local") == sorted(
        p.parent.name
        for p in (REPO_ROOT / "local" / "inmet_local").glob("*/__init__.py")
        if p.parent.name not in {"cli", "ml"}
    )
