"""The committed Lambda locks install with the build folders' own pip command for arm64:
``--require-hashes --no-deps`` with ``--platform manylinux2014_aarch64``
(https://repost.aws/knowledge-center/lambda-python-package-compatible), as a dry run. `make lock`
runs this check for both architectures before it writes; here it guards the committed files.
x86_64 is not repeated: `make test` builds it for real (`make build`, tests/integration/
test_sam_build.py). Reads PyPI.
"""

from __future__ import annotations

import pytest

from inmet_local.ops.lock import FOLDERS, verify
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_lock_installs_with_the_builds_pip_on_arm64(folder: str) -> None:
    verify(REPO_ROOT / folder / "requirements.txt", "aarch64")
