"""The format module (inmet_pipeline.inmet_format): every template parses what it formats, and
the generator states none of the format's spellings itself (issue 16)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from inmet_pipeline.columns import MEASURES, MISSING_SENTINEL
from inmet_pipeline.decoding import sniff_binary
from inmet_pipeline.inmet_format import (
    BINARY_SIGNATURES,
    CANONICAL_METADATA_KEYS,
    FILENAME_RE,
    FOUNDING_DATE_FORMATS,
    LAYOUTS,
    LAYOUTS_IN_ORDER,
    METADATA_FIELDS,
    METADATA_KEYS,
    METADATA_STYLES,
    RADIATION_INDEX,
    Layout,
    MetadataStyle,
    RadiationUnit,
    as_metadata_style,
    format_filename,
    format_founding_date,
    format_header,
    format_metadata_number,
    format_value,
    header_labels,
    metadata_style_of,
    parse_founding_date,
    parse_value,
    radiation_label,
    says_w_m2,
)

pytestmark = [pytest.mark.unit]

SYNTH = Path(__file__).resolve().parents[2] / "local" / "inmet_local" / "synth" / "synth.py"


@pytest.mark.parametrize("layout", LAYOUTS_IN_ORDER)
def test_layout_dates_and_hours_round_trip(layout: Layout) -> None:
    spec = LAYOUTS[layout]
    for day in (date(2000, 1, 1), date(2019, 2, 28), date(2024, 2, 29), date(2025, 12, 31)):
        token = spec.format_date(day).encode()
        assert spec.date_re.fullmatch(token)
        assert spec.parse_date(token) == day
    for hour in range(24):
        token = spec.format_hour(hour).encode()
        assert spec.hour_re.fullmatch(token)
        assert spec.parse_hour(token) == hour
    assert not spec.hour_re.fullmatch(spec.format_hour(24).encode())


def test_layouts_as_inmet_writes_them() -> None:
    """docs/inmet-format.md §1 and §5, spelled out."""
    a, b = LAYOUTS["A"], LAYOUTS["B"]
    assert (a.format_date(date(2015, 1, 1)), a.format_hour(0), a.missing) == (
        "2015-01-01",
        "00:00",
        MISSING_SENTINEL,
    )
    assert (b.format_date(date(2019, 1, 1)), b.format_hour(23), b.missing) == (
        "2019/01/01",
        "2300 UTC",
        "",
    )
    assert a.date_hint == "YYYY-MM-DD (e.g. 2015-01-01)"
    assert a.hour_hint == "HH:00 in UTC (e.g. 00:00 … 23:00)"
    assert b.date_hint == "YYYY/MM/DD (e.g. 2019/01/01)"
    assert b.hour_hint == "HH00 UTC (e.g. 0000 UTC … 2300 UTC)"
    row = b.format_row(date(2022, 1, 1), 0, (None,) * len(MEASURES))
    assert row == "2022/01/01;0000 UTC" + ";" * (len(MEASURES) + 1)


@pytest.mark.parametrize("unit", list(RadiationUnit))
@pytest.mark.parametrize("layout", LAYOUTS_IN_ORDER)
def test_header(layout: Layout, unit: RadiationUnit) -> None:
    labels = header_labels(layout, unit)
    assert len(labels) == 2 + len(MEASURES)
    assert labels[:2] == (LAYOUTS[layout].date_label, LAYOUTS[layout].hour_label)
    assert labels[2 + RADIATION_INDEX] == radiation_label(unit)
    assert says_w_m2(radiation_label(unit)) is (unit is RadiationUnit.W)
    line = format_header(layout, unit)
    assert line.endswith(";")
    assert line.split(";")[:-1] == list(labels)


def test_measure_labels_are_columns_source_labels() -> None:
    """The default radiation unit is the one columns.MEASURES names (the 2024 archive's)."""
    assert header_labels("B")[2:] == tuple(m.source_label for m in MEASURES)


@pytest.mark.parametrize("style", METADATA_STYLES)
def test_metadata_styles(style: MetadataStyle) -> None:
    keys = METADATA_KEYS[style]
    assert len(keys) == len(METADATA_FIELDS) == len(CANONICAL_METADATA_KEYS)
    assert metadata_style_of(keys[0]) == style
    assert as_metadata_style(style) == style
    for day in (date(2000, 5, 7), date(2003, 1, 28), date(2008, 11, 19)):
        text = format_founding_date(day, style)
        assert parse_founding_date(text) == day
    assert format_founding_date(date(2000, 5, 7), style) == (
        "2000-05-07" if style == "A" else "07/05/00"
    )


def test_unknown_metadata_style_is_refused() -> None:
    with pytest.raises(ValueError, match="metadata style"):
        as_metadata_style("2030")


def test_founding_date_two_digit_years() -> None:
    assert parse_founding_date("28/01/03", today=date(2025, 6, 1)) == date(2003, 1, 28)
    assert parse_founding_date("01/01/99", today=date(2025, 6, 1)) == date(1999, 1, 1)
    assert parse_founding_date("31/02/03") is None
    assert parse_founding_date("2003") is None
    assert set(FOUNDING_DATE_FORMATS) == set(METADATA_STYLES)


@pytest.mark.parametrize(
    "name", ["BRASILIA", "SAO FELIX  DO ARAGUAIA", "FAROL de SANTANA", "A_B (X) - Y"]
)
def test_filename_round_trips(name: str) -> None:
    text = format_filename("CO", "MT", "A921", name, date(2024, 1, 1), date(2024, 12, 31))
    match = FILENAME_RE.fullmatch(text)
    assert match is not None
    assert (match["region"], match["state"], match["wmo"], match["name"]) == (
        "CO",
        "MT",
        "A921",
        name,
    )
    assert (match["start"], match["end"]) == ("01-01-2024", "31-12-2024")


@pytest.mark.parametrize("value", [0.2, -0.9, 1004.3, 0.0, 26.0, -4.0, 12.5, None])
@pytest.mark.parametrize("layout", LAYOUTS_IN_ORDER)
def test_values_round_trip(value: float | None, layout: Layout) -> None:
    token = format_value(value, LAYOUTS[layout].missing).encode()
    assert parse_value(token) == value


def test_metadata_numbers_use_the_decimal_comma() -> None:
    assert format_metadata_number(-15.78944444) == "-15,78944444"
    assert format_metadata_number(1160.96) == "1160,96"
    assert format_metadata_number(201.0) == "201"


@pytest.mark.parametrize(("magic", "what"), BINARY_SIGNATURES)
def test_binary_signatures_are_refused(magic: bytes, what: str) -> None:
    assert sniff_binary(magic + b"rest of the file") == what


def test_synth_states_no_format_fact() -> None:
    """Acceptance of issue 16: the generator imports the spellings, it does not repeat them."""
    source = SYNTH.read_text(encoding="utf-8")
    facts: set[str] = {"INMET_", ".CSV", MISSING_SENTINEL}
    for keys in METADATA_KEYS.values():
        facts.update(k for k in keys if len(k) > 2)  # "UF" is too short to grep for
    for layout in LAYOUTS_IN_ORDER:
        spec = LAYOUTS[layout]
        facts.update({spec.date_label, spec.hour_label, spec.date_template, spec.hour_template})
        facts.add(spec.date_strftime)
        facts.add(spec.hour_template.replace("HH", "{ts.hour:02d}"))
    facts.update(m.source_label for m in MEASURES)
    facts.update(str(u) for u in RadiationUnit if str(u) != "W/m²")  # W/m² appears as physics
    facts.update(FOUNDING_DATE_FORMATS.values())
    found = sorted(f for f in facts if f in source)
    assert not found, f"synth.py states format facts itself: {found}"
    assert not re.search(r'"%d-%m-%Y"|"%Y-%m-%d"|"%Y/%m/%d"', source)
