"""`make test-aws` without credentials: one clear line, exit 0, nothing deployed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inmet_local.ops.live import SKIP_LINE, stack_name
from inmet_local.workspace.template import REPO_ROOT

pytestmark = [pytest.mark.unit]


def _no_credentials(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def test_without_credentials_it_skips_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "inmet_local.ops.live"],
        capture_output=True,
        text=True,
        env=_no_credentials(tmp_path),
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [SKIP_LINE]
    assert "skipped" in SKIP_LINE
    assert "nothing was deployed" in SKIP_LINE


def test_make_test_aws_runs_the_live_module() -> None:
    dry = subprocess.run(
        ["make", "-n", "test-aws"], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    assert dry.returncode == 0, dry.stderr
    assert "-m inmet_local.ops.live" in dry.stdout


def test_stack_names_are_unique_and_valid() -> None:
    names = {stack_name() for _ in range(50)}
    assert len(names) == 50
    for name in names:
        # CloudFormation: letters, digits and hyphens, starting with a letter, <= 128
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", name), name
