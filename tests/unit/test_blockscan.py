"""The validator's two paths agree (issue 17): the whole-block fast path
(inmet_pipeline.blockscan) and the line-by-line scanner give the same report for every file,
valid or not. The block path may hand a file to the scanner (that costs time only); it must
never accept a file the scanner refuses, and when it accepts, every count, warning and the
period must be the scanner's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline import blockscan, reader
from inmet_pipeline.reader import validate
from tests.crafted import crafted_files
from tests.fuzz import all_bases, mutated_file
from tests.helpers import small_file

pytestmark = [pytest.mark.unit]


def both(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    fast = validate(data).to_dict()
    with blockscan.switched_off():
        slow = validate(data).to_dict()
    return fast, slow


def block_decides(data: bytes) -> bool:
    """True when the block path accepted the data lines (rather than handing them over)."""
    calls: list[bool] = []
    original = blockscan.scan_block

    def spy(*args: Any, **kwargs: Any) -> blockscan.BlockSummary | None:
        result = original(*args, **kwargs)
        calls.append(result is not None)
        return result

    blockscan.scan_block = spy
    try:
        validate(data)
    finally:
        blockscan.scan_block = original
    return any(calls)


def _year_files() -> list[bytes]:
    catalogue = station_catalogue(6, 3)
    out = []
    for i, (layout, encoding, style) in enumerate(
        [
            ("A", "utf-8", None),
            ("A", "latin-1", None),
            ("B", "latin-1", "2019"),
            ("B", "utf-8", "2020"),
        ]
    ):
        out.append(
            generate_station_year(
                catalogue[i],
                2024 if layout == "B" else 2015,
                seed=i,
                layout=layout,  # type: ignore[arg-type]
                encoding=encoding,
                metadata_style=style,
            ).data
        )
    out.append(generate_station_year(catalogue[4], 2024, seed=4, empty=True).data)
    return out


YEARS = _year_files()
OUTLIERS = generate_station_year(station_catalogue(1, 5)[0], 2024, seed=5, outlier_rate=0.01).data


@pytest.mark.parametrize("index", range(len(YEARS)))
def test_generated_years_take_the_block_path_and_agree(index: int) -> None:
    data = YEARS[index]
    fast, slow = both(data)
    assert fast == slow
    assert fast["valid"], fast["errors"][:1]
    assert block_decides(data)


def test_out_of_range_values_are_left_to_the_scanner_which_counts_them() -> None:
    data = OUTLIERS
    fast, slow = both(data)
    assert fast["out_of_range"], "the generator was asked for outliers"
    assert fast == slow
    assert not block_decides(data)


def test_an_all_missing_station_is_counted_row_by_row() -> None:
    fast, slow = both(YEARS[4])
    assert fast == slow
    assert fast["all_missing_rows"] == fast["rows"] > 0


def test_crlf_and_trailing_blank_lines_take_the_block_path() -> None:
    data = YEARS[2].replace(b"\n", b"\r\n") + b"\r\n  \r\n\r\n"
    fast, slow = both(data)
    assert fast == slow
    assert fast["valid"]
    assert block_decides(data)


@pytest.mark.real_data
def test_real_files_agree(real_dir: Path) -> None:
    for path in sorted(real_dir.glob("*.CSV")):
        data = path.read_bytes()
        fast, slow = both(data)
        assert fast == slow, path.name


@pytest.mark.parametrize("name", sorted(crafted_files(small_file("B", days=3).data)))
def test_crafted_broken_files_agree(name: str) -> None:
    crafted = crafted_files(small_file("B", days=3).data)[name]
    fast, slow = both(crafted.data)
    assert fast == slow
    assert not fast["valid"]


BROKEN_LINES = {
    "blank line between rows": lambda ls: [*ls[:15], b"", *ls[15:]],
    "spaces-only line between rows": lambda ls: [*ls[:15], b"   ", *ls[15:]],
    "duplicate hour": lambda ls: [*ls[:15], ls[14], *ls[15:]],
    "hour back in time": lambda ls: [*ls[:14], ls[15], ls[14], *ls[16:]],
    "value after the last column": lambda ls: [*ls[:12], ls[12] + b"7", *ls[13:]],
    "space after the last column": lambda ls: [*ls[:12], ls[12] + b" ", *ls[13:]],
    "one field short": lambda ls: [*ls[:12], ls[12].rsplit(b";", 2)[0] + b";", *ls[13:]],
    "a lone CR inside a line": lambda ls: [*ls[:12], ls[12][:20] + b"\r" + ls[12][20:], *ls[13:]],
    "a tab in a value": lambda ls: [*ls[:12], ls[12].replace(b";", b";\t", 3), *ls[13:]],
    "a decimal point": lambda ls: [*ls[:12], re.sub(rb";(\d+),", rb";\1.", ls[12]), *ls[13:]],
    "a line too long": lambda ls: [*ls[:12], ls[12] + b"1" * 5000, *ls[13:]],
    "year changes": lambda ls: [*ls[:-1], b"2025" + ls[-1][4:]],
    "29 February of a common year": lambda ls: [
        *ls[:12],
        re.sub(rb"^\d{4}.\d\d.\d\d", b"2023/02/29", ls[12]),
        *ls[13:],
    ],
}


@pytest.mark.parametrize("name", sorted(BROKEN_LINES))
def test_broken_data_lines_are_left_to_the_scanner(name: str) -> None:
    lines = small_file("B", days=2).data.split(b"\n")
    assert lines[-1] == b""
    data = b"\n".join(BROKEN_LINES[name](lines[:-1])) + b"\n"
    fast, slow = both(data)
    assert fast == slow
    assert not block_decides(data) or fast["valid"]


def test_more_lines_than_a_station_year_are_left_to_the_scanner() -> None:
    lines = small_file("B", days=2).data.split(b"\n")[:-1]
    data = b"\n".join([*lines, *([b""] * (reader.MAX_LINES + 5))]) + b"\n"
    fast, slow = both(data)
    assert fast == slow
    assert fast["errors"][0]["code"] == "too_many_lines"


BASES = all_bases(None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_file(BASES))
def test_mutated_files_agree(data: bytes) -> None:
    fast, slow = both(data)
    assert fast == slow


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 47),
            st.integers(0, 18),
            st.text(st.sampled_from("0123456789,-;/: UTC\r\t."), max_size=8),
        ),
        max_size=4,
    )
)
def test_hostile_tokens_agree(edits: list[tuple[int, int, str]]) -> None:
    lines = small_file("A", days=2).data.split(b"\n")[:-1]
    for row, column, token in edits:
        fields = lines[9 + row].split(b";")
        fields[column] = token.encode()
        lines[9 + row] = b";".join(fields)
    data = b"\n".join(lines) + b"\n"
    fast, slow = both(data)
    assert fast == slow
