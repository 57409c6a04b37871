"""`make lock` keeps the wheel the build's pip installs, by pip's own tag order: the tags
inmet_local.ops.lock ranks by are the ones `pip debug --verbose` lists for the Makefiles'
``--platform manylinux2014_<arch> --implementation cp --python-version 3.12``, in that order
(pip's documentation of `pip debug`: https://pip.pypa.io/en/stable/cli/pip_debug/). No network.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from inmet_local.ops.lock import ARCHES, build_python, build_tags, pip_platform

pytestmark = [pytest.mark.functional]


def pips() -> list[str]:
    """The interpreters whose pip may run a build: this venv's and the one it was made from."""
    out = []
    for python in dict.fromkeys([sys.executable, build_python()]):
        version = [python, "-m", "pip", "--version"]
        if subprocess.run(version, capture_output=True, check=False).returncode == 0:
            out.append(python)
    return out


def pip_tags(python: str, arch: str) -> list[str]:
    done = subprocess.run(
        [python, "-m", "pip", "debug", "--verbose", "--platform", pip_platform(arch),
         "--implementation", "cp", "--python-version", "3.12"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Compatible tags:"))
    tags = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        tags.append(line.strip())
    return tags


@pytest.mark.parametrize("arch", ARCHES)
def test_the_lock_ranks_wheels_as_the_builds_pip_does(arch: str) -> None:
    pythons = pips()
    if not pythons:
        pytest.skip("no interpreter with pip here (the Lambda builds need one: make build)")
    for python in pythons:
        assert [str(tag) for tag in build_tags(arch)] == pip_tags(python, arch), python
