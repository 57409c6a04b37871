"""The generated sample is kept apart from the user's files: its own folder and marker, and the
files an older `make demo` wrote into data/raw/ are recognised and left out."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from inmet_local.cli.runner import choose_inputs
from inmet_local.synth.sample import (
    MARKER,
    SAMPLE_SPEC,
    ensure_sample,
    generated_ids,
    is_generated,
    legacy_sample_paths,
)
from inmet_local.synth.synth import generate_archive
from inmet_local.workspace.sources import iter_input_files
from inmet_pipeline.uploads import upload_id_for
from tests.helpers import small_file

pytestmark = [pytest.mark.unit, pytest.mark.slow]  # generates ~24 station-years


def test_the_sample_is_marked_and_reused(tmp_path: Path) -> None:
    folder = ensure_sample(tmp_path / "sample", say=lambda _t: None)
    files = list(iter_input_files([folder]))
    assert len(files) == sum(n for n, _ in SAMPLE_SPEC)
    assert all(is_generated(f) for f in files)
    assert generated_ids([folder]) == {upload_id_for(f.read()) for f in files}
    stamp = (folder / MARKER).stat().st_mtime_ns
    ensure_sample(folder, say=lambda _t: pytest.fail("generated again"))
    assert (folder / MARKER).stat().st_mtime_ns == stamp
    # A real file copied in later is not taken for generated.
    own = small_file("B", station=4)
    (folder / own.filename).write_bytes(own.data)
    assert not is_generated(next(f for f in iter_input_files([folder]) if f.name == own.filename))


def test_the_old_demo_sample_in_data_raw_is_left_out(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for stations, year in SAMPLE_SPEC:  # what `make demo` used to write into data/raw/
        list(generate_archive(raw, stations=stations, year=year, seed=0))
    own = small_file("B", station=2, seed=9)  # same station as a sample file, other bytes
    (raw / own.filename).write_bytes(own.data)
    assert len(legacy_sample_paths(raw)) == 8
    console = Console(record=True, width=200)
    assert choose_inputs(None, raw, console) == ([raw / own.filename], legacy_sample_paths(raw))
    assert "8 file(s) in" in console.export_text()
    assert legacy_sample_paths(tmp_path / "absent") == []


def test_real_files_in_data_raw_cost_no_generation(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    own = small_file("A", station=5)
    (raw / own.filename).write_bytes(own.data)
    assert legacy_sample_paths(raw) == []
    assert choose_inputs(None, raw, Console(record=True)) == ([raw], [])
