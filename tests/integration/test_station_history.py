"""The station history (docs/contracts.md §3 rule 1): each station-year keeps the attributes
its own file states; an upload of one year never relabels another year's rows (the export of
that other year, and `inmet fetch --from snowflake`, stay as they were); CLEAN.STATION_EVENTS
lists the relocations (distance in metres, altitude change) and renames between consecutive
years, checked against a plain-Python haversine on real and generated stations."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline.exports import csv_field, partition_select
from inmet_pipeline.reader import validate
from tests.integration.resources import load

pytestmark = [pytest.mark.integration]


def _partition(wh: LocalWarehouse, station: str, year: int) -> list[list[str]]:
    sql, params = partition_select(f"{wh.clean}.INMET_CLEAN", station, year)
    return [[csv_field(v) for v in row] for row in wh.execute(sql, params)]


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _events(wh: LocalWarehouse, station: str) -> list[tuple[Any, ...]]:
    return wh.execute(
        "SELECT event_type, previous_year, year, distance_m, altitude_change_m, name_before, "
        f"name_after FROM {wh.clean}.STATION_EVENTS WHERE station_id = ? "
        "ORDER BY year, event_type",
        [station],
    )


def test_a_new_year_never_relabels_another_year(warehouse: LocalWarehouse) -> None:
    brasilia = station_catalogue(1)[0]
    moved = replace(
        brasilia, name="BRASILIA - OLD SITE", latitude=-15.6, longitude=-47.7,
        altitude_m=1100.5,
    )  # fmt: skip
    until = {2023: date(2023, 1, 2), 2024: date(2024, 1, 2)}
    load(warehouse, generate_station_year(brasilia, 2024, partial_until=until[2024]).data)
    before = _partition(warehouse, "A001", 2024)
    assert {tuple(r[1:7]) for r in before} == {
        ("BRASILIA", "CO", "DF", "-15.78944444", "-47.92583332", "1160.96")
    }
    # The file of the year before, with the station's earlier name and site.
    load(warehouse, generate_station_year(moved, 2023, partial_until=until[2023]).data)
    assert _partition(warehouse, "A001", 2024) == before  # unchanged, byte for byte
    assert {tuple(r[1:7]) for r in _partition(warehouse, "A001", 2023)} == {
        ("BRASILIA - OLD SITE", "CO", "DF", "-15.60000000", "-47.70000000", "1100.50")
    }
    [relocation, rename] = _events(warehouse, "A001")
    assert relocation[:3] == ("relocation", 2023, 2024)
    expected = _haversine_m((-15.6, -47.7), (-15.78944444, -47.92583332))
    assert float(relocation[3]) == pytest.approx(expected, abs=1.0)
    assert float(relocation[4]) == pytest.approx(1160.96 - 1100.5)
    assert rename == ("rename", 2023, 2024, None, None, "BRASILIA - OLD SITE", "BRASILIA")


@pytest.mark.real_data
def test_curitiba_s_twenty_years_of_history(real_dir: Path, warehouse: LocalWarehouse) -> None:
    """A807 from 2004 to 2024 (both layouts, both encodings): each year keeps what its own file
    says, and the events are the changes between consecutive files' metadata."""
    files = sorted({*real_dir.glob("INMET_S_PR_A807_*"), *real_dir.glob("*/INMET_S_PR_A807_*")})
    if len(files) < 3:
        pytest.skip(f"Curitiba's yearly files are not in {real_dir}")
    stated: dict[int, tuple[str, float, float, float]] = {}
    heads = []
    for path in files:
        data = path.read_bytes()
        head = b"\n".join(data.split(b"\n")[: 9 + 24]) + b"\n"  # metadata, header, one day
        report = validate(head)
        assert report.valid, (path.name, report.errors)
        assert report.station is not None
        assert report.year is not None
        st = report.station
        stated[report.year] = (st.station_name, st.latitude, st.longitude, st.altitude_m)
        heads.append(head)
    load(warehouse, *heads)
    rows = warehouse.execute(
        "SELECT year, station_name, latitude, longitude, altitude_m FROM "
        f"{warehouse.clean}.STATION_YEARS WHERE station_id = 'A807' ORDER BY year"
    )

    def rounded(name: str, lat: Any, lon: Any, alt: Any) -> tuple[str, float, float, float]:
        return name, round(float(lat), 8), round(float(lon), 8), round(float(alt), 2)

    assert {r[0]: rounded(*r[1:]) for r in rows} == {y: rounded(*v) for y, v in stated.items()}
    years = sorted(stated)
    expected: list[tuple[str, int, int, float | None, float | None]] = []
    for before, after in itertools.pairwise(years):
        (n0, *p0), (n1, *p1) = stated[before], stated[after]
        if p0 != p1:
            distance = _haversine_m((p0[0], p0[1]), (p1[0], p1[1]))
            expected.append(("relocation", before, after, distance, p1[2] - p0[2]))
        if n0 != n1:
            expected.append(("rename", before, after, None, None))
    found = _events(warehouse, "A807")
    assert [e[:3] for e in found] == [e[:3] for e in expected]
    for got, want in zip(found, expected, strict=True):
        if want[3] is not None:
            assert float(got[3]) == pytest.approx(want[3], abs=1.0), got
            assert float(got[4]) == pytest.approx(want[4], abs=0.005), got
    assert any(e[0] == "relocation" for e in expected)  # the station did move
