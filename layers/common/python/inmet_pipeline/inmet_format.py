"""The INMET yearly-archive station file format, stated once (docs/inmet-format.md).

Every fact about how an INMET file is spelt lives here, and both sides use it: the reader
(``inmet_pipeline.reader`` and the modules it is split into) parses with it, and the generator
(``local/inmet_local/synth/synth.py``) writes with it. So a spelling added here is read and
generated at once, and tests/unit/test_inmet_format.py round-trips every layout and metadata style.

What is here: the two layouts (date and hour formats, the first two header labels, the missing
marker), the 17 measure labels and the three radiation units, the metadata keys in their three
spellings, the founding-date formats, the number format (decimal comma, dropped leading zero),
the file-name pattern, the encodings, the binary signatures the reader refuses and the markers
of the other INMET layouts it refuses (§8). What is not here: the checks (``rules``, the
reader), the measures' names and ranges (``columns.MEASURES``, whose ``source_label`` is the
layout-B header label).

Why one module of about 400 lines (issue 16): it is the one place a newcomer reads to learn how an
INMET file is spelt, and splitting it would scatter that statement again.

The reader's hot loop must stay fast, so the per-row formats are also given as compiled byte
patterns built from the same templates (``LayoutSpec.date_re``, ``hour_re``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final, Literal, get_args

from inmet_pipeline.columns import MEASURES, MISSING_SENTINEL

Layout = Literal["A", "B"]
Encoding = Literal["utf-8", "latin-1"]
MetadataStyle = Literal["A", "2019", "2020"]

LAYOUTS_IN_ORDER: Final[tuple[Layout, ...]] = get_args(Layout)
METADATA_STYLES: Final[tuple[MetadataStyle, ...]] = get_args(MetadataStyle)

# --------------------------------------------------------------------------------------------
# Bytes, lines, fields (docs/inmet-format.md §2, §6)
# --------------------------------------------------------------------------------------------

SEPARATOR: Final = ";"  # no quoting anywhere; every line ends with one (a 20th, empty field)
LINE_END: Final = "\n"  # INMET writes LF only; the reader also accepts CRLF
UTF8_BOM: Final = b"\xef\xbb\xbf"  # INMET writes none; the reader accepts one
N_METADATA_LINES: Final = 8
HEADER_LINE: Final = 9  # 1-based
# A station-year has at most 8,784 hourly rows (a leap year).
MAX_DATA_ROWS: Final = 8784

# Encodings, in the order the reader tries them on the preamble (§6): strict UTF-8 first,
# because ISO-8859-1 decodes anything (and turns UTF-8 into mojibake).
UTF8: Final[Encoding] = "utf-8"
LATIN1: Final[Encoding] = "latin-1"
ENCODINGS: Final[tuple[Encoding, ...]] = (UTF8, LATIN1)

# --------------------------------------------------------------------------------------------
# Values (§2, §5)
# --------------------------------------------------------------------------------------------

DECIMAL_COMMA: Final = ","
# At most this many decimals in any number (a value or a coordinate): INMET writes 1 in values
# and up to 8 in coordinates. Bounded so that every stage reads the number as written, with no
# rounding: Python's float orders it exactly against the ranges' bounds, and the SQL parses it
# at this scale (inmet_pipeline.rules.sql_number).
MAX_DECIMALS: Final = 8
# At most this many integer digits in a data value (a coordinate has at most 4: rules.py).
MAX_VALUE_INTEGER_DIGITS: Final = 20


def number_pattern(integer_digits: int, decimals: int = MAX_DECIMALS, points: str = ",") -> str:
    """The one definition of an INMET number, as an ASCII regular expression (no anchors; POSIX
    syntax, so Snowflake's RLIKE reads it too): an optional minus, then 1..``integer_digits``
    digits with an optional decimal part, or a bare decimal part: INMET drops the leading zero
    (",2" is 0.2, "-,9" is -0.9; coordinates near the equator are written ",03499999" and
    "-,98722221"). ``points`` are the accepted decimal separators (values: the comma only)."""
    sep = points if len(points) == 1 else f"[{points}]"
    fraction = f"{sep}[0-9]{{1,{decimals}}}"
    return f"-?([0-9]{{1,{integer_digits}}}({fraction})?|{fraction})"


# A data value token (bytes), from the same definition.
NUMBER_RE: Final = re.compile(number_pattern(MAX_VALUE_INTEGER_DIGITS).encode())
# Either marker means missing in either layout (INMET never mixes them within a file).
MISSING_TOKENS: Final = (b"", MISSING_SENTINEL.encode())


def format_value(value: float | None, missing: str) -> str:
    """INMET's way: decimal comma, no leading zero, no decimals for whole numbers."""
    if value is None:
        return missing
    if value == int(value):
        return str(int(value))
    text = f"{value:.1f}".replace(".", DECIMAL_COMMA)
    if text.startswith("0" + DECIMAL_COMMA):
        return text[1:]
    if text.startswith("-0" + DECIMAL_COMMA):
        return "-" + text[2:]
    return text


def parse_value(token: bytes) -> float | None:
    """A data value as the reader reads it (the scanner inlines this in its loop)."""
    if token in MISSING_TOKENS:
        return None
    return float(token.replace(DECIMAL_COMMA.encode(), b"."))


def format_metadata_number(value: float) -> str:
    """A latitude, longitude or altitude as INMET writes it: up to 8 decimals, decimal comma,
    and no leading zero (0.03499999 is ",03499999" and -0.98722221 is "-,98722221", as in the
    2024 files of Macapá and Porto Grande)."""
    text = f"{value:.{MAX_DECIMALS}f}".rstrip("0").rstrip(".")
    if text in ("0", "-0", ""):
        return "0"
    if text.startswith("0."):
        text = text[1:]
    elif text.startswith("-0."):
        text = "-" + text[2:]
    return text.replace(".", DECIMAL_COMMA)


# --------------------------------------------------------------------------------------------
# Layouts A and B (§1, §5)
# --------------------------------------------------------------------------------------------

_HOUR: Final = "HH"  # in an hour template: the two-digit UTC hour
_HOUR_RE: Final = r"(?:[01]\d|2[0-3])"


@dataclass(frozen=True, slots=True)
class LayoutSpec:
    """One layout: its first two header labels, its date and hour templates, its missing marker.

    The templates are the single statement; the patterns, the parsers and the formatters below
    are all derived from them.
    """

    layout: Layout
    date_label: str  # header column 0
    hour_label: str  # header column 1
    date_template: str  # "YYYY<sep>MM<sep>DD"
    hour_template: str  # "HH" followed by a fixed tail
    missing: str  # what this layout writes for a missing value
    example_year: int  # for messages
    date_sep: str = field(init=False)
    date_sep_bytes: bytes = field(init=False)
    date_strftime: str = field(init=False)
    date_re: re.Pattern[bytes] = field(init=False)
    hour_re: re.Pattern[bytes] = field(init=False)
    date_hint: str = field(init=False)
    hour_hint: str = field(init=False)

    def __post_init__(self) -> None:
        sep = self.date_template[4]
        if self.date_template != f"YYYY{sep}MM{sep}DD" or sep not in "-/":
            raise ValueError(f"unsupported date template {self.date_template!r}")
        # The tail after HH goes into a pattern as it is: letters, digits, ':' and spaces only.
        if not re.fullmatch(r"HH[0-9A-Z: ]*", self.hour_template):
            raise ValueError(f"unsupported hour template {self.hour_template!r}")
        hour_tail = self.hour_template[len(_HOUR) :]
        setattr_ = object.__setattr__
        setattr_(self, "date_sep", sep)
        setattr_(self, "date_sep_bytes", sep.encode())
        setattr_(self, "date_strftime", f"%Y{sep}%m{sep}%d")
        setattr_(self, "date_re", re.compile(rf"\d{{4}}{sep}\d\d{sep}\d\d".encode()))
        setattr_(self, "hour_re", re.compile((_HOUR_RE + hour_tail).encode()))
        example = self.format_date(date(self.example_year, 1, 1))
        setattr_(self, "date_hint", f"{self.date_template} (e.g. {example})")
        in_utc = "" if "UTC" in hour_tail else " in UTC"
        setattr_(
            self,
            "hour_hint",
            f"{self.hour_template}{in_utc} (e.g. {self.format_hour(0)} … {self.format_hour(23)})",
        )

    # -- reading (tokens already matched by date_re / hour_re) -------------------------------------
    def parse_date(self, token: bytes) -> date:
        y, m, d = token.split(self.date_sep_bytes)
        return date(int(y), int(m), int(d))

    @staticmethod
    def parse_hour(token: bytes) -> int:
        return int(token[:2])

    # -- writing ----------------------------------------------------------------------------------
    def format_date(self, day: date) -> str:
        return day.strftime(self.date_strftime)

    def format_hour(self, hour: int) -> str:
        return self.hour_template.replace(_HOUR, f"{hour:02d}", 1)

    def format_row(
        self, day: date, hour: int, values: tuple[float | None, ...] | list[float | None]
    ) -> str:
        """One data line, without its line end: date, hour, 17 values, trailing separator."""
        return (
            SEPARATOR.join(
                [self.format_date(day), self.format_hour(hour)]
                + [format_value(v, self.missing) for v in values]
            )
            + SEPARATOR
        )


LAYOUTS: Final[dict[Layout, LayoutSpec]] = {
    # Yearly archive, data years up to 2018.
    "A": LayoutSpec(
        "A", "DATA (YYYY-MM-DD)", "HORA (UTC)", "YYYY-MM-DD", "HH:00", MISSING_SENTINEL, 2015
    ),
    # Yearly archive, data years from 2019.
    "B": LayoutSpec("B", "Data", "Hora UTC", "YYYY/MM/DD", "HH00 UTC", "", 2019),
}


def layout_for_year(year: int) -> Layout:
    """The layout INMET's archive uses for a data year (the reader decides by the header)."""
    return "A" if year <= 2018 else "B"


# --------------------------------------------------------------------------------------------
# The header line (§3)
# --------------------------------------------------------------------------------------------

RADIATION_INDEX: Final = 4  # among the 17 measures (header column 6)
RADIATION_LABEL_PREFIX: Final = "RADIACAO GLOBAL"  # the reader matches radiation on this alone


class RadiationUnit(StrEnum):
    """The unit in the radiation label; the values are kJ/m² whatever it says (§4)."""

    KJ_UPPER = "KJ/m²"  # 2025 downloads of data years up to 2019
    KJ = "Kj/m²"  # data years from 2020 (every file of the 2024 archive)
    W = "W/m²"  # every 2021 download: a wrong label


def radiation_label(unit: RadiationUnit) -> str:
    return f"{RADIATION_LABEL_PREFIX} ({unit})"


def says_w_m2(label: str) -> bool:
    """True when a radiation label names W/m² (spaces and case ignored)."""
    return RadiationUnit.W.upper()[:3] in label.upper().replace(" ", "")


def header_labels(layout: Layout, unit: RadiationUnit = RadiationUnit.KJ) -> tuple[str, ...]:
    """The 19 header labels of a layout, in INMET's order (the measures from columns.MEASURES)."""
    spec = LAYOUTS[layout]
    measures = tuple(
        radiation_label(unit) if i == RADIATION_INDEX else m.source_label
        for i, m in enumerate(MEASURES)
    )
    return (spec.date_label, spec.hour_label, *measures)


def format_header(layout: Layout, unit: RadiationUnit = RadiationUnit.KJ) -> str:
    """The header line, without its line end, with INMET's trailing separator."""
    return SEPARATOR.join(header_labels(layout, unit)) + SEPARATOR


# --------------------------------------------------------------------------------------------
# The 8 metadata lines (§4)
# --------------------------------------------------------------------------------------------

METADATA_FIELDS: Final = (
    "region",
    "state",
    "station_name",
    "station_id",
    "latitude",
    "longitude",
    "altitude_m",
    "founded_on",
)
# A metadata line is KEY + KEY_END + SEPARATOR + VALUE, e.g. "REGIAO:;CO".
KEY_END: Final = ":"
# The keys by position, in the three spellings. '?' is a literal 0x3F in the file: a letter
# INMET's export could not encode.
METADATA_KEYS: Final[dict[MetadataStyle, tuple[str, ...]]] = {
    "A": (
        "REGIÃO",
        "UF",
        "ESTAÇÃO",
        "CODIGO (WMO)",
        "LATITUDE",
        "LONGITUDE",
        "ALTITUDE",
        "DATA DE FUNDAÇÃO (YYYY-MM-DD)",
    ),
    "2019": (
        "REGI?O",
        "UF",
        "ESTAC?O",
        "CODIGO (WMO)",
        "LATITUDE",
        "LONGITUDE",
        "ALTITUDE",
        "DATA DE FUNDAC?O",
    ),
    "2020": (
        "REGIAO",
        "UF",
        "ESTACAO",
        "CODIGO (WMO)",
        "LATITUDE",
        "LONGITUDE",
        "ALTITUDE",
        "DATA DE FUNDACAO",
    ),
}
# The reader matches every spelling against the ASCII one, accents folded, '?' as any letter,
# and a longer key accepted (the A style's founding-date key carries its format).
CANONICAL_METADATA_KEYS: Final = METADATA_KEYS["2020"]
# The keys as messages name them.
METADATA_KEY_LABELS: Final = (
    "REGIÃO/REGIAO",
    "UF",
    "ESTAÇÃO/ESTACAO",
    "CODIGO (WMO)",
    "LATITUDE",
    "LONGITUDE",
    "ALTITUDE",
    "DATA DE FUNDAÇÃO/FUNDACAO",
)
# How each style writes the founding date; the reader takes either whatever the style.
FOUNDING_DATE_FORMATS: Final[dict[MetadataStyle, str]] = {
    "A": "%Y-%m-%d",
    "2019": "%d/%m/%y",
    "2020": "%d/%m/%y",
}
_ISO_DATE_RE: Final = re.compile(r"\d{4}-\d\d-\d\d")
_DMY_DATE_RE: Final = re.compile(r"(\d\d)/(\d\d)/(\d\d|\d{4})")


def as_metadata_style(text: str) -> MetadataStyle:
    for style in METADATA_STYLES:
        if style == text:
            return style
    raise ValueError(f"unknown metadata style {text!r}; expected one of {METADATA_STYLES}")


def metadata_style_of(first_key: str) -> MetadataStyle:
    """The spelling style of a file, told by its (decoded) first key: '?' is 2019, accents A."""
    if "?" in first_key:
        return "2019"
    if any(ord(c) > 127 for c in first_key):
        return "A"
    return "2020"


def format_metadata_line(style: MetadataStyle, index: int, value: str) -> str:
    """Metadata line ``index + 1`` (0-based index into METADATA_FIELDS) in a spelling style."""
    return METADATA_KEYS[style][index] + KEY_END + SEPARATOR + value


def format_metadata_lines(style: MetadataStyle, values: tuple[str, ...]) -> list[str]:
    """The 8 metadata lines, values in METADATA_FIELDS order, already formatted."""
    if len(values) != len(METADATA_FIELDS):
        raise ValueError(f"expected {len(METADATA_FIELDS)} metadata values, got {len(values)}")
    return [format_metadata_line(style, i, value) for i, value in enumerate(values)]


def format_founding_date(day: date, style: MetadataStyle) -> str:
    return day.strftime(FOUNDING_DATE_FORMATS[style])


def parse_founding_date(text: str, today: date | None = None) -> date | None:
    """``YYYY-MM-DD`` or ``DD/MM/YY`` (or ``DD/MM/YYYY``); None when unreadable.

    A two-digit year is 20YY when not after the current year, else 19YY: automatic stations
    date from the 1990s onwards.
    """
    text = text.strip()
    try:
        if _ISO_DATE_RE.fullmatch(text):
            return date.fromisoformat(text)
        m = _DMY_DATE_RE.fullmatch(text)
        if m:
            year = int(m[3])
            if len(m[3]) == 2:
                year += 2000 if year <= (today or date.today()).year % 100 else 1900
            return date(year, int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------------------------
# The file name (§2)
# --------------------------------------------------------------------------------------------

_FILENAME_DATE: Final = "%d-%m-%Y"
FILENAME_RE: Final = re.compile(
    r"INMET_(?P<region>[A-Z]{1,2})_(?P<state>[A-Z]{2})_(?P<wmo>[A-Z0-9]{4})_(?P<name>.*)_"
    r"(?P<start>\d\d-\d\d-\d{4})_A_(?P<end>\d\d-\d\d-\d{4})\.CSV",
    re.IGNORECASE,
)


def format_filename(
    region: str, state: str, station_id: str, station_name: str, start: date, end: date
) -> str:
    """``INMET_<REG>_<UF>_<WMO>_<STATION NAME>_<DD-MM-YYYY>_A_<DD-MM-YYYY>.CSV``."""
    return (
        f"INMET_{region}_{state}_{station_id}_{station_name}_"
        f"{start.strftime(_FILENAME_DATE)}_A_{end.strftime(_FILENAME_DATE)}.CSV"
    )


# --------------------------------------------------------------------------------------------
# What is refused (§8)
# --------------------------------------------------------------------------------------------

# Leading bytes of files that are not text, and what to tell the sender.
BINARY_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (
        b"PK\x03\x04",
        "a ZIP archive (or an .xlsx workbook); unzip it and send the .CSV files inside",
    ),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel/OLE2 document (.xls); export it as INMET CSV"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\xff\xfe", "UTF-16 text; save it as UTF-8 or ISO-8859-1"),
    (b"\xfe\xff", "UTF-16 text; save it as UTF-8 or ISO-8859-1"),
)
# O2, the tempo.inmet.gov.br table export: its first line starts so.
PORTAL_TABLE_START: Final = '"Data";"Hora'
# O1, the BDMEP single-station export: 'Nome: …' metadata, then these two columns.
BDMEP_FIRST_KEY: Final = "NOME:"
BDMEP_HEADER_START: Final = "Data Medicao;Hora Medicao"
