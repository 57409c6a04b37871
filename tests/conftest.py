"""Shared fixtures: where the real INMET files are (the values themselves are in
tests/paths.py, which test modules import)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# As SAM's Globals set them for every function; set before any handler module is imported,
# because Powertools reads them when its Logger and Metrics are created.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "inmet-pipeline")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InmetPipeline")
# The terminal size a user's shell gives a piped command: none. pytest-xdist's workers set
# COLUMNS=80 and LINES=24, which would fold the CLI's tables in the workers only (the CLI reads
# COLUMNS for piped output, inmet_local/cli/output.py); a test that wants a width sets its own.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

from tests.paths import REAL_DATA_ENV, real_data_dir


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
