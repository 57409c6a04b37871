"""A corpus of broken inputs, each with its expected error code and line; and the accepted
variants (CRLF, BOM, trailing blank lines, lower case)."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from inmet_pipeline.reader import MAX_LINE_BYTES, read_observations, validate
from tests.helpers import join, lines_of, small_file, zip_bytes

pytestmark = [pytest.mark.unit]

B = small_file("B").data  # 48 rows, 2024, layout B, ISO-8859-1
A = small_file("A").data  # 48 rows, 2015, layout A


def edit(data: bytes, fn: Callable[[list[bytes]], None]) -> bytes:
    lines = lines_of(data)
    fn(lines)
    return join(lines)


def set_line(n: int, value: bytes) -> Callable[[list[bytes]], None]:
    def apply(lines: list[bytes]) -> None:
        lines[n - 1] = value

    return apply


def set_field(n: int, index: int, value: bytes) -> Callable[[list[bytes]], None]:
    def apply(lines: list[bytes]) -> None:
        fields = lines[n - 1].split(b";")
        fields[index] = value
        lines[n - 1] = b";".join(fields)

    return apply


def swap(n: int, m: int) -> Callable[[list[bytes]], None]:
    def apply(lines: list[bytes]) -> None:
        lines[n - 1], lines[m - 1] = lines[m - 1], lines[n - 1]

    return apply


def header_without(index: int) -> Callable[[list[bytes]], None]:
    def apply(lines: list[bytes]) -> None:
        fields = lines[8].split(b";")
        del fields[index]
        lines[8] = b";".join(fields)

    return apply


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)

# (id, input, expected first error code, expected line)
CORPUS: list[tuple[str, bytes, str, int | None]] = [
    ("empty", b"", "empty_file", None),
    ("whitespace-only", b"  \n\n\t \r\n   ", "empty_file", None),
    ("png image", PNG, "binary_file", None),
    ("zip archive", zip_bytes({"INMET_X.CSV": B}), "binary_file", None),
    ("gzip", gzip.compress(B), "binary_file", None),
    ("legacy xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "binary_file", None),
    ("nul bytes", B[:500] + b"\x00\x00" + B[500:], "binary_file", None),
    ("utf-16", B.decode("latin-1").encode("utf-16"), "binary_file", None),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "binary_file", None),
    ("five lines", join(lines_of(B)[:5]), "too_short", None),
    ("metadata and header only", join(lines_of(B)[:9]), "too_short", None),
    ("garbled line 1", edit(B, set_line(1, b"hello world")), "bad_metadata", 1),
    ("metadata out of order", edit(B, swap(1, 2)), "bad_metadata", 1),
    ("no WMO code", edit(B, set_line(4, b"CODIGO (WMO):;")), "missing_wmo_code", 4),
    (
        "WMO line without separator",
        edit(B, set_line(4, b"CODIGO (WMO) A001")),
        "missing_wmo_code",
        4,
    ),
    ("bad WMO code", edit(B, set_line(4, b"CODIGO (WMO):;12345")), "bad_wmo_code", 4),
    ("latitude not a number", edit(B, set_line(5, b"LATITUDE:;abc")), "bad_metadata_value", 5),
    ("latitude impossible", edit(B, set_line(5, b"LATITUDE:;-125,5")), "bad_metadata_value", 5),
    ("unknown region", edit(B, set_line(1, b"REGIAO:;XX")), "bad_metadata_value", 1),
    ("unknown state", edit(B, set_line(2, b"UF:;ZZ")), "bad_metadata_value", 2),
    ("empty station name", edit(B, set_line(3, b"ESTACAO:;")), "bad_metadata_value", 3),
    (
        "station name with a comma",
        edit(B, set_line(3, b"ESTACAO:;BRASILIA, DF")),
        "bad_metadata_value",
        3,
    ),
    (
        "station name with a quote",
        edit(B, set_line(3, b'ESTACAO:;SAO "JOAO"')),
        "bad_metadata_value",
        3,
    ),
    ("metadata removed by a spreadsheet", join(lines_of(B)[8:]), "missing_metadata", 1),
    (
        "re-saved comma-separated by a spreadsheet",
        B.replace(b";", b","),
        "comma_separated",
        1,
    ),
    ("re-saved tab-separated", A.replace(b";", b"\t"), "tab_separated", 1),
    ("header replaced by a data row", edit(B, set_line(9, lines_of(B)[9])), "unknown_header", 9),
    ("header missing a column", edit(B, header_without(5)), "unknown_header", 9),
    (
        "header columns swapped",
        edit(
            B, lambda ls: ls.__setitem__(8, ls[8].replace(b"(AUT) (mB);PRESS", b"(AUT) (XX);PRESS"))
        ),
        "unknown_header",
        9,
    ),
    (
        "row with 18 fields",
        edit(B, lambda ls: ls.__setitem__(14, ls[14].rsplit(b";", 2)[0])),
        "wrong_field_count",
        15,
    ),
    (
        "row with an extra field",
        edit(B, lambda ls: ls.__setitem__(20, ls[20] + b"7;")),
        "wrong_field_count",
        21,
    ),
    ("impossible month", edit(B, set_field(12, 0, b"2024/13/01")), "bad_date", 12),
    ("30 February", edit(B, set_field(12, 0, b"2024/02/30")), "bad_date", 12),
    ("layout A date in a B file", edit(B, set_field(12, 0, b"2024-01-01")), "bad_date", 12),
    ("hour 24", edit(B, set_field(13, 1, b"2400 UTC")), "bad_hour", 13),
    ("layout A hour in a B file", edit(B, set_field(13, 1, b"04:00")), "bad_hour", 13),
    ("hour 7:30 in A", edit(A, set_field(16, 1, b"06:30")), "bad_hour", 16),
    ("duplicated hour", edit(B, lambda ls: ls.__setitem__(15, ls[14])), "duplicate_hour", 16),
    ("hours going backwards", edit(B, swap(20, 21)), "hour_out_of_order", 21),
    ("value not a number", edit(B, set_field(30, 7, b"abc")), "invalid_value", 30),
    ("decimal point", edit(B, set_field(31, 3, b"1013.2")), "invalid_value", 31),
    (
        "thousands dots from a spreadsheet",
        edit(A, set_field(32, 3, b"1.666.667")),
        "invalid_value",
        32,
    ),
    (
        "unit glued to a value",
        edit(B, set_field(33, 7, "21,5°".encode("latin-1"))),
        "invalid_value",
        33,
    ),
    ("comma with no digits", edit(B, set_field(34, 2, b"0,")), "invalid_value", 34),
    (
        "line over the length limit",
        edit(B, set_line(40, b"9" * (MAX_LINE_BYTES + 10))),
        "line_too_long",
        40,
    ),
    ("blank line between rows", edit(B, lambda ls: ls.insert(25, b"")), "blank_line", 26),
    ("rows of two years", edit(B, set_field(57, 0, b"2025/01/02")), "mixed_years", 57),
]


@pytest.mark.parametrize(
    ("data", "code", "line"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_broken_input_gets_its_code_and_line(data: bytes, code: str, line: int | None) -> None:
    report = validate(data, "INMET_CO_DF_A001_BRASILIA_01-01-2024_A_31-12-2024.CSV")
    assert not report.valid
    assert report.errors[0].code == code, report.errors
    assert report.errors[0].line == line
    assert report.errors[0].message  # plain words, never empty


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 25
    assert len({c[2] for c in CORPUS}) >= 15  # many distinct codes, not one code 25 times


def test_messages_say_what_and_where() -> None:
    report = validate(edit(B, set_field(30, 7, b"abc")))
    message = report.errors[0].message
    assert "Line 30" in message
    assert "air_temp_c" in message
    assert "'abc'" in message


def test_reading_stops_after_max_errors_on_a_huge_bad_file() -> None:
    bad_row = b"2024/01/01;0000 UTC;x;;;;;;;;;;;;;;;;;"
    data = join(lines_of(B)[:9] + [bad_row] * 200_000)
    report = validate(data, max_errors=20)
    assert len(report.errors) == 20
    assert report.truncated
    assert report.size_bytes < len(data) // 100  # it stopped early instead of reading it all


def test_read_observations_raises_at_the_first_error() -> None:
    from inmet_pipeline.reader import InmetFormatError

    report, rows = read_observations(edit(B, set_field(30, 7, b"abc")))
    with pytest.raises(InmetFormatError) as info:
        list(rows)
    assert info.value.issue.code == "invalid_value"
    assert info.value.issue.line == 30
    assert not report.valid


# --- accepted variants --------------------------------------------------------------------------


def _same_values(data: bytes, reference: bytes) -> None:
    report, rows = read_observations(data)
    _, ref_rows = read_observations(reference)
    assert [(o.observed_at, o.values) for o in rows] == [
        (o.observed_at, o.values) for o in ref_rows
    ]
    assert report.valid, report.errors


def test_crlf_line_ends_are_accepted() -> None:
    crlf = B.replace(b"\n", b"\r\n")
    report = validate(crlf)
    assert report.valid, report.errors
    assert report.rows == 48
    _same_values(crlf, B)


def test_utf8_bom_is_accepted() -> None:
    utf8 = small_file("B", encoding="utf-8").data
    with_bom = b"\xef\xbb\xbf" + utf8
    report = validate(with_bom)
    assert report.valid, report.errors
    assert report.encoding == "utf-8"
    assert report.has_bom
    assert report.station is not None
    assert report.station.region == "CO"
    _same_values(with_bom, utf8)


def test_trailing_blank_lines_and_no_final_newline_are_accepted() -> None:
    assert validate(B + b"\n\n  \n").valid
    assert validate(B.rstrip(b"\n")).valid
    assert validate(B.rstrip(b"\n")).rows == 48


def test_lower_case_names_are_accepted() -> None:
    def lower_case(lines: list[bytes]) -> None:
        for i in (0, 2, 3, 8):  # REGIAO, ESTACAO, CODIGO (WMO) and the header
            lines[i] = lines[i].lower()

    lower = edit(B, lower_case)
    report = validate(lower, "inmet_co_df_a001_brasilia_01-01-2024_a_31-12-2024.csv")
    assert report.valid, report.errors
    assert report.station is not None
    assert report.station.station_name == "brasilia"
    assert report.station.station_id == "A001"  # the WMO code is normalised to upper case
    assert report.warnings == []


def test_out_of_range_values_are_warnings_with_counts() -> None:
    data = edit(B, set_field(30, 15, b"180"))  # field 15 = humidity_pct (measure 13)
    data = edit(data, set_field(31, 15, b"150"))
    data = edit(data, set_field(32, 2, b"600"))  # precipitation
    report = validate(data)
    assert report.valid
    assert report.out_of_range == {"humidity_pct": 2, "precipitation_mm": 1}
    warning = next(w for w in report.warnings if "humidity_pct" in w.message)
    assert warning.code == "out_of_range"
    assert warning.line == 30


def test_all_missing_file_is_valid_with_a_warning() -> None:
    from inmet_local.synth.synth import generate_station_year, station_catalogue

    empty = generate_station_year(station_catalogue(1)[0], 2024, empty=True)
    report = validate(empty.data)
    assert report.valid
    assert [w.code for w in report.warnings] == ["all_missing"]
    assert report.missing_cells == report.rows * 17


def test_file_name_and_metadata_disagree_is_a_warning() -> None:
    report = validate(B, "INMET_S_PR_A807_CURITIBA_01-01-2024_A_31-12-2024.CSV")
    assert report.valid
    assert [w.code for w in report.warnings] == ["filename_mismatch"]


def test_gaps_in_the_hourly_grid_are_a_warning() -> None:
    data = edit(B, lambda ls: ls.__delitem__(30))
    report = validate(data)
    assert report.valid
    assert [w.code for w in report.warnings] == ["hour_gaps"]
