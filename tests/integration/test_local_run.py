"""`inmet local run --upload` (what `make demo` runs) as a user runs it: a subprocess on a
folder of generated files with a broken one among them; it ends with the DONE line, writes a
valid inmet_clean.csv, says what was rejected and exits 1 because a file failed."""

from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path

import pytest

from inmet_local.cli.runner import DONE_LINE, run_command
from inmet_local.emulator.servers import free_port
from inmet_local.synth.synth import generate_archive
from inmet_pipeline.columns import CLEAN_COLUMNS
from tests.oracle import expected_clean

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        run_command(folder, tmp_path, free_port(), timeout=300),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "INMET_ENV_FILE": "/dev/null", "COLUMNS": "200"},
    )


def test_local_run_uploads_cleans_exports_fetches_and_says_done(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    files = list(generate_archive(folder, stations=3, year=2024, seed=21))
    files += list(generate_archive(folder, stations=2, year=2015, seed=21))
    result = _run(folder, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.rstrip().endswith(DONE_LINE)
    assert "5 accepted, 0 duplicate, 0 rejected, 0 failed" in result.stdout
    assert "runtime: 5 files loaded by the pipe" in result.stdout
    cpu = re.search(
        r"cpu: ([\d.]+) s in all \(upload API \(uvicorn\) ([\d.]+) s, fakesnow server "
        r"([\d.]+) s, moto server ([\d.]+) s, runtime and client ([\d.]+) s\)",
        result.stdout,
    )
    assert cpu, result.stdout[-2000:]
    total, *parts = (float(x) for x in cpu.groups())
    assert all(p > 0 for p in parts)
    assert abs(total - sum(parts)) < 0.2
    with (tmp_path / "inmet_clean.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CLEAN_COLUMNS
    assert len(rows) - 1 == len(expected_clean([f.read_bytes() for f in files]))

    # A broken file among good ones: the good ones go through, the run says why the other did
    # not, and exits 1.
    (folder / "INMET_broken.CSV").write_bytes(files[0].read_bytes()[:2000] + b"\n2024;x;\n")
    again = _run(folder, tmp_path)
    assert again.returncode == 1
    assert again.stdout.rstrip().endswith(DONE_LINE)
    assert "1 rejected" in again.stdout
    assert "INMET_broken.CSV" in again.stdout
