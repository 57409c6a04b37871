"""The Lambda builds install pinned, hashed requirements (issue 15, point 9): every package of
each build folder's requirements.txt is ``==`` with a sha256, the lock satisfies the ranges of
requirements.in, the floors above the known advisories hold, and the layers agree on the
versions they share (UploadFunction's pydantic is CommonLayer's at run time)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from inmet_local.ops.lock import FOLDERS
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.unit]

FLOORS = {"python-multipart": "0.0.31", "starlette": "1.0.1"}


def pins(folder: str) -> dict[str, tuple[str, list[str]]]:
    text = (REPO_ROOT / folder / "requirements.txt").read_text(encoding="utf-8")
    out = {}
    for entry in re.split(r"\n(?=[a-z0-9])", text.split("\n", 3)[3].strip()):
        head = entry.split(" ", 1)[0]
        name, version = head.split("==")
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
        assert hashes, entry
        out[name] = (version, hashes)
    return out


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_package_is_pinned_with_hashes_and_inside_the_ranges(folder: str) -> None:
    locked = pins(folder)
    assert locked
    for line in (REPO_ROOT / folder / "requirements.in").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        assert name in locked, name
        assert requirement.specifier.contains(locked[name][0]), (name, locked[name][0])
    for name, floor in FLOORS.items():
        if name in locked:
            assert Version(locked[name][0]) >= Version(floor), name


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_build_installs_with_hash_checking(folder: str) -> None:
    makefile = (Path(REPO_ROOT) / folder / "Makefile").read_text()
    assert "--require-hashes --no-deps --requirement requirements.txt" in makefile


def test_shared_packages_have_one_version() -> None:
    versions: dict[str, set[str]] = {}
    for folder in FOLDERS:
        for name, (version, _) in pins(folder).items():
            versions.setdefault(name, set()).add(version)
    assert {n: v for n, v in versions.items() if len(v) > 1} == {}


def test_the_upload_function_floors_are_stated() -> None:
    text = (REPO_ROOT / "functions/upload_api/requirements.in").read_text()
    assert "python-multipart>=0.0.31" in text
    assert "starlette>=1.0.1" in text
