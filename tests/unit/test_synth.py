"""The generator: output always validates, round-trips, is deterministic, and has the quirks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from inmet_local.synth.synth import (
    format_value,
    generate_archive,
    generate_station_year,
    station_catalogue,
)
from inmet_pipeline.inmet_format import (
    ENCODINGS,
    LAYOUTS_IN_ORDER,
    METADATA_STYLES,
    Encoding,
    Layout,
    MetadataStyle,
    RadiationUnit,
    parse_founding_date,
    radiation_label,
)
from inmet_pipeline.reader import read_observations, validate

pytestmark = [pytest.mark.unit]


@pytest.mark.parametrize(
    ("year", "layout", "encoding", "style"),
    [
        (2004, "A", "latin-1", "A"),
        (2012, "A", "utf-8", "2019"),
        (2019, "B", "latin-1", "2019"),
        (2024, "B", "utf-8", "2020"),
        (2024, "B", "latin-1", "2020"),
    ],
)
@pytest.mark.parametrize("station", [0, 2, 20, 35])
def test_generated_file_validates_and_round_trips(
    year: int, layout: str, encoding: str, style: str, station: int
) -> None:
    st = station_catalogue(40)[station]
    synth = generate_station_year(
        st,
        year,
        seed=7,
        layout=layout,  # type: ignore[arg-type]
        encoding=encoding,
        metadata_style=style,
        keep_values=True,
    )
    report, rows = read_observations(synth.data, synth.filename)
    back = [(o.observed_at, o.values) for o in rows]
    assert report.valid, report.errors
    assert back == synth.values
    assert report.layout == layout
    assert report.encoding == encoding
    assert report.station is not None
    assert report.station.metadata_style == style
    assert report.station.station_id == st.station_id
    assert report.station.station_name == st.name
    assert report.rows == synth.rows == len(back)
    assert not [w for w in report.warnings if w.code not in ("radiation_label_w_m2",)]


@pytest.mark.parametrize("unit", list(RadiationUnit))
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("style", METADATA_STYLES)
@pytest.mark.parametrize("layout", LAYOUTS_IN_ORDER)
def test_spec_round_trips_every_layout_and_spelling(
    layout: Layout, style: MetadataStyle, encoding: Encoding, unit: RadiationUnit
) -> None:
    """The generator writes from inmet_format and the reader parses with it: every layout,
    metadata spelling, encoding and radiation label comes back as written (issue 16)."""
    st = station_catalogue(28)[27]  # FAROL de SANTANA: lower case in the name
    year = 2015 if layout == "A" else 2024
    synth = generate_station_year(
        st,
        year,
        seed=5,
        layout=layout,
        encoding=encoding,
        metadata_style=style,
        radiation_unit=unit,
        partial_until=date(year, 1, 2),
        keep_values=True,
    )
    report, rows = read_observations(synth.data, synth.filename)
    back = [(o.observed_at, o.values) for o in rows]
    assert report.valid, report.errors
    assert back == synth.values
    assert (report.layout, report.encoding, report.radiation_label) == (
        layout,
        encoding,
        radiation_label(unit),
    )
    meta = report.station
    assert meta is not None
    assert meta.metadata_style == style
    assert (meta.region, meta.state, meta.station_name, meta.station_id) == (
        st.region,
        st.state,
        st.name,
        st.station_id,
    )
    assert (meta.latitude, meta.longitude, meta.altitude_m) == (
        st.latitude,
        st.longitude,
        st.altitude_m,
    )
    assert (
        meta.founded_on
        == st.founded
        == parse_founding_date(synth.data.decode(encoding).split("\n")[7].split(";")[1])
    )
    codes = {w.code for w in report.warnings}
    assert codes == ({"radiation_label_w_m2"} if unit is RadiationUnit.W else set())


def test_generator_is_deterministic_for_a_seed() -> None:
    st = station_catalogue(3)[2]
    assert (
        generate_station_year(st, 2019, seed=3).data == generate_station_year(st, 2019, seed=3).data
    )
    assert (
        generate_station_year(st, 2019, seed=3).data != generate_station_year(st, 2019, seed=4).data
    )


def test_generated_files_carry_inmet_quirks() -> None:
    a = generate_station_year(
        station_catalogue(1)[0], 2010, seed=1, layout="A", metadata_style="A", encoding="latin-1"
    ).data
    b = generate_station_year(
        station_catalogue(1)[0], 2024, seed=1, layout="B", encoding="latin-1"
    ).data
    text_a, text_b = a.decode("latin-1"), b.decode("latin-1")
    assert text_a.startswith("REGIÃO:;CO\n")
    assert "ESTAÇÃO:;BRASILIA" in text_a
    assert "DATA DE FUNDAÇÃO (YYYY-MM-DD):;2000-05-07" in text_a
    assert text_b.startswith("REGIAO:;CO\n")
    assert "DATA DE FUNDACAO:;07/05/00" in text_b
    assert "LATITUDE:;-15,78944444" in text_b
    assert "-9999" in text_a
    assert "-9999" not in text_b
    assert ";;" in text_b  # empty = missing in B
    assert ";,2;" in text_a + text_b  # dropped leading zeros
    assert all(line.endswith(";") for line in text_b.splitlines()[8:])
    assert "RADIACAO GLOBAL (Kj/m²)" in text_b
    assert "\r" not in text_b
    # Radiation is missing at night (00 UTC is night everywhere in Brazil).
    midnight = next(line for line in text_b.splitlines() if line.startswith("2024/06/01;0000"))
    assert midnight.split(";")[6] == ""


def test_negative_values_drop_the_leading_zero() -> None:
    curitiba = generate_station_year(station_catalogue(3)[2], 2019, seed=2).data.decode("latin-1")
    assert ";-," in curitiba  # e.g. a winter dew point of -,4


def test_plausible_weather() -> None:
    synth = generate_station_year(station_catalogue(3)[2], 2019, seed=2, keep_values=True)
    assert synth.values is not None
    temps = [v[5] for _, v in synth.values if v[5] is not None]
    rh = [v[13] for _, v in synth.values if v[13] is not None]
    rain = [v[0] for _, v in synth.values if v[0] is not None]
    radiation = [v[4] for _, v in synth.values if v[4] is not None]
    pressure = [v[1] for _, v in synth.values if v[1] is not None]
    assert 12 < sum(temps) / len(temps) < 24  # Curitiba: temperate, high altitude
    assert max(temps) - min(temps) > 10
    assert 40 < sum(rh) / len(rh) < 100
    assert 200 < sum(rain) < 4000  # mm per year
    assert 2500 < max(radiation) < 4500  # kJ/m² per hour (real maxima: 3,070-4,089)
    assert 880 < sum(pressure) / len(pressure) < 930  # ~920 m altitude


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.2, ",2"),
        (-0.9, "-,9"),
        (1004.3, "1004,3"),
        (0.0, "0"),
        (26.0, "26"),
        (-4.0, "-4"),
        (None, "-9999"),
        (12.5, "12,5"),
    ],
)
def test_format_value(value: float | None, text: str) -> None:
    assert format_value(value, "-9999") == text


def test_archive_has_empty_stations_like_inmet(tmp_path: Path) -> None:
    paths = list(generate_archive(tmp_path, stations=60, year=2024, seed=0))
    assert len(paths) == 60
    assert len({p.name.split("_")[3] for p in paths}) == 60  # distinct WMO codes
    reports = [validate(p.read_bytes(), p.name) for p in paths[:60]]
    assert all(r.valid for r in reports)
    empty = [r for r in reports if any(w.code == "all_missing" for w in r.warnings)]
    assert 0 < len(empty) <= 8
