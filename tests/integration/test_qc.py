"""Quality control in the warehouse (snowflake_sql/modules/qc.sql) against the independent
oracle (tests/qc_oracle.py): flag for flag, on the real files and on generated files with a
planted fault of every kind."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_pipeline.columns import MEASURE_NAMES
from tests.integration.resources import load
from tests.oracle import as_float, expected_clean
from tests.qc_faults import base_file, plant_all, pressure_shifted
from tests.qc_oracle import expected_flags, measure_flags

pytestmark = [pytest.mark.integration]

FlagKey = tuple[str, datetime, str, str]


def warehouse_details(wh: LocalWarehouse) -> dict[FlagKey, tuple[int, float | None]]:
    rows = wh.execute(
        f"SELECT station_id, observed_at, measure, test, flag, reference FROM {wh.clean}.QC_FLAGS"
    )
    return {(r[0], r[1], r[2], r[3]): (int(r[4]), r[5]) for r in rows}


def warehouse_measure_flags(wh: LocalWarehouse) -> dict[tuple[str, datetime], dict[str, int]]:
    """The nonzero `<measure>_qc` of each CLEAN row."""
    columns = ", ".join(f"{m}_qc" for m in MEASURE_NAMES)
    out: dict[tuple[str, datetime], dict[str, int]] = {}
    for r in wh.execute(f"SELECT station_id, observed_at, {columns} FROM {wh.clean}.OBSERVATIONS"):
        flags = {m: int(v) for m, v in zip(MEASURE_NAMES, r[2:], strict=True) if v}
        if flags:
            out[(r[0], r[1])] = flags
    return out


def assert_agrees(wh: LocalWarehouse, datas: list[bytes]) -> dict[Any, Any]:
    expected = expected_flags(datas)
    want = {
        (station, at, f.measure, f.test): f.flag
        for (station, at), flags in expected.items()
        for f in flags
    }
    got = warehouse_details(wh)
    assert {k: v[0] for k, v in got.items()} == want
    for key, (_, reference) in got.items():
        oracle = next(f for f in expected[key[:2]] if (f.measure, f.test) == key[2:])
        assert reference == pytest.approx(oracle.reference, abs=1e-6), key
    want_measures = {key: measure_flags(flags) for key, flags in expected.items()}
    assert warehouse_measure_flags(wh) == want_measures
    return want


# --- planted faults ---------------------------------------------------------------------------


def test_planted_faults_are_flagged_in_the_warehouse_as_the_oracle_flags_them(
    warehouse: LocalWarehouse,
) -> None:
    """tests/unit/test_qc_faults.py shows the oracle flags each planted fault with its test and
    nothing else; here the warehouse flags the planted file exactly as the oracle does, and a
    value flagged erroneous is NULL in CLEAN with the value as written in QC_FLAGS."""
    station, data = base_file()
    planted, faults = plant_all(station, data)
    load(warehouse, planted)
    assert_agrees(warehouse, [planted])
    toa = next(f for f in faults if f.name == "radiation_above_toa")
    (at, _, _) = next(iter(toa.expected))
    row = warehouse.execute(
        f"SELECT radiation_kj_m2, radiation_kj_m2_qc FROM {warehouse.clean}.OBSERVATIONS "
        "WHERE observed_at = ?",
        [at],
    )[0]
    assert row == (None, 2)
    written = warehouse.scalar(
        f"SELECT value_written FROM {warehouse.clean}.QC_FLAGS WHERE test = 'radiation_above_toa' "
        "AND observed_at = ?",
        [at],
    )
    assert float(written) == 5500


def test_a_pressure_far_from_the_altitude_is_flagged_in_the_warehouse(
    warehouse: LocalWarehouse,
) -> None:
    _, data = base_file()
    shifted, _ = pressure_shifted(data)
    load(warehouse, shifted)
    assert_agrees(warehouse, [shifted])


def test_a_newer_upload_replaces_the_flags_of_its_hours(warehouse: LocalWarehouse) -> None:
    station, data = base_file()
    planted, _ = plant_all(station, data)
    load(warehouse, planted)
    load(warehouse, data)  # the corrected file, sent later
    assert_agrees(warehouse, [planted, data])


# --- the real files ---------------------------------------------------------------------------


def real_files(folder: Path) -> list[bytes]:
    paths = sorted(folder.glob("*.CSV"))
    if not paths:
        pytest.skip(f"no real INMET files in {folder}")
    return [p.read_bytes() for p in paths]


@pytest.mark.real_data
def test_the_warehouse_flags_the_real_files_as_the_oracle_does(
    warehouse: LocalWarehouse, real_dir: Path
) -> None:
    datas = real_files(real_dir)
    load(warehouse, *datas)
    assert_agrees(warehouse, datas)
    # CLEAN before quality control (the contract's rules 4-7, tests/oracle.py) and after: a
    # value differs only where its flag is 2, and then it is NULL.
    before = expected_clean(datas, quality_control=False)
    columns = ", ".join(MEASURE_NAMES + tuple(f"{m}_qc" for m in MEASURE_NAMES))
    rows = warehouse.execute(
        f"SELECT station_id, observed_at, {columns} FROM {warehouse.clean}.OBSERVATIONS"
    )
    assert {(r[0], r[1]) for r in rows} == set(before)
    changed = 0
    for r in rows:
        values, flags = r[2:19], r[19:]
        for name, old, new, flag in zip(
            MEASURE_NAMES, before[(r[0], r[1])], values, flags, strict=True
        ):
            if as_float(new) != old:
                assert new is None, (r[0], r[1], name, old)
                assert flag == 2, (r[0], r[1], name, old)
                changed += 1
    assert changed > 0  # the real files do have values above the top of the atmosphere


@pytest.mark.real_data
@pytest.mark.slow
def test_the_warehouse_flags_every_curitiba_year_as_the_oracle_does(
    warehouse: LocalWarehouse, real_dir: Path
) -> None:
    """Curitiba A807, 2005-2023: the station whose morning radiation exceeds the top of the
    atmosphere from 2016 on (docs/qc.md)."""
    datas = real_files(real_dir / "curitiba_years")
    load(warehouse, *datas)
    assert_agrees(warehouse, datas)
