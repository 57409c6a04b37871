"""INMET_REAL_DATA points the real-data tests at a folder of INMET files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import DEFAULT_REAL_DIR, REAL_DATA_ENV, real_data_dir

pytestmark = [pytest.mark.unit]


def test_the_variable_wins_over_the_workspace_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REAL_DATA_ENV, str(tmp_path))
    assert real_data_dir() == tmp_path
    monkeypatch.delenv(REAL_DATA_ENV)
    assert real_data_dir() == DEFAULT_REAL_DIR
    assert DEFAULT_REAL_DIR.parts[-3:] == ("shared", "data", "inmet_real")
