"""benchmarks/baseline.py, the benchmarks' DuckDB yardstick, keeps what the warehouse keeps when
two uploads hold the same station-hour (docs/contracts.md §3 rule 7): the most recently uploaded
file's line, by LastModified then name; and a newer all-missing hour removes it (rule 6)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from inmet_pipeline.columns import N_MEASURES

pytestmark = [pytest.mark.unit]

_BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "baseline.py"


def _baseline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("baseline", _BASELINE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _file(path: Path, air_temp: str, modified: float) -> None:
    """A layout-B file of one station (A001) and one hour, 2024-01-01 00:00 UTC, whose only
    value is the air temperature (column 8); written with the given modification time."""
    metadata = [
        "REGIAO:;CO",
        "UF:;DF",
        "ESTACAO:;BRASILIA",
        "CODIGO (WMO):;A001",
        "LATITUDE:;-15,78",
        "LONGITUDE:;-47,92",
        "ALTITUDE:;1160,96",
        "DATA DE FUNDACAO:;2000-05-07",
    ]
    header = "Data;Hora UTC;" + ";".join(f"m{i}" for i in range(N_MEASURES)) + ";"
    values = [""] * N_MEASURES
    values[5] = air_temp  # air_temp_c, the file's column 8
    line = "2024/01/01;0000 UTC;" + ";".join(values) + ";"
    path.write_text("\n".join([*metadata, header, line]) + "\n", encoding="latin-1")
    os.utime(path, (modified, modified))


def _clean(folder: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    rows = _baseline().duckdb_clean_rows(con, str(folder / "*.CSV"))
    result = con.execute("SELECT station_id, observed_at, air_temp_c FROM clean").fetchall()
    assert rows == len(result)
    return [tuple(r) for r in result]


def test_the_latest_upload_wins_not_the_name(tmp_path: Path) -> None:
    _file(tmp_path / "B_OLDER.CSV", "20,0", modified=1_700_000_000)
    _file(tmp_path / "A_NEWER.CSV", "25,0", modified=1_700_000_100)
    [(station, _, air_temp)] = _clean(tmp_path)
    assert station == "A001"
    assert float(str(air_temp)) == 25.0


def test_on_equal_upload_times_the_later_name_wins(tmp_path: Path) -> None:
    _file(tmp_path / "A_FIRST.CSV", "20,0", modified=1_700_000_000)
    _file(tmp_path / "B_SECOND.CSV", "25,0", modified=1_700_000_000)
    [(_, _, air_temp)] = _clean(tmp_path)
    assert float(str(air_temp)) == 25.0


def test_a_newer_all_missing_hour_removes_it(tmp_path: Path) -> None:
    _file(tmp_path / "OLDER.CSV", "20,0", modified=1_700_000_000)
    _file(tmp_path / "NEWER.CSV", "", modified=1_700_000_100)
    assert _clean(tmp_path) == []
