"""The crafted files of issue 15: a valid station file with one metadata or data value written
in a way Python reads and Snowflake does not (Unicode digits and spaces, control characters,
years far out of range). Each entry: the bytes (UTF-8), the expected error code and line."""

from __future__ import annotations

from typing import NamedTuple


class Crafted(NamedTuple):
    data: bytes
    code: str
    line: int


def _utf8_lines(base: bytes) -> list[str]:
    try:
        text = base.decode("utf-8")
    except UnicodeDecodeError:
        text = base.decode("latin-1")
    return text.split("\n")


def _with_value(lines: list[str], n: int, value: str) -> bytes:
    out = list(lines)
    key = out[n - 1].split(";", 1)[0]
    out[n - 1] = f"{key};{value}"
    return "\n".join(out).encode("utf-8")


def _with_line(lines: list[str], n: int, line: str) -> bytes:
    out = list(lines)
    out[n - 1] = line
    return "\n".join(out).encode("utf-8")


def _year(lines: list[str], year: str) -> bytes:
    out = list(lines)
    for i in range(9, len(out)):
        if out[i]:
            out[i] = year + out[i][4:]
    return "\n".join(out).encode("utf-8")


def crafted_files(base: bytes) -> dict[str, Crafted]:
    """The crafted variants of ``base`` (a valid file of any layout and encoding)."""
    lines = _utf8_lines(base)
    first_data = lines[9]
    return {
        "arabic_indic_latitude": Crafted(
            _with_value(lines, 5, "-\u0661\u0665,\u0667\u0668\u0669"), "bad_metadata_value", 5
        ),
        "tab_before_wmo": Crafted(
            _with_value(lines, 4, "\t" + lines[3].split(";")[1]), "control_character", 4
        ),
        "nbsp_in_state": Crafted(
            _with_value(lines, 2, "\u00a0" + lines[1].split(";")[1]), "bad_metadata_value", 2
        ),
        "ideographic_space_in_name": Crafted(
            _with_value(lines, 3, "BRAS\u3000LIA"), "bad_metadata_value", 3
        ),
        "zero_width_space_in_region": Crafted(
            _with_value(lines, 1, lines[0].split(";")[1] + "\u200b"), "bad_metadata_value", 1
        ),
        "c1_control_in_name": Crafted(
            _with_value(lines, 3, "BRAS\u0085LIA"), "bad_metadata_value", 3
        ),
        "unit_separator_in_longitude": Crafted(
            _with_value(lines, 6, "-47,9\x1f25"), "control_character", 6
        ),
        "fullwidth_digits_in_wmo": Crafted(
            _with_value(lines, 4, "A\uff10\uff10\uff11"), "bad_wmo_code", 4
        ),
        "dotless_i_wmo": Crafted(_with_value(lines, 4, "\u0131001"), "bad_wmo_code", 4),
        "latitude_outside_brazil": Crafted(_with_value(lines, 5, "48,85"), "bad_metadata_value", 5),
        "latitude_too_many_digits": Crafted(
            _with_value(lines, 5, "-000000015,5"), "bad_metadata_value", 5
        ),
        "altitude_over_column": Crafted(
            _with_value(lines, 7, "123456789"), "bad_metadata_value", 7
        ),
        "year_9999": Crafted(_year(lines, "9999"), "date_out_of_range", 10),
        "year_1850": Crafted(_year(lines, "1850"), "date_out_of_range", 10),
        "tab_in_data_line": Crafted(
            _with_line(lines, 10, first_data.replace(";", ";\t", 3)), "control_character", 10
        ),
        "vertical_tab_after_last_field": Crafted(
            _with_line(lines, 10, first_data + "\x0b"), "control_character", 10
        ),
    }
