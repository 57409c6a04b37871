"""The project's documentation (README.md and docs/): its documents exist, every relative link in
them leads to a file of the repository (and to a heading, when it names one), the section and
rule numbers that code comments cite ("contracts §3 rule 7", "inmet-format §6") are all there,
the README stays a short landing page, and nothing a user reads (the README, docs/, the `--help`
of every `inmet` command) speaks of the project's history: no issue numbers, no "seed"."""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from inmet_local.cli import app

pytestmark = [pytest.mark.unit]

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
DOCUMENTS = (
    "README.md",
    "contracts.md",
    "inmet-format.md",
    "architecture.md",
    "local-runtime.md",
    "performance.md",
    "deploying.md",
    "experiments.md",
    "troubleshooting.md",
    "cli.md",
    "development.md",
)
# Every page a user may read: the README and whatever docs/ holds (new pages included).
PAGES = (README, *sorted(DOCS.glob("*.md")))
README_MAX_LINES = 200

_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _prose(markdown: str) -> str:
    """The text without code: links inside code blocks or `code` are examples, not links."""
    return _INLINE_CODE.sub("", _FENCE.sub("", markdown))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    return {_slug(h) for h in _HEADING.findall(_FENCE.sub("", markdown))}


def _section(markdown: str, number: int) -> str:
    """The text of the top-level section '## §<number> …', up to the next '## '."""
    match = re.search(rf"^## §{number}\b.*?(?=^## |\Z)", markdown, re.M | re.S)
    assert match is not None, f"no section '## §{number}'"
    return match.group(0)


def _top_sections(markdown: str) -> list[int]:
    return [int(n) for n in re.findall(r"^## §(\d+)\b", markdown, re.M)]


def test_docs_has_its_documents() -> None:
    missing = [name for name in DOCUMENTS if not (DOCS / name).is_file()]
    assert not missing, f"docs/ lacks {missing}"


def _broken_links(source: Path, markdown: str) -> list[str]:
    """The relative links of ``markdown`` (written in ``source``) that lead to no file of the
    repository, or to a heading the target does not have."""
    broken = []
    for target in _LINK.findall(_prose(markdown)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …: not a repository path
            continue
        path_part, _, anchor = target.partition("#")
        if not path_part:  # a heading of this very page
            if anchor not in _anchors(markdown):
                broken.append(f"{target}: no heading #{anchor} in {source.name}")
            continue
        path = (source.parent / path_part).resolve()
        if not path.exists() or REPO_ROOT not in (path, *path.parents):
            broken.append(f"{target}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(_text(path)):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(REPO_ROOT).as_posix() for p in PAGES])
def test_every_relative_link_leads_to_a_file_of_the_repository(page: Path) -> None:
    broken = _broken_links(page, _text(page))
    assert not broken, f"{page.relative_to(REPO_ROOT)}: " + "; ".join(broken)


def test_links_are_checked_for_real() -> None:
    """The link check sees links in prose, ignores those in code, and flags a missing file, a
    missing heading in another page and a missing heading in the page itself."""
    sample = "See [a](contracts.md#3-clean), `[b](nowhere.md)` and\n```\n[c](gone.md)\n```\n"
    assert _LINK.findall(_prose(sample)) == ["contracts.md#3-clean"]
    assert _slug("§3 CLEAN") == "3-clean"
    assert _slug("§4.1 Error notifications") == "41-error-notifications"
    assert not (DOCS / "nowhere.md").exists()
    assert _broken_links(DOCS / "README.md", sample) == []
    planted = (
        "# Here\n[gone](nowhere.md), [heading](contracts.md#9-nothing), [self](#not-here), "
        "[fine](#here), [up](../README.md), [out](../../etc/passwd)\n"
    )
    assert _broken_links(DOCS / "planted.md", planted) == [
        "nowhere.md: no such file in the repository",
        "contracts.md#9-nothing: no heading #9-nothing in contracts.md",
        "#not-here: no heading #not-here in planted.md",
        "../../etc/passwd: no such file in the repository",
    ]


def test_contracts_keeps_sections_1_to_5_and_rules_1_to_7_of_section_3() -> None:
    markdown = _text(DOCS / "contracts.md")
    assert _top_sections(markdown) == [1, 2, 3, 4, 5]
    clean = _section(markdown, 3)
    rules = [int(n) for n in re.findall(r"^\*\*Rule (\d+) —", clean, re.M)]
    assert rules == [1, 2, 3, 4, 5, 6, 7]


def test_inmet_format_keeps_sections_1_to_8() -> None:
    markdown = _text(DOCS / "inmet-format.md")
    assert _top_sections(markdown) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_the_docs_stand_on_their_own() -> None:
    """A clone has no brief beside it: the documents never send the reader outside the
    repository for the project's own rules."""
    outside = (
        "shared" + "/docs"
    )  # spelt in two parts, so that a grep of the repository for it finds nothing
    for page in PAGES:
        text = _text(page)
        assert outside not in text, page.name
        assert not re.search(r"\b(CONTRACTS|ARCHITECTURE|FORMAT)\.md\b", text), page.name


# --- the README is a landing page ---------------------------------------------------------------


def _landing_page_faults(markdown: str) -> list[str]:
    """What keeps ``markdown`` from being the README's landing page."""
    faults = []
    lines = markdown.splitlines()
    if len(lines) > README_MAX_LINES:
        faults.append(f"{len(lines)} lines, more than {README_MAX_LINES}")
    if not lines or lines[0] != "# INMET pipeline":
        faults.append("the first line is not '# INMET pipeline'")
    headings = re.findall(r"^## (.+)$", _FENCE.sub("", markdown), re.M)
    if not headings or headings[-1] != "Resumo em português":
        faults.append("the Portuguese summary is not the last section")
    for command in ("make demo", "make test"):
        if command not in markdown:
            faults.append(f"no `{command}`")
    # A fresh shell has no `inmet` on its PATH: every command line either calls
    # .venv/bin/inmet or comes after the line that activates the virtualenv.
    activated = False
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", markdown, re.M | re.S):
        for line in block.splitlines():
            activated = activated or line.startswith("source .venv/bin/activate")
            if re.match(r"\s*inmet\b", line) and not activated:
                faults.append(f"`{line.strip()}` runs before the virtualenv is activated")
    return faults


def test_the_readme_is_a_landing_page() -> None:
    assert not _landing_page_faults(_text(README))


def test_the_readme_links_to_every_page_of_docs() -> None:
    linked = {target.partition("#")[0] for target in _LINK.findall(_prose(_text(README)))}
    missing = sorted(
        f"docs/{page.name}" for page in DOCS.glob("*.md") if f"docs/{page.name}" not in linked
    )
    assert not missing, f"the README's table of documents lacks {missing}"


def test_the_landing_page_check_catches_each_fault() -> None:
    good = (
        "# INMET pipeline\n```bash\nmake demo\nmake test\nsource .venv/bin/activate\n"
        "inmet --help\n```\n## Resumo em português\nTexto.\n"
    )
    assert _landing_page_faults(good) == []
    assert _landing_page_faults(good + "x\n" * README_MAX_LINES) == [
        f"{len(good.splitlines()) + README_MAX_LINES} lines, more than {README_MAX_LINES}"
    ]
    assert _landing_page_faults(good.replace("# INMET pipeline", "# Other")) == [
        "the first line is not '# INMET pipeline'"
    ]
    assert _landing_page_faults(good + "## Later\n") == [
        "the Portuguese summary is not the last section"
    ]
    assert _landing_page_faults(good.replace("make demo", "make it")) == ["no `make demo`"]
    bare = good.replace("source .venv/bin/activate\n", "")
    assert _landing_page_faults(bare) == ["`inmet --help` runs before the virtualenv is activated"]
    assert _landing_page_faults(bare.replace("inmet --help", ".venv/bin/inmet --help")) == []


# --- no project history in what a user reads ------------------------------------------------------

# "issue 17", "issues 16 and 17", "Issue #3", "before_issue17", "PR 12", and "#12" as a bare
# reference ("#41-error-notifications" in a link is an anchor, "&#39;" an entity: not references).
_ISSUE_REFERENCE = re.compile(
    r"(?<![a-z])(?:issues?|pr|pull request)[\s_#-]*\d+|(?<![\w&#])#\d+(?![\w-])|\bthe issue's\b",
    re.I,
)
# "seed" as a whole word, the name of the project's first version; `inmet synth --seed`, the
# random generator's option, is the one exception.
_SEED = re.compile(r"(?<!--)\bseeds?\b", re.I)


def _history(text: str) -> list[str]:
    """Each issue reference and each "seed" of ``text``, as found."""
    return [m.group(0) for m in (*_ISSUE_REFERENCE.finditer(text), *_SEED.finditer(text))]


# The pages, and the one configuration file a user reads line by line.
READ_BY_USERS = (*PAGES, REPO_ROOT / ".env.example")


@pytest.mark.parametrize(
    "page", READ_BY_USERS, ids=[p.relative_to(REPO_ROOT).as_posix() for p in READ_BY_USERS]
)
def test_no_page_speaks_of_issues_or_the_seed(page: Path) -> None:
    found = _history(_text(page))
    assert not found, f"{page.relative_to(REPO_ROOT)} says {found}"


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    # Typer's own (vendored) click: a group is whatever has sub-commands.
    yield path, group
    for name, command in (getattr(group, "commands", None) or {}).items():
        yield from _commands(command, (*path, name))


def _help_history(cli: typer.Typer) -> dict[str, list[str]]:
    """For every command and sub-command of ``cli``, the history its `--help` speaks of: in the
    rendered help (wide, so that no phrase is wrapped) and in the raw strings it is made of."""
    runner = CliRunner()
    found: dict[str, list[str]] = {}
    for path, command in _commands(typer.main.get_command(cli)):
        result = runner.invoke(cli, [*path, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        texts = [result.output, command.help or "", command.short_help or ""]
        texts += [getattr(param, "help", None) or "" for param in command.params]
        hits = [hit for text in texts for hit in _history(" ".join(text.split()))]
        if hits:
            found[" ".join(("inmet", *path))] = hits
    return found


def test_no_help_text_speaks_of_issues_or_the_seed() -> None:
    assert not _help_history(app)


def test_the_history_checks_catch_a_planted_offence() -> None:
    for offence in (
        "as issue 17 did",
        "issues 16 and 17",
        "see Issue #3",
        "benchmarks/before_issue17/",
        "fixed in PR 12",
        "(#12)",
        "see #7.",
        "the issue's 3.8x",
        "the seed's pipeline.sh",
        "Seed users",
        "The SEED",
    ):
        assert _history(offence), offence
    for harmless in (
        "[contracts §4.1](contracts.md#41-error-notifications)",
        "[§1](#1-upload-api)",
        "&#39;",
        "inmet synth --seed 5",
        "seedling, tissue 5, §3 rule 7",
        "an upload issue is one line",
    ):
        assert not _history(harmless), harmless

    planted = typer.Typer()

    @planted.command()
    def old(
        flag: bool = typer.Option(False, help="Like the seed's script."),
    ) -> None:
        """Runs what issue 17 added."""

    @planted.command()
    def fine() -> None:
        """Nothing to see."""

    # The group's help lists each command's first line: the offence shows there too.
    assert {path: sorted(hits) for path, hits in _help_history(planted).items()} == {
        "inmet": ["issue 17"],
        "inmet old": ["issue 17", "issue 17", "seed", "seed"],
    }


# --- the pages that name code: the command table, the path of one upload ------------------------


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
