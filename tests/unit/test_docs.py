"""The project's documentation (docs/): its documents exist, every relative link in them leads
to a file of the repository (and to a heading, when it names one), and the section and rule
numbers that code comments cite ("contracts §3 rule 7", "inmet-format §6") are all there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit]

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
DOCUMENTS = (
    "README.md",
    "contracts.md",
    "inmet-format.md",
    "architecture.md",
    "local-runtime.md",
    "performance.md",
    "aws-security.md",
)

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


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_relative_link_leads_to_a_file_of_the_repository(name: str) -> None:
    source = DOCS / name
    markdown = _text(source)
    broken = []
    for target in _LINK.findall(_prose(markdown)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …: not a repository path
            continue
        path_part, _, anchor = target.partition("#")
        path = (source.parent / path_part).resolve() if path_part else source
        if not path.exists() or REPO_ROOT not in (path, *path.parents):
            broken.append(f"{target}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(_text(path)):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{name}: " + "; ".join(broken)


def test_links_are_checked_for_real() -> None:
    """The link check sees links in prose, ignores those in code, and flags a missing file."""
    sample = "See [a](contracts.md#3-clean), `[b](nowhere.md)` and\n```\n[c](gone.md)\n```\n"
    assert _LINK.findall(_prose(sample)) == ["contracts.md#3-clean"]
    assert _slug("§3 CLEAN") == "3-clean"
    assert _slug("§4.1 Error notifications") == "41-error-notifications"
    assert not (DOCS / "nowhere.md").exists()


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
    for name in DOCUMENTS:
        text = _text(DOCS / name)
        assert outside not in text, name
        assert not re.search(r"\b(CONTRACTS|ARCHITECTURE|FORMAT)\.md\b", text), name


def test_the_docs_state_the_claim_expiry_the_code_uses() -> None:
    """A dead request's claim is taken over after STALE_CLAIM_MS (the upload function's
    timeout and one second): every document of docs/ that states it in seconds says that."""
    from inmet_pipeline.uploads import STALE_CLAIM_MS

    stated = {
        (name, int(seconds))
        for name in DOCUMENTS
        for seconds in re.findall(r"claim older than (\d+) s", _text(DOCS / name))
    }
    assert stated, "no document states when a claim expires"
    assert {s for _, s in stated} == {STALE_CLAIM_MS // 1000}, stated
