"""Nothing a user reads speaks of the project's history: the README, docs/, .env.example and the
`--help` of every `inmet` command and subcommand name no issue ("issue 17", "#17") and no
"seed" (the name of the project's first version); each check catches a planted offence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from inmet_local.cli import app
from tests.unit.test_docs import PAGES, REPO_ROOT, _text

pytestmark = [pytest.mark.unit]

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
