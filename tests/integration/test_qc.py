"""Quality control in the warehouse (snowflake_sql/modules/qc.sql) against the independent
oracle (tests/qc_oracle.py): flag for flag, on the real files and on generated files with a
planted fault of every kind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_pipeline.columns import MEASURE_NAMES
from inmet_pipeline.uploads import raw_object
from tests.integration.resources import WarehouseTarget
from tests.qc_oracle import expected_flags, measure_flags

pytestmark = [pytest.mark.integration]

FlagKey = tuple[str, datetime, str, str]


@pytest.fixture
def warehouse(warehouse_target: WarehouseTarget, tmp_path: Path) -> Iterator[LocalWarehouse]:
    with warehouse_target.warehouse(tmp_path / "pipe") as wh:
        try:
            yield wh
        finally:
            warehouse_target.drop(wh)


def load(wh: LocalWarehouse, *datas: bytes) -> None:
    wh.load_objects([raw_object(d) for d in datas])
    assert wh.run_task() is not None


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
