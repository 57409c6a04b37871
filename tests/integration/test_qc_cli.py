"""`inmet qc` (local/inmet_local/cli/qc.py) against a warehouse holding a file with a planted
fault of every kind: the summary and the detail CSV say what the oracle (tests/qc_oracle.py)
flags, and nothing else."""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.emulator.servers import (
    ManagedProcess,
    fakesnow_client_env,
    fakesnow_server_kwargs,
)
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables
from inmet_pipeline.uploads import raw_object
from tests.qc_faults import base_file, plant_all
from tests.qc_oracle import expected_flags

pytestmark = [pytest.mark.integration]


@pytest.fixture
def planted(
    fakesnow: ManagedProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[bytes]:
    """A warehouse with the planted file loaded; `inmet` pointed at it as at an account."""
    database = f"Q{uuid.uuid4().hex[:8].upper()}"
    for name, value in {
        **fakesnow_client_env(fakesnow),
        "SNOWFLAKE_DATABASE": database,
        "INMET_ENV_FILE": str(tmp_path / "no.env"),
    }.items():
        monkeypatch.setenv(name, value)
    station, data = base_file()
    file, _ = plant_all(station, data)
    values = variables({"database": database})
    kwargs = fakesnow_server_kwargs(fakesnow)
    with LocalWarehouse(kwargs, values=values, work_dir=tmp_path / "pipe") as wh:
        wh.deploy()
        wh.load_objects([raw_object(file)])
        assert wh.run_task() is not None
        yield file


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["qc", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout


def test_inmet_qc_counts_per_station_and_test_as_the_oracle(planted: bytes, tmp_path: Path) -> None:
    flags = expected_flags([planted])
    want = Counter((s, at.year, f.test, f.measure) for (s, at), fs in flags.items() for f in fs)
    code, out = run("--json")
    assert code == 0, out
    got = json.loads(out)
    assert {(r["station_id"], r["year"], r["test"], r["measure"]): r["values"] for r in got} == (
        dict(want)
    )
    assert {r["flag"] for r in got if r["test"] == "radiation_above_toa"} == {2}
    assert all(r["hours"] > 8000 for r in got)

    code, table = run()
    assert code == 0, table
    lines = [line.split("│") for line in table.splitlines() if "│" in line]
    cells = {tuple(c.strip() for c in line[1:4]) for line in lines}
    for test in {t for _, _, t, _ in want}:
        kind = "erroneous" if test in ("gross_error", "radiation_above_toa") else "suspect"
        assert ("A001", test, kind) in cells, test


def test_inmet_qc_out_writes_every_flag_with_its_reason(planted: bytes, tmp_path: Path) -> None:
    out = tmp_path / "flags" / "qc_flags.csv"
    code, printed = run("--json", "--out", str(out))
    assert code == 0, printed
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    flags = expected_flags([planted])
    want = {
        (s, at.strftime("%Y-%m-%dT%H:%M:%SZ"), f.measure, f.test): f
        for (s, at), fs in flags.items()
        for f in fs
    }
    got = {(r["station_id"], r["observed_at"], r["measure"], r["test"]): r for r in rows}
    assert got.keys() == want.keys()
    assert len(rows) == len(want)
    for key, row in got.items():
        assert int(row["flag"]) == want[key].flag
        assert float(row["reference"]) == pytest.approx(want[key].reference, abs=1e-6)
        assert row["source_file"].startswith("inmet/station=A001/year=2024/")  # the raw/ file
    # The planted value above the top of the atmosphere, as the file wrote it (tests/qc_faults).
    toa = {(r["flag"], r["value_written"]) for r in rows if r["test"] == "radiation_above_toa"}
    assert ("2", "5500") in toa
