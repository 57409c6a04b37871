"""Shared fixtures: where the real INMET files are, and small helpers to build test files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# As SAM's Globals set them for every function; set before any handler module is imported,
# because Powertools reads them when its Logger and Metrics are created.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "inmet-pipeline")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InmetPipeline")

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


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The folder of real INMET files; tests that need it skip when it is absent."""
    folder = real_data_dir()
    if not folder.is_dir():
        how = (
            f"{REAL_DATA_ENV}={folder} is not a folder"
            if os.environ.get(REAL_DATA_ENV)
            else f"not found at {folder}; set {REAL_DATA_ENV} to a folder of INMET files"
        )
        pytest.skip(
            f"real INMET files: {how} (INMET's yearly archives, "
            "portal.inmet.gov.br/dadoshistoricos, unpacked)"
        )
    return folder


def real_file(real_dir: Path, prefix: str) -> Path:
    matches = sorted(real_dir.glob(prefix + "*"))
    if not matches:
        pytest.skip(f"{prefix}* not in {real_dir}")
    return matches[0]
