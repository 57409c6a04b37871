"""The project's documentation (README.md and docs/): its documents exist, every relative link in
them leads to a file of the repository (and to a heading, when it names one), the section and
rule numbers that code comments cite ("contracts §3 rule 7", "inmet-format §6") are all there,
and the README stays a short landing page. What the pages say of the code is checked in
test_docs_code.py, and that they speak of no project history in test_docs_history.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
    "aws-security.md",
    "daily.md",
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
    """GitHub's anchor for a heading: lower case, punctuation dropped (underscores kept, as GitHub
    keeps them), spaces as hyphens."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
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


def test_the_docs_state_the_claim_expiry_the_code_uses() -> None:
    """A dead request's claim is taken over after STALE_CLAIM_MS (the upload function's
    timeout and one second): every document of docs/ that states it in seconds says that."""
    from inmet_pipeline.uploads import STALE_CLAIM_MS

    stated = {
        (page.name, int(seconds))
        for page in PAGES
        for seconds in re.findall(r"claim older than (\d+) s", _text(page))
    }
    assert stated, "no document states when a claim expires"
    assert {s for _, s in stated} == {STALE_CLAIM_MS // 1000}, stated
