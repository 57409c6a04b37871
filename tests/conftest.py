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
REAL_DIR = REPO_ROOT.parent / "shared" / "data" / "inmet_real"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The folder of real INMET files; tests that need it skip on a clone without it."""
    if not REAL_DIR.is_dir():
        pytest.skip(f"real INMET files not found at {REAL_DIR} (a clone outside the workspace)")
    return REAL_DIR


def real_file(real_dir: Path, prefix: str) -> Path:
    matches = sorted(real_dir.glob(prefix + "*"))
    if not matches:
        pytest.skip(f"{prefix}* not in {real_dir}")
    return matches[0]
