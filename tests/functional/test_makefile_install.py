"""The top Makefile installs every environment through uv, and through pip when uv cannot be
had, saying so in one line. Run on a copy of the Makefile in a scratch folder: a stand-in uv
records what it is asked (and makes the venvs it is asked for), so no package is downloaded;
the fallback is shown with pip kept off the network (PIP_NO_INDEX)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.functional]

UV_VERSION = "0.0.1"
FAKE_UV = """#!{python}
import os, subprocess, sys
downloads = os.environ.get("UV_PYTHON_DOWNLOADS", "")
pyc = "off" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
with open({log!r}, "a") as log:
    log.write(" ".join(sys.argv[1:]) + " | downloads " + downloads + ", pyc " + pyc + "\\n")
if sys.argv[1] == "venv":
    subprocess.run([{python!r}, "-m", "venv", "--without-pip", sys.argv[-1]], check=True)
"""


def base_python() -> str:
    """An interpreter with pip (the Makefile bootstraps uv with its PYTHON's pip)."""
    for python in dict.fromkeys([sys.executable, getattr(sys, "_base_executable", "")]):
        if python and subprocess.run([python, "-m", "pip", "--version"], check=False,
                                     capture_output=True).returncode == 0:  # fmt: skip
            return python
    pytest.skip("no interpreter with pip here")


def make(folder: Path, *targets: str, **env: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        ["make", "--no-print-directory", *targets, f"PYTHON={base_python()}",
         f"UV_VERSION={UV_VERSION}"],
        cwd=folder, env={**os.environ, **env}, capture_output=True, text=True, timeout=240,
        check=False,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return tmp_path


def test_every_environment_is_made_and_filled_by_uv(project: Path) -> None:
    log = project / "uv.log"
    uv = project / f".tools/uv-{UV_VERSION}/bin/uv"
    uv.parent.mkdir(parents=True)
    uv.write_text(FAKE_UV.format(python=sys.executable, log=str(log)))
    uv.chmod(0o755)
    (uv.parent.parent / ".tried").touch()
    # Python may write bytecode under make even where the environment says not to (the
    # Makefile says why), and uv never downloads a Python.
    done = make(project, ".venv/bin/.installed-dev,ml", ".tools/sam/bin/sam",
                ".tools/checkov/bin/checkov", PYTHONDONTWRITEBYTECODE="1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    python = base_python()
    assert log.read_text().splitlines() == [
        f"venv --quiet --seed --python {python} .venv | downloads never, pyc on",
        "pip install --quiet --python .venv/bin/python -e .[dev,ml] | downloads never, pyc on",
        f"venv --quiet --seed --python {python} .tools/sam | downloads never, pyc on",
        "pip install --quiet --python .tools/sam/bin/python aws-sam-cli==1.170.0"
        " | downloads never, pyc on",
        f"venv --quiet --seed --python {python} .tools/checkov | downloads never, pyc on",
        "pip install --quiet --python .tools/checkov/bin/python checkov==3.3.30"
        " | downloads never, pyc on",
    ]
    assert "pip" not in done.stdout + done.stderr


@pytest.mark.slow
def test_without_uv_pip_installs_and_one_line_says_so(project: Path) -> None:
    done = make(project, ".tools/sam/bin/sam", PIP_NO_INDEX="1", PIP_FIND_LINKS="")
    assert done.returncode != 0  # no index: pip cannot find aws-sam-cli either
    said = [line for line in done.stderr.splitlines() if "could not be installed" in line]
    assert said == [
        f"uv {UV_VERSION} could not be installed from PyPI (see .tools/uv-{UV_VERSION}/"
        "install.log): installing with pip instead, slower"
    ]
    assert "aws-sam-cli==1.170.0" in done.stderr  # pip's own complaint: pip was asked
    assert (project / ".tools/sam/bin/pip").exists()
    assert (project / f".tools/uv-{UV_VERSION}/.tried").exists()
    assert not (project / f".tools/uv-{UV_VERSION}/bin/uv").exists()
