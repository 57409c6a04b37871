"""Each planted fault adds exactly its test's flags to the oracle's (tests/qc_oracle.py), on its
hours and measures, and nothing else; tests/integration/test_qc.py then holds the warehouse
equal to the oracle on the same files."""

from __future__ import annotations

import pytest

from tests.qc_faults import base_file, plant_all, pressure_shifted
from tests.qc_oracle import file_flags

pytestmark = [pytest.mark.unit]


def flag_set(data: bytes) -> set[tuple[object, str, str]]:
    _, flags = file_flags(data)
    return {(at, f.measure, f.test) for (_, at), fs in flags.items() for f in fs}


def test_every_planted_fault_is_flagged_by_its_test_and_nothing_else() -> None:
    station, data = base_file()
    planted, faults = plant_all(station, data)
    before, after = flag_set(data), flag_set(planted)
    expected = set().union(*(f.expected for f in faults))
    assert after - before == expected
    assert before - after == set()  # no flag of the file is lost on the planted days either
    tests = {t for _, _, t in expected}
    assert tests == {
        "gross_error", "step", "persistence", "dew_point_above_temperature",
        "outside_hour_range", "min_above_max", "gust_below_speed", "humidity_inconsistent",
        "radiation_above_toa", "radiation_at_night", "radiation_above_clear_sky",
    }  # fmt: skip


def test_a_pressure_far_from_the_altitude_is_flagged_on_every_hour_and_nothing_else() -> None:
    _, data = base_file()
    shifted, expected = pressure_shifted(data)
    before, after = flag_set(data), flag_set(shifted)
    assert after - before == expected
    assert before - after == set()
