"""The 8 real INMET files validate and read exactly as docs/inmet-format.md describes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from inmet_pipeline.columns import MEASURE_NAMES
from inmet_pipeline.reader import read_observations, validate
from tests.paths import real_file

pytestmark = [pytest.mark.real_data]


@dataclass(frozen=True)
class Expected:
    prefix: str
    station_id: str
    name: str
    layout: str
    encoding: str
    rows: int
    first: datetime
    last: datetime
    missing_cells: int
    all_missing_rows: int
    metadata_style: str
    warnings: frozenset[str]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Figures from docs/inmet-format.md §4-§6.
EXPECTED = [
    Expected(
        "INMET_N_AM_A101_MANAUS_09-05-2000",
        "A101",
        "MANAUS",
        "A",
        "utf-8",
        5688,
        _ts("2000-05-09T00:00"),
        _ts("2000-12-31T23:00"),
        13690,
        632,
        "2019",
        frozenset({"radiation_label_w_m2"}),
    ),
    Expected(
        "INMET_N_AM_A101_MANAUS_01-01-2020",
        "A101",
        "MANAUS",
        "B",
        "latin-1",
        5112,
        _ts("2020-01-01T00:00"),
        _ts("2020-07-31T23:00"),
        2250,
        132,
        "2019",
        frozenset({"radiation_label_w_m2"}),
    ),
    Expected(
        "INMET_S_PR_A807_CURITIBA_01-01-2004",
        "A807",
        "CURITIBA",
        "A",
        "latin-1",
        8784,
        _ts("2004-01-01T00:00"),
        _ts("2004-12-31T23:00"),
        149328,
        8784,
        "A",
        frozenset({"all_missing"}),
    ),
    Expected(
        "INMET_S_PR_A807_CURITIBA_01-01-2019",
        "A807",
        "CURITIBA",
        "B",
        "latin-1",
        8760,
        _ts("2019-01-01T00:00"),
        _ts("2019-12-31T23:00"),
        24968,
        173,
        "2019",
        frozenset(),
    ),
    Expected(
        "INMET_NE_SE_A409_ARACAJU_01-01-2015",
        "A409",
        "ARACAJU",
        "A",
        "latin-1",
        8760,
        _ts("2015-01-01T00:00"),
        _ts("2015-12-31T23:00"),
        5512,
        0,
        "A",
        frozenset(),
    ),
    Expected(
        "INMET_NE_SE_A409_ARACAJU_01-01-2022",
        "A409",
        "ARACAJU",
        "B",
        "latin-1",
        8760,
        _ts("2022-01-01T00:00"),
        _ts("2022-12-31T23:00"),
        113681,
        6116,
        "2020",
        frozenset(),
    ),
    Expected(
        "INMET_CO_DF_A001_BRASILIA_01-01-2024",
        "A001",
        "BRASILIA",
        "B",
        "latin-1",
        8784,
        _ts("2024-01-01T00:00"),
        _ts("2024-12-31T23:00"),
        4486,
        24,
        "2020",
        frozenset(),
    ),
    Expected(
        "INMET_CO_MT_A921_SAO FELIX  DO ARAGUAIA_01-01-2024",
        "A921",
        "SAO FELIX  DO ARAGUAIA",
        "B",
        "latin-1",
        8784,
        _ts("2024-01-01T00:00"),
        _ts("2024-12-31T23:00"),
        149328,
        8784,
        "2020",
        frozenset({"all_missing"}),
    ),
]


@pytest.mark.parametrize("exp", EXPECTED, ids=[e.prefix[6:30] for e in EXPECTED])
def test_real_file_matches_format_md(real_dir: Path, exp: Expected) -> None:
    path = real_file(real_dir, exp.prefix)
    report = validate(path.read_bytes(), path.name)

    assert report.errors == []
    assert report.valid
    assert report.station is not None
    assert report.station.station_id == exp.station_id
    assert report.station.station_name == exp.name
    assert report.layout == exp.layout
    assert report.encoding == exp.encoding
    assert report.rows == exp.rows
    assert report.period_start == exp.first
    assert report.period_end == exp.last
    assert report.missing_cells == exp.missing_cells
    assert report.all_missing_rows == exp.all_missing_rows
    assert report.station.metadata_style == exp.metadata_style
    assert {w.code for w in report.warnings} == exp.warnings
    assert report.size_bytes == path.stat().st_size


@pytest.mark.parametrize("exp", EXPECTED, ids=[e.prefix[6:30] for e in EXPECTED])
def test_real_file_decodes_without_mojibake(real_dir: Path, exp: Expected) -> None:
    path = real_file(real_dir, exp.prefix)
    report = validate(path.read_bytes(), path.name)
    assert report.station is not None
    # Latin-1 decoding of UTF-8 bytes would give 'Ã' followed by a control or symbol character.
    assert "Ã" not in report.station.station_name
    assert "\ufffd" not in report.station.station_name
    assert report.radiation_label is not None
    assert report.radiation_label.startswith("RADIACAO GLOBAL (")
    assert "Ã" not in report.radiation_label


def test_station_attributes_from_metadata(real_dir: Path) -> None:
    curitiba_2019 = validate(
        real_file(real_dir, "INMET_S_PR_A807_CURITIBA_01-01-2019").read_bytes()
    )
    curitiba_2004 = validate(
        real_file(real_dir, "INMET_S_PR_A807_CURITIBA_01-01-2004").read_bytes()
    )
    brasilia = validate(real_file(real_dir, "INMET_CO_DF_A001_BRASILIA").read_bytes())
    assert curitiba_2019.station is not None
    assert curitiba_2004.station is not None
    assert brasilia.station is not None
    assert (curitiba_2019.station.latitude, curitiba_2019.station.longitude) == (
        -25.448688,
        -49.230602,
    )
    assert curitiba_2019.station.altitude_m == 922.91
    assert curitiba_2004.station.altitude_m == 923.5
    # The founding date in both formats: 2003-01-28 and 28/01/03.
    assert curitiba_2004.station.founded_on == date(2003, 1, 28)
    assert curitiba_2019.station.founded_on == date(2003, 1, 28)
    assert brasilia.station.founded_on == date(2000, 5, 7)
    assert (brasilia.station.region, brasilia.station.state) == ("CO", "DF")
    assert brasilia.station.altitude_m == 1160.96


def test_values_decimal_comma_dropped_zero_and_missing(real_dir: Path) -> None:
    path = real_file(real_dir, "INMET_CO_DF_A001_BRASILIA")
    _, rows = read_observations(path.read_bytes(), path.name)
    by_line = {obs.line: obs for obs in rows}
    # line 5399: 2024/08/12;1300 UTC;0;891,9;891,9;891,7;2120,8;21,3;-,2;21,3;19;,2;-2,4;26;...
    obs = dict(zip(MEASURE_NAMES, by_line[5399].values, strict=True))
    assert by_line[5399].observed_at == datetime(2024, 8, 12, 13, tzinfo=UTC)
    assert obs["precipitation_mm"] == 0
    assert obs["pressure_hpa"] == 891.9
    assert obs["radiation_kj_m2"] == 2120.8
    assert obs["dew_point_c"] == -0.2
    assert obs["dew_point_max_c"] == 0.2
    assert obs["dew_point_min_c"] == -2.4
    assert obs["wind_direction_deg"] == 143
    # line 34: 2024/01/02;0000 UTC;,2;885,3;...;;20,2;  (radiation empty = missing)
    first = dict(zip(MEASURE_NAMES, by_line[34].values, strict=True))
    assert first["precipitation_mm"] == 0.2
    assert first["radiation_kj_m2"] is None


def test_layout_a_missing_sentinel_and_timestamps(real_dir: Path) -> None:
    path = real_file(real_dir, "INMET_N_AM_A101_MANAUS_09-05-2000")
    _, rows = read_observations(path.read_bytes(), path.name)
    first = next(iter(rows))
    assert first.line == 10
    assert first.observed_at == datetime(2000, 5, 9, 0, tzinfo=UTC)
    assert first.values == (None,) * 17  # a row of -9999


def test_layout_b_last_row(real_dir: Path) -> None:
    path = real_file(real_dir, "INMET_NE_SE_A409_ARACAJU_01-01-2022")
    _, rows = read_observations(path.read_bytes(), path.name)
    *_, last = rows
    # 2022/12/31;2300 UTC;0;1014,4;1014,4;1014;;26,8;;26,9;26,5;;;;;;58;3,5;1;
    assert last.observed_at == datetime(2022, 12, 31, 23, tzinfo=UTC)
    assert last.values == (
        0,
        1014.4,
        1014.4,
        1014,
        None,
        26.8,
        None,
        26.9,
        26.5,
        None,
        None,
        None,
        None,
        None,
        58,
        3.5,
        1,
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("dados_A801_H_2024-11-08_2024-11-08.csv", "unsupported_layout_bdmep"),
        ("generatedBy_react-csv.csv", "unsupported_layout_portal_table"),
        ("RR_2017.zip", "binary_file"),
    ],
)
def test_other_layouts_rejected_with_a_code_naming_them(
    real_dir: Path, name: str, code: str
) -> None:
    path = real_dir / "other_layouts" / name
    if not path.exists():
        pytest.skip(f"{path} absent")
    report = validate(path.read_bytes(), name)
    assert not report.valid
    assert [e.code for e in report.errors] == [code]


def test_stream_and_bytes_give_the_same_report(real_dir: Path) -> None:
    path = real_file(real_dir, "INMET_S_PR_A807_CURITIBA_01-01-2019")
    from_bytes = validate(path.read_bytes(), path.name)
    with path.open("rb") as stream:
        from_stream = validate(stream, path.name)
    assert from_bytes.to_dict() == from_stream.to_dict()
