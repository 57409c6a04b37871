"""The Lambda builds install pinned, hashed requirements: every package of each build
folder's requirements.txt is ``==`` with a sha256, the lock satisfies the ranges of
requirements.in, the floors above the known advisories hold, and the layers agree on the
versions they share (UploadFunction's pydantic is CommonLayer's at run time)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from inmet_local.ops.lock import FOLDERS, HEADER, LockError, find_uv, pick_wheels, render
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


# `make lock` resolves with uv and keeps, per package and architecture, the wheel the build's
# pip installs (inmet_local.ops.lock says why). These pylock.toml texts are what
# `uv pip compile --format pylock.toml --python-platform <arch>-manylinux2014` writes (trimmed).
def pylock(*packages: tuple[str, str, list[str]]) -> str:
    blocks = [
        f'[[packages]]\nname = "{name}"\nversion = "{version}"\nwheels = [\n'
        + "".join(
            f'  {{ url = "https://files.example/{wheel}", '
            f'hashes = {{ sha256 = "{sha256(wheel)}" }} }},\n'
            for wheel in wheels
        )
        + "]\n"
        for name, version, wheels in packages
    ]
    return 'lock-version = "1.0"\ncreated-by = "uv"\n\n' + "\n".join(blocks)


def sha256(wheel: str) -> str:
    return hashlib.sha256(wheel.encode()).hexdigest()


WRAPT_X86 = (
    "wrapt-2.5.2-cp312-cp312-manylinux1_x86_64.manylinux_2_28_x86_64.manylinux_2_5_x86_64.whl"
)
WRAPT_ANY = "wrapt-2.5.2-py3-none-any.whl"


def test_the_wheel_pip_prefers_is_kept_and_only_it() -> None:
    text = pylock(("wrapt", "2.5.2", [WRAPT_ANY, WRAPT_X86]))
    assert pick_wheels(text, "x86_64") == {"wrapt": ("2.5.2", {sha256(WRAPT_X86)})}
    # abi3 below cp312, and a pure wheel below any binary one, as in pip's tag order
    abi3 = "cryptography-50.0.2-cp311-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    older = "cryptography-50.0.2-cp38-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    text = pylock(("Cryptography", "50.0.2", [older, abi3]))
    assert pick_wheels(text, "aarch64") == {"cryptography": ("50.0.2", {sha256(abi3)})}


def test_a_wheel_the_builds_pip_refuses_stops_the_lock() -> None:
    """uv's aarch64-manylinux2014 target takes a wheel tagged manylinux_2_17 alone; the build's
    `pip install --platform manylinux2014_aarch64` does not, so the lock must not either."""
    new_tag_only = "pydantic_core-2.50.5-cp312-cp312-manylinux_2_17_aarch64.whl"
    text = pylock(("pydantic-core", "2.50.5", [new_tag_only]))
    with pytest.raises(LockError, match=re.escape(new_tag_only)):
        pick_wheels(text, "aarch64")
    both = "pydantic_core-2.50.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    text = pylock(("pydantic-core", "2.50.5", [both]))
    assert pick_wheels(text, "aarch64")["pydantic-core"][1] == {sha256(both)}


def test_a_package_without_wheels_stops_the_lock() -> None:
    text = (
        'lock-version = "1.0"\n[[packages]]\nname = "x"\nversion = "1"\n'
        '[packages.sdist]\nurl = "x-1.tar.gz"\n'
    )
    with pytest.raises(LockError, match="no wheel"):
        pick_wheels(text, "x86_64")


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_committed_locks_are_what_make_lock_writes(folder: str) -> None:
    """Header and layout as render() writes them: a hand edit shows up here."""
    text = (REPO_ROOT / folder / "requirements.txt").read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert render({n: (v, set(h)) for n, (v, h) in pins(folder).items()}) == text


def test_make_lock_needs_uv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UV", str(tmp_path / "absent"))
    with pytest.raises(LockError, match="needs uv"):
        find_uv()
