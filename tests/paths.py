"""Where the tests find things: the repository, and the folder of real INMET files.

Plain values and functions that test modules import (a conftest holds fixtures only: pytest
loads it by itself, and importing it as a module loads it twice)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# A folder of real INMET station files (the yearly zips of INMET's historical data portal,
# https://portal.inmet.gov.br/dadoshistoricos, unpacked): INMET_REAL_DATA, else the workspace's
# ../shared/data/inmet_real beside the clone.
REAL_DATA_ENV = "INMET_REAL_DATA"
DEFAULT_REAL_DIR = REPO_ROOT.parent / "shared" / "data" / "inmet_real"


def real_data_dir() -> Path:
    value = os.environ.get(REAL_DATA_ENV)
    return Path(value).expanduser() if value else DEFAULT_REAL_DIR


REAL_DIR = real_data_dir()


def real_file(real_dir: Path, prefix: str) -> Path:
    """The first real file whose name starts with ``prefix``, or a skip."""
    matches = sorted(real_dir.glob(prefix + "*"))
    if not matches:
        pytest.skip(f"{prefix}* not in {real_dir}")
    return matches[0]
