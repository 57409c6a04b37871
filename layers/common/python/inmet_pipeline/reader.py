"""Read and validate INMET yearly-archive station files (layouts A and B).

The format is described byte by byte in docs/inmet-format.md. In short: 8 metadata
lines (``KEY:;VALUE``, three key spellings), a header line (layout A ``DATA (YYYY-MM-DD);HORA
(UTC);…`` with ``-9999`` for missing, or layout B ``Data;Hora UTC;…`` with empty fields), then one
line per hour with 19 ``;``-separated columns and a trailing ``;``.

Design:
- One pass over the bytes, line by line, never holding the rows: ``validate`` keeps counters only,
  ``read_observations`` yields one row at a time.
- The encoding is decided on the 9 preamble lines (strict UTF-8 first, then ISO-8859-1): data
  lines are pure ASCII in every INMET file, so anything else there is an error anyway.
- A data line is first checked by one compiled regular expression that accepts only well-formed
  lines whose values are all in their physical range (the common case). Only lines that fail it
  are split and diagnosed field by field. The fast expression may reject a good line (that costs
  time, not correctness) but never accepts a bad one; a property test holds it to that.
- Errors carry a stable ``code``, a plain message and the 1-based line. Scanning stops after
  ``max_errors`` errors so a huge broken file is rejected fast. No input makes it raise.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import BinaryIO, Final, Literal

from inmet_pipeline import rules
from inmet_pipeline.columns import CSV_QUOTED_CHARACTERS, MEASURES, N_MEASURES

Layout = Literal["A", "B"]
Encoding = Literal["utf-8", "latin-1"]
MetadataStyle = Literal["A", "2019", "2020"]

MAX_LINE_BYTES: Final = 4096  # real lines are ~100 bytes (data) and ~730 bytes (header)
DEFAULT_MAX_ERRORS: Final = 20
N_METADATA_LINES: Final = 8
HEADER_LINE: Final = 9
_SNIFF_BYTES: Final = 8192

# The closed sets and every rule later stages rely on live in inmet_pipeline.rules.
REGIONS: Final = frozenset(rules.REGIONS)
STATES: Final = frozenset(rules.STATES)
# A station-year has at most 8,784 hourly rows (a leap year); a file with many more lines than
# that (blank ones included) is refused as soon as it passes this, without reading the rest.
MAX_DATA_ROWS: Final = 8784
MAX_LINES: Final = HEADER_LINE + MAX_DATA_ROWS + 100


# --------------------------------------------------------------------------------------------
# Report types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """An error or a warning: a stable snake_case code, a plain message, the 1-based line."""

    code: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "line": self.line}


@dataclass(frozen=True, slots=True)
class StationMeta:
    """Station attributes from metadata lines 1-8 (docs/contracts.md §3 rule 1)."""

    region: str
    state: str
    station_name: str
    station_id: str
    latitude: float
    longitude: float
    altitude_m: float
    founded_on: date | None
    metadata_style: MetadataStyle

    def to_dict(self) -> dict[str, object]:
        return {
            "station_id": self.station_id,
            "station_name": self.station_name,
            "region": self.region,
            "state": self.state,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude_m": self.altitude_m,
            "founded_on": self.founded_on.isoformat() if self.founded_on else None,
            "metadata_style": self.metadata_style,
        }


@dataclass(slots=True)
class ValidationReport:
    """Everything the validator learnt about one file."""

    filename: str | None = None
    size_bytes: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    station: StationMeta | None = None
    layout: Layout | None = None
    encoding: Encoding | None = None
    has_bom: bool = False
    radiation_label: str | None = None
    rows: int = 0
    period_start: datetime | None = None
    period_end: datetime | None = None
    missing_cells: int = 0
    all_missing_rows: int = 0
    out_of_range: dict[str, int] = field(default_factory=dict)
    truncated: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def is_binary(self) -> bool:
        return bool(self.errors) and self.errors[0].code == "binary_file"

    @property
    def year(self) -> int | None:
        return self.period_start.year if self.period_start else None

    def to_dict(self) -> dict[str, object]:
        st = self.station
        return {
            "path": self.filename,
            "valid": self.valid,
            "station_id": st.station_id if st else None,
            "station_name": st.station_name if st else None,
            "station": st.to_dict() if st else None,
            "layout": self.layout,
            "encoding": self.encoding,
            "size_bytes": self.size_bytes,
            "rows": self.rows,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "missing_cells": self.missing_cells,
            "all_missing_rows": self.all_missing_rows,
            "out_of_range": dict(self.out_of_range),
            "radiation_label": self.radiation_label,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "truncated": self.truncated,
        }


@dataclass(frozen=True, slots=True)
class Observation:
    """One data row: the UTC hour and the 17 measures (None = missing), in MEASURES order."""

    line: int
    observed_at: datetime
    values: tuple[float | None, ...]


class InmetFormatError(ValueError):
    """Raised by ``read_observations`` at the first error; carries the Issue."""

    def __init__(self, issue: Issue) -> None:
        where = f" (line {issue.line})" if issue.line else ""
        super().__init__(f"{issue.code}: {issue.message}{where}")
        self.issue = issue


class _ErrorLimitError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Layout grammar
# --------------------------------------------------------------------------------------------

# A value token: optional minus, digits with an optional decimal-comma part, or a bare ",d"
# (INMET drops the leading zero: ",2" is 0.2 and "-,9" is -0.9).
_NUMBER = re.compile(rb"-?(?:\d+(?:,\d+)?|,\d+)")
_MISSING_TOKENS: Final = (b"", b"-9999")

# In-range token expressions, column by column (docs/contracts.md §3 rule 5). Each accepts a subset
# of the numbers inside [low, high]; anything else falls back to the exact slow path.
_DEC = rb"(?:,\d+)?"
_ZERO_DEC = rb"(?:,0+)?"
_FRAC = rb",\d+"
_RANGE_TOKEN: Final[dict[str, bytes]] = {
    "0-500": rb"(?:[0-4]?\d?\d" + _DEC + rb"|" + _FRAC + rb"|500" + _ZERO_DEC + rb")",
    "500-1100": rb"(?:(?:[5-9]\d\d|10\d\d)" + _DEC + rb"|1100" + _ZERO_DEC + rb")",
    "0-6000": rb"(?:[0-5]?\d?\d?\d" + _DEC + rb"|" + _FRAC + rb"|6000" + _ZERO_DEC + rb")",
    "-40-60": rb"(?:[0-5]?\d"
    + _DEC
    + rb"|"
    + _FRAC
    + rb"|60"
    + _ZERO_DEC
    + rb"|-(?:[0-3]?\d"
    + _DEC
    + rb"|"
    + _FRAC
    + rb"|40"
    + _ZERO_DEC
    + rb"))",
    "-60-50": rb"(?:[0-4]?\d"
    + _DEC
    + rb"|"
    + _FRAC
    + rb"|50"
    + _ZERO_DEC
    + rb"|-(?:[0-5]?\d"
    + _DEC
    + rb"|"
    + _FRAC
    + rb"|60"
    + _ZERO_DEC
    + rb"))",
    "0-100": rb"(?:\d?\d" + _DEC + rb"|" + _FRAC + rb"|100" + _ZERO_DEC + rb")",
    "0-360": rb"(?:(?:[0-2]?\d?\d|3[0-5]\d)" + _DEC + rb"|" + _FRAC + rb"|360" + _ZERO_DEC + rb")",
}


def _range_key(low: float, high: float) -> str:
    return f"{low:g}-{high:g}"


def in_range_token_pattern(low: float, high: float) -> bytes:
    """The fast-path expression for one value column (exposed for the property test)."""
    return _RANGE_TOKEN[_range_key(low, high)]


@dataclass(frozen=True, slots=True)
class _LayoutSpec:
    layout: Layout
    date_re: re.Pattern[bytes]
    hour_re: re.Pattern[bytes]
    date_hint: str
    hour_hint: str
    parse_date: Callable[[bytes], date]
    parse_hour: Callable[[bytes], int]


def _ymd(sep: bytes) -> Callable[[bytes], date]:
    def parse(token: bytes) -> date:
        y, m, d = token.split(sep)
        return date(int(y), int(m), int(d))

    return parse


_LAYOUTS: Final[dict[Layout, _LayoutSpec]] = {
    "A": _LayoutSpec(
        "A",
        re.compile(rb"\d{4}-\d\d-\d\d"),
        re.compile(rb"(?:[01]\d|2[0-3]):00"),
        "YYYY-MM-DD (e.g. 2015-01-01)",
        "HH:00 in UTC (e.g. 00:00 … 23:00)",
        _ymd(b"-"),
        lambda h: int(h[:2]),
    ),
    "B": _LayoutSpec(
        "B",
        re.compile(rb"\d{4}/\d\d/\d\d"),
        re.compile(rb"(?:[01]\d|2[0-3])00 UTC"),
        "YYYY/MM/DD (e.g. 2019/01/01)",
        "HH00 UTC (e.g. 0000 UTC … 2300 UTC)",
        _ymd(b"/"),
        lambda h: int(h[:2]),
    ),
}


def _fast_line_re(spec: _LayoutSpec, trailing: bool) -> re.Pattern[bytes]:
    parts = [spec.date_re.pattern, spec.hour_re.pattern]
    for m in MEASURES:
        parts.append(rb"(?:" + in_range_token_pattern(m.low, m.high) + rb"|-9999)?")
    body = b";".join(parts)
    return re.compile(body + (b";" if trailing else b""))


_FAST_RE: Final[dict[tuple[Layout, bool], re.Pattern[bytes]]] = {
    (lay, trailing): _fast_line_re(_LAYOUTS[lay], trailing)
    for lay in ("A", "B")
    for trailing in (True, False)
}


def _fold(text: str) -> str:
    """Upper-case ASCII skeleton of a label: accents stripped, only letters and digits kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^A-Z0-9?]", "", ascii_only.upper())


# The 17 measure labels, folded; radiation is matched on its prefix because INMET writes its
# unit three ways (KJ/m², Kj/m², W/m²) and it is kJ/m² in every case (docs/inmet-format.md §4).
_MEASURE_LABELS_FOLDED: Final = tuple(_fold(m.source_label) for m in MEASURES)
_RADIATION_INDEX: Final = 4
_RADIATION_PREFIX: Final = _fold("RADIACAO GLOBAL")

_HEADER_FIRST_TWO: Final[dict[tuple[str, str], Layout]] = {
    (_fold("DATA (YYYY-MM-DD)"), _fold("HORA (UTC)")): "A",
    (_fold("Data"), _fold("Hora UTC")): "B",
}

# Metadata keys by position; '?' in a file stands for a letter INMET's export could not encode.
_METADATA_KEYS: Final = (
    ("region", "REGIAO"),
    ("state", "UF"),
    ("station_name", "ESTACAO"),
    ("station_id", "CODIGO (WMO)"),
    ("latitude", "LATITUDE"),
    ("longitude", "LONGITUDE"),
    ("altitude_m", "ALTITUDE"),
    ("founded_on", "DATA DE FUNDACAO"),
)
_KEY_HUMAN: Final = (
    "REGIÃO/REGIAO",
    "UF",
    "ESTAÇÃO/ESTACAO",
    "CODIGO (WMO)",
    "LATITUDE",
    "LONGITUDE",
    "ALTITUDE",
    "DATA DE FUNDAÇÃO/FUNDACAO",
)

_MAGIC: Final = (
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

_INMET_NAME_RE: Final = re.compile(
    r"INMET_(?P<region>[A-Z]{1,2})_(?P<state>[A-Z]{2})_(?P<wmo>[A-Z0-9]{4})_(?P<name>.*)_"
    r"(?P<start>\d\d-\d\d-\d{4})_A_(?P<end>\d\d-\d\d-\d{4})\.CSV",
    re.IGNORECASE,
)


def sniff_binary(head: bytes) -> str | None:
    """Describe ``head`` when it is not text (an archive, an image, …); None for text."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if b"\x00" in head:
        return "binary data (it contains NUL bytes)"
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D, 0x0C))
    if head and controls * 100 > len(head):
        return "binary data (it contains control bytes)"
    return None


# --------------------------------------------------------------------------------------------
# The scanner
# --------------------------------------------------------------------------------------------


def _as_stream(source: bytes | bytearray | memoryview | BinaryIO) -> BinaryIO:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    return source


class _Lines:
    """Iterate (line without its line end, too_long) pairs; a line never exceeds the bound.

    ``bytes_read`` counts every byte consumed, line ends included.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._readline = stream.readline
        self.bytes_read = 0

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        readline = self._readline
        limit = MAX_LINE_BYTES + 2
        while True:
            raw = readline(limit)
            if not raw:
                return
            self.bytes_read += len(raw)
            if raw[-1:] == b"\n":
                yield (raw[:-2] if raw[-2:-1] == b"\r" else raw[:-1]), False
                continue
            if len(raw) < limit:  # the last line has no line end
                yield (raw[:-1] if raw[-1:] == b"\r" else raw), False
                return
            # Over-long line: skip the rest of it in bounded chunks.
            while True:
                rest = readline(65536)
                self.bytes_read += len(rest)
                if not rest or rest[-1:] == b"\n":
                    break
            yield raw[:MAX_LINE_BYTES], True


class _Scanner:
    def __init__(
        self,
        source: bytes | bytearray | memoryview | BinaryIO,
        filename: str | None,
        max_errors: int,
    ) -> None:
        self.stream = _as_stream(source)
        self.report = ValidationReport(filename=filename)
        self.max_errors = max(1, max_errors)
        self.first_out_of_range: dict[str, int] = {}
        self.lines: _Lines | None = None

    # -- issues ---------------------------------------------------------------------------------
    def error(self, code: str, message: str, line: int | None = None) -> None:
        self.report.errors.append(Issue(code, message, line))
        if len(self.report.errors) >= self.max_errors:
            self.report.truncated = True
            raise _ErrorLimitError

    def warn(self, code: str, message: str, line: int | None = None) -> None:
        self.report.warnings.append(Issue(code, message, line))

    # -- the pass -------------------------------------------------------------------------------
    def run(self, want_values: bool) -> Iterator[Observation]:
        try:
            yield from self._scan(want_values)
        except _ErrorLimitError:
            return
        finally:
            if self.lines is not None:
                self.report.size_bytes = self.lines.bytes_read

    def _scan(self, want_values: bool) -> Iterator[Observation]:
        rep = self.report
        stream = self.stream
        if stream.seekable():
            start = stream.tell()
            head = stream.read(_SNIFF_BYTES)
            stream.seek(start)
        else:
            head = stream.read(_SNIFF_BYTES)
            stream = io.BufferedReader(_ChainStream(head, stream), buffer_size=65536)
        if head.startswith(b"\xef\xbb\xbf"):
            rep.has_bom = True
        binary = sniff_binary(head[3:] if rep.has_bom else head)
        if binary is not None:
            self.error("binary_file", f"This is not a text file: it looks like {binary}.", None)
            return
        self.lines = _Lines(stream)
        lines = iter(self.lines)
        preamble: list[bytes] = []
        for raw, too_long in lines:
            n = len(preamble) + 1
            if n == 1 and rep.has_bom:
                raw = raw[3:]
            if too_long:
                self.error(
                    "line_too_long",
                    f"Line {n} is longer than {MAX_LINE_BYTES} bytes; "
                    "INMET lines are about 100 bytes.",
                    n,
                )
                return
            preamble.append(raw)
            if n == HEADER_LINE:
                break
        if not any(p.strip() for p in preamble) and not _rest_has_text(lines):
            self.error("empty_file", "The file is empty (or only whitespace).", None)
            return
        if not self._check_other_layouts(preamble):
            return
        if len(preamble) < HEADER_LINE:
            self.error(
                "too_short",
                f"The file has only {len(preamble)} line(s); an INMET station file has 8 metadata "
                "lines, a header line and at least one data row.",
                None,
            )
            return
        controls = False
        for n, line in enumerate(preamble, start=1):
            at = rules.first_control_byte(line)
            if at is not None:
                self.error(
                    "control_character",
                    f"Line {n} has the control character {rules.describe_char(chr(line[at]))} at "
                    f"byte {at + 1}; INMET files have none (a tab or NUL usually means the file "
                    "was edited or damaged).",
                    n,
                )
                controls = True
        if controls:
            return
        rep.encoding = _detect_encoding(preamble)
        text = [p.decode(rep.encoding) for p in preamble]
        station = self._parse_metadata(text)
        spec, trailing, n_fields = self._parse_header(text[HEADER_LINE - 1])
        if station is None or spec is None:
            return
        rep.station = station
        rep.layout = spec.layout
        self._check_filename(station)
        yield from self._scan_rows(lines, spec, trailing, n_fields, want_values)

    # -- other layouts --------------------------------------------------------------------------
    def _check_other_layouts(self, preamble: list[bytes]) -> bool:
        first = preamble[0].decode("latin-1").strip() if preamble else ""
        folded_lines = [_fold(p.decode("latin-1")) for p in preamble]
        if first.startswith('"Data";"Hora'):
            self.error(
                "unsupported_layout_portal_table",
                "This looks like a table exported from the tempo.inmet.gov.br portal (quoted "
                "fields, no station metadata). Only the yearly-archive station files "
                "(INMET_<REG>_<UF>_<WMO>_…CSV from portal.inmet.gov.br/dadoshistoricos) are "
                "accepted.",
                1,
            )
            return False
        if first.upper().startswith("NOME:") or any(
            f.startswith(_fold("Data Medicao;Hora Medicao")) for f in folded_lines
        ):
            self.error(
                "unsupported_layout_bdmep",
                "This looks like a BDMEP single-station export (dados_<WMO>_H_….csv, 'Key: value' "
                "metadata and 'Data Medicao;Hora Medicao' columns). Only the yearly-archive "
                "station files (INMET_<REG>_<UF>_<WMO>_…CSV) are accepted.",
                1,
            )
            return False
        head_fields = first.split(";")
        if len(head_fields) >= 2 and (_fold(head_fields[0]), _fold(head_fields[1])) in (
            _HEADER_FIRST_TWO
        ):
            self.error(
                "missing_metadata",
                "Line 1 is the column header: the 8 station metadata lines (REGIAO, UF, ESTACAO, "
                "CODIGO (WMO), LATITUDE, LONGITUDE, ALTITUDE, DATA DE FUNDACAO) were removed, "
                "perhaps by a spreadsheet. Use the file as downloaded from INMET.",
                1,
            )
            return False
        return True

    # -- metadata -------------------------------------------------------------------------------
    def _parse_metadata(self, text: list[str]) -> StationMeta | None:
        values: dict[str, str] = {}
        style: MetadataStyle = "2020"
        ok = True
        for i, ((name, expected), human) in enumerate(zip(_METADATA_KEYS, _KEY_HUMAN, strict=True)):
            line_no = i + 1
            line = text[i]
            key, sep, rest = line.partition(";")
            # The second field, as the warehouse reads it (c02, TRIM of ASCII spaces only).
            value = rules.trim(rest.split(";")[0])
            if not sep or not key.rstrip().endswith(":"):
                if name == "station_id":
                    self.error(
                        "missing_wmo_code",
                        f"Line {line_no} should be 'CODIGO (WMO):;<code>' but is {_show(line)}.",
                        line_no,
                    )
                else:
                    self.error(
                        "bad_metadata",
                        f"Line {line_no} should be the station metadata "
                        f"'{human}:;<value>' but is {_show(line)}.",
                        line_no,
                    )
                ok = False
                continue
            if not _key_matches(key.rstrip()[:-1], expected):
                self.error(
                    "bad_metadata",
                    f"Line {line_no} should hold '{human}' but its key is "
                    f"{_show(key)}; metadata lines must come in INMET's order.",
                    line_no,
                )
                ok = False
                continue
            if i == 0:
                style = _metadata_style(key)
            values[name] = value
        if not ok:
            return None
        for i, (name, _key) in enumerate(_METADATA_KEYS):
            if not self._value_chars_ok(i + 1, _KEY_HUMAN[i], values[name]):
                ok = False
        if not ok:
            return None
        region = self._code(1, "REGIAO", values["region"], rules.REGION_PATTERN)
        if region is not None and region not in REGIONS:
            self.error(
                "bad_metadata_value",
                f"REGIAO (line 1) is {_show(values['region'])}; expected one of N, NE, CO, SE, S.",
                1,
            )
            region = None
        state = self._code(2, "UF", values["state"], rules.STATE_PATTERN)
        if state is not None and state not in STATES:
            self.error(
                "bad_metadata_value",
                f"UF (line 2) is {_show(values['state'])}; expected a "
                "Brazilian state code such as DF, SP or PR.",
                2,
            )
            state = None
        ok = region is not None and state is not None
        # The name is kept as written (INMET has double spaces and lower case in some names).
        name = values["station_name"]
        if not name:
            self.error("bad_metadata_value", "ESTACAO (line 3), the station name, is empty.", 3)
            ok = False
        elif len(name) > rules.MAX_STATION_NAME_CHARS:
            self.error(
                "bad_metadata_value",
                f"ESTACAO (line 3), the station name, has {len(name)} characters; at most "
                f"{rules.MAX_STATION_NAME_CHARS} are accepted.",
                3,
            )
            ok = False
        elif quoted := sorted({c for c in name if c in CSV_QUOTED_CHARACTERS}):
            # The export writes text unenclosed (Snowflake's unload, exports.UNLOAD_FILE_FORMAT):
            # a name CSV would have to quote would break the exported files' columns.
            self.error(
                "bad_metadata_value",
                f"ESTACAO (line 3), the station name, is {_show(name)}: it holds "
                + " and ".join(repr(c) for c in quoted)
                + ", which the exported CSV cannot carry unquoted; INMET's names have none.",
                3,
            )
            ok = False
        wmo = values["station_id"]
        if not wmo:
            self.error(
                "missing_wmo_code",
                "CODIGO (WMO) (line 4) is empty: the WMO code "
                "identifies the station and is required.",
                4,
            )
            ok = False
        else:
            code = self._code(4, "CODIGO (WMO)", wmo, rules.WMO_PATTERN, kind="bad_wmo_code")
            if code is None:
                ok = False
            wmo = code or wmo
        coords: dict[str, float] = {}
        for rule in rules.COORDINATES:
            given = values[rule.field]
            number = rules.parse_number(given)
            if number is None or not rule.low <= number <= rule.high:
                at = rules.first_non_ascii(given)
                why = (
                    f" (it contains {rules.describe_char(given[at])}; only ASCII digits count)"
                    if at is not None
                    else ""
                )
                self.error(
                    "bad_metadata_value",
                    f"{rule.label} (line {rule.line}) is {_show(given)}{why}; expected a number "
                    f"between {rule.low:g} and {rule.high:g} (inside Brazil) with at most 4 "
                    "integer digits and 8 decimals, decimal comma (e.g. -15,78944444).",
                    rule.line,
                )
                ok = False
            else:
                coords[rule.field] = number
        founded = _parse_founding_date(values["founded_on"])
        if founded is None and values["founded_on"]:
            self.warn(
                "bad_founding_date",
                f"DATA DE FUNDACAO (line 8) is "
                f"{_show(values['founded_on'])}; expected YYYY-MM-DD or DD/MM/YY. "
                "It is ignored.",
                8,
            )
        if not ok or region is None or state is None:
            return None
        return StationMeta(
            region=region,
            state=state,
            station_name=name,
            station_id=wmo,
            latitude=coords["latitude"],
            longitude=coords["longitude"],
            altitude_m=coords["altitude_m"],
            founded_on=founded,
            metadata_style=style,
        )

    def _value_chars_ok(self, line_no: int, label: str, value: str) -> bool:
        at = rules.first_bad_value_char(value)
        if at is None:
            return True
        self.error(
            "bad_metadata_value",
            f"{label} (line {line_no}) is {_show(value)}: character {at + 1} is "
            f"{rules.describe_char(value[at])}, which is not allowed in station metadata "
            "(no control characters, no spaces other than the plain space).",
            line_no,
        )
        return False

    def _code(
        self, line_no: int, label: str, value: str, pattern: str, kind: str = "bad_metadata_value"
    ) -> str | None:
        """An ASCII code, upper-cased as the SQL's UPPER does; None (and an error) if not."""
        at = rules.first_non_ascii(value)
        if at is not None:
            self.error(
                kind,
                f"{label} (line {line_no}) is {_show(value)}: character {at + 1} is "
                f"{rules.describe_char(value[at])}; codes are plain ASCII letters and digits.",
                line_no,
            )
            return None
        code = value.upper()
        if not re.fullmatch(pattern, code, flags=re.ASCII):
            if kind == "bad_wmo_code":
                message = (
                    f"CODIGO (WMO) (line 4) is {_show(value)}; expected a letter "
                    "and three digits such as A001."
                )
            else:
                message = f"{label} (line {line_no}) is {_show(value)}; not a valid code."
            self.error(kind, message, line_no)
            return None
        return code

    # -- header ---------------------------------------------------------------------------------
    def _parse_header(self, header: str) -> tuple[_LayoutSpec | None, bool, int]:
        rep = self.report
        fields = header.split(";")
        trailing = len(fields) > 2 and fields[-1].strip() == ""
        columns = fields[:-1] if trailing else fields
        first_two = (_fold(columns[0]), _fold(columns[1])) if len(columns) >= 2 else ("", "")
        layout = _HEADER_FIRST_TWO.get(first_two)
        if layout is None:
            found = _show(";".join(columns[:2]))
            self.error(
                "unknown_header",
                "Line 9 should be the column header of layout A ('DATA (YYYY-MM-DD);"
                f"HORA (UTC);…') or B ('Data;Hora UTC;…') but starts with {found}.",
                HEADER_LINE,
            )
            return None, trailing, len(fields)
        if len(columns) != 2 + N_MEASURES:
            self.error(
                "unknown_header",
                f"The header (line 9) has {len(columns)} columns; INMET station files have "
                f"{2 + N_MEASURES} (date, hour and 17 measures).",
                HEADER_LINE,
            )
            return None, trailing, len(fields)
        for idx, (label, expected) in enumerate(
            zip(columns[2:], _MEASURE_LABELS_FOLDED, strict=True)
        ):
            folded = _fold(label)
            if idx == _RADIATION_INDEX:
                rep.radiation_label = label.strip()
                if not folded.startswith(_RADIATION_PREFIX):
                    break
                if "W/M" in label.upper().replace(" ", ""):
                    self.warn(
                        "radiation_label_w_m2",
                        f"The radiation column is labelled {_show(label.strip())}; INMET's "
                        "values are kJ/m² whatever the label says, and are loaded as kJ/m².",
                        HEADER_LINE,
                    )
                continue
            if folded != expected:
                self.error(
                    "unknown_header",
                    f"Header column {idx + 3} is {_show(label.strip())}; expected "
                    f"{_show(MEASURES[idx].source_label)}. Columns must be in INMET's order.",
                    HEADER_LINE,
                )
                return None, trailing, len(fields)
        else:
            return _LAYOUTS[layout], trailing, len(fields)
        self.error(
            "unknown_header",
            f"Header column 7 is {_show(columns[2 + _RADIATION_INDEX].strip())}; expected "
            "'RADIACAO GLOBAL (Kj/m²)'.",
            HEADER_LINE,
        )
        return None, trailing, len(fields)

    def _check_filename(self, station: StationMeta) -> None:
        name = self.report.filename
        if not name:
            return
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        match = _INMET_NAME_RE.fullmatch(base)
        if match and match["wmo"].upper() != station.station_id:
            self.warn(
                "filename_mismatch",
                f"The file name says station {match['wmo']} but CODIGO (WMO) says "
                f"{station.station_id}; the metadata wins.",
                4,
            )

    # -- data rows ------------------------------------------------------------------------------
    def _scan_rows(
        self,
        lines: Iterator[tuple[bytes, bool]],
        spec: _LayoutSpec,
        trailing: bool,
        n_fields: int,
        want_values: bool,
    ) -> Iterator[Observation]:
        rep = self.report
        fast = _FAST_RE[(spec.layout, trailing)].fullmatch
        line_no = HEADER_LINE
        prev_key = b""
        prev_date = b""
        first_key = b""
        year = b""
        rows = 0
        missing = 0
        all_missing = 0
        blank_at = 0
        n_values = N_MEASURES
        for raw, too_long in lines:
            line_no += 1
            if line_no > MAX_LINES:
                self.report.errors.append(
                    Issue(
                        "too_many_lines",
                        f"The file has more than {MAX_LINES:,} lines; a station-year has at "
                        f"most {MAX_DATA_ROWS:,} hourly rows. Reading stopped here.",
                        line_no,
                    )
                )
                self.report.truncated = True
                raise _ErrorLimitError
            if not raw.strip(b" "):
                if not blank_at:
                    blank_at = line_no
                continue
            if blank_at:
                self.error(
                    "blank_line", f"Line {blank_at} is blank but data rows follow it.", blank_at
                )
                blank_at = 0
            if too_long:
                self.error(
                    "line_too_long",
                    f"Line {line_no} is longer than {MAX_LINE_BYTES} "
                    "bytes; INMET lines are about 100 bytes.",
                    line_no,
                )
                continue
            fields = raw.split(b";")
            if fast(raw) is None and not self._diagnose(line_no, raw, fields, spec, n_fields):
                continue
            key = fields[0] + fields[1]
            if key <= prev_key:
                if key == prev_key:
                    self.error(
                        "duplicate_hour",
                        f"Line {line_no} repeats the hour "
                        f"{_show_b(fields[0])} {_show_b(fields[1])} of the line above.",
                        line_no,
                    )
                else:
                    self.error(
                        "hour_out_of_order",
                        f"Line {line_no} ({_show_b(fields[0])} "
                        f"{_show_b(fields[1])}) goes back in time; rows must be in "
                        "increasing hour order.",
                        line_no,
                    )
                continue
            if fields[0] != prev_date:
                try:
                    spec.parse_date(fields[0])
                except ValueError:
                    self.error(
                        "bad_date",
                        f"Line {line_no}: {_show_b(fields[0])} is not a real calendar date.",
                        line_no,
                    )
                    continue
                if not year:
                    if not rules.year_ok(int(fields[0][:4])):
                        self.error(
                            "date_out_of_range",
                            f"Line {line_no}: the year {fields[0][:4].decode()} is outside "
                            f"{rules.YEAR_MIN}-{rules.YEAR_MAX}, the years INMET's archive "
                            "and this pipeline cover.",
                            line_no,
                        )
                        return
                    year = fields[0][:4]
                    first_key = key
                elif fields[0][:4] != year:
                    self.error(
                        "mixed_years",
                        f"Line {line_no} is in {fields[0][:4].decode()} but "
                        f"the file started in {year.decode()}; a station file covers one "
                        "year.",
                        line_no,
                    )
                    continue
                prev_date = fields[0]
            prev_key = key
            rows += 1
            empty = fields.count(b"") - (1 if trailing else 0)
            row_missing = empty + fields.count(b"-9999")
            missing += row_missing
            if row_missing == n_values:
                all_missing += 1
            if want_values:
                yield Observation(line_no, _timestamp(spec, fields[0], fields[1]), _values(fields))
        rep.rows = rows
        rep.missing_cells = missing
        rep.all_missing_rows = all_missing
        if rows and not rep.errors:
            rep.period_start = _timestamp(spec, first_key[:10], first_key[10:])
            rep.period_end = _timestamp(spec, prev_key[:10], prev_key[10:])
            self._summary_warnings()
        elif not rows and not rep.errors:
            self.error(
                "too_short", "The file has the metadata and the header but no data rows.", None
            )

    def _diagnose(
        self, line_no: int, raw: bytes, fields: list[bytes], spec: _LayoutSpec, n_fields: int
    ) -> bool:
        """Explain why a line failed the fast check. True when it is valid after all."""
        at = rules.first_control_byte(raw)
        if at is not None:
            self.error(
                "control_character",
                f"Line {line_no} has the control character {rules.describe_char(chr(raw[at]))} "
                f"at byte {at + 1}; INMET data lines hold only digits, ',', '-', '/', ':', "
                "spaces and ';'.",
                line_no,
            )
            return False
        if len(fields) != n_fields:
            self.error(
                "wrong_field_count",
                f"Line {line_no} has {len(fields)} fields separated by ';'; the header has "
                f"{n_fields}.",
                line_no,
            )
            return False
        if not spec.date_re.fullmatch(fields[0]):
            self.error(
                "bad_date",
                f"Line {line_no}: the date {_show_b(fields[0])} is not "
                f"{spec.date_hint}, as layout {spec.layout} requires.",
                line_no,
            )
            return False
        if not spec.hour_re.fullmatch(fields[1]):
            self.error(
                "bad_hour",
                f"Line {line_no}: the hour {_show_b(fields[1])} is not "
                f"{spec.hour_hint}, as layout {spec.layout} requires.",
                line_no,
            )
            return False
        ok = True
        for idx, token in enumerate(fields[2 : 2 + N_MEASURES]):
            if token in _MISSING_TOKENS:
                continue
            measure = MEASURES[idx]
            if not _NUMBER.fullmatch(token):
                hint = (
                    " (INMET writes numbers with a decimal comma, e.g. 1004,3)"
                    if (b"." in token)
                    else ""
                )
                self.error(
                    "invalid_value",
                    f"Line {line_no}, column {idx + 3} ({measure.name}): {_show_b(token)} is not "
                    f"a number{hint}.",
                    line_no,
                )
                ok = False
                continue
            value = float(token.replace(b",", b"."))
            if not measure.low <= value <= measure.high:
                self.report.out_of_range[measure.name] = (
                    self.report.out_of_range.get(measure.name, 0) + 1
                )
                self.first_out_of_range.setdefault(measure.name, line_no)
        if ok and n_fields == 2 + N_MEASURES + 1 and fields[-1].strip():
            self.error(
                "wrong_field_count", f"Line {line_no} has a value after the last column.", line_no
            )
            return False
        return ok

    def _summary_warnings(self) -> None:
        rep = self.report
        if rep.rows and rep.missing_cells == rep.rows * N_MEASURES:
            self.warn(
                "all_missing",
                f"All {rep.rows} rows have every measure missing: the "
                "station sent no data for this period, so nothing reaches CLEAN.",
            )
        for m in MEASURES:
            count = rep.out_of_range.get(m.name)
            if count:
                self.warn(
                    "out_of_range",
                    f"{count} value(s) of {m.name} outside {m.low:g}…{m.high:g} {m.unit} (first "
                    f"on line {self.first_out_of_range[m.name]}); RAW keeps them, CLEAN sets "
                    "them to NULL.",
                    self.first_out_of_range[m.name],
                )
        if rep.period_start and rep.period_end:
            expected = int((rep.period_end - rep.period_start) / timedelta(hours=1)) + 1
            if expected != rep.rows:
                self.warn(
                    "hour_gaps",
                    f"{expected - rep.rows} hour(s) between the first and the "
                    "last row have no row; INMET files normally have one row per hour.",
                )


class _ChainStream(io.RawIOBase):
    """``head`` followed by the rest of ``stream``, readable line by line."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _rest_has_text(lines: Iterator[tuple[bytes, bool]]) -> bool:
    return any(raw.strip() for raw, _ in lines)


def _detect_encoding(preamble: list[bytes]) -> Encoding:
    try:
        b"\n".join(preamble).decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _key_matches(key: str, expected: str) -> bool:
    folded = unicodedata.normalize("NFKD", key.strip().upper())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    if len(folded) < len(expected):
        return False
    return all(a == b or a == "?" for a, b in zip(folded, expected, strict=False))


def _metadata_style(key: str) -> MetadataStyle:
    if "?" in key:
        return "2019"
    if any(ord(c) > 127 for c in key):
        return "A"
    return "2020"


def _parse_founding_date(text: str) -> date | None:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            return date.fromisoformat(text)
        m = re.fullmatch(r"(\d\d)/(\d\d)/(\d\d|\d{4})", text)
        if m:
            year = int(m[3])
            if len(m[3]) == 2:
                # Automatic stations date from 1990s onwards; a 2-digit year above the current
                # one is from the 1900s.
                year += 2000 if year <= date.today().year % 100 else 1900
            return date(year, int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def _timestamp(spec: _LayoutSpec, day: bytes, hour: bytes) -> datetime:
    d = spec.parse_date(day)
    return datetime(d.year, d.month, d.day, spec.parse_hour(hour), tzinfo=UTC)


def _values(fields: list[bytes]) -> tuple[float | None, ...]:
    return tuple(
        None if tok in _MISSING_TOKENS else float(tok.replace(b",", b"."))
        for tok in fields[2 : 2 + N_MEASURES]
    )


def _show(text: str, limit: int = 60) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _show_b(token: bytes) -> str:
    return _show(token.decode("latin-1"))


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def validate(
    source: bytes | bytearray | memoryview | BinaryIO,
    filename: str | None = None,
    *,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> ValidationReport:
    """Validate one INMET station file. Never raises for any input."""
    scanner = _Scanner(source, filename, max_errors)
    for _ in scanner.run(want_values=False):  # pragma: no cover - yields nothing here
        pass
    return scanner.report


def read_observations(
    source: bytes | bytearray | memoryview | BinaryIO,
    filename: str | None = None,
) -> tuple[ValidationReport, Iterator[Observation]]:
    """Parse a file row by row. The report is complete once the iterator is exhausted.

    The iterator raises ``InmetFormatError`` at the first error, so a caller never sees rows of
    a file that turns out to be broken further down without being told.
    """
    scanner = _Scanner(source, filename, max_errors=1)

    def rows() -> Iterator[Observation]:
        yield from scanner.run(want_values=True)
        if scanner.report.errors:
            raise InmetFormatError(scanner.report.errors[0])

    return scanner.report, rows()


def normalise_to_utf8(data: bytes, encoding: Encoding) -> bytes:
    """The same lines as UTF-8 with LF line ends, no BOM and no trailing blank lines.

    This is what goes to ``raw/`` so the pipe's file format never has to guess an encoding.
    """
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    elif encoding == "latin-1" and text.startswith("ï»¿"):
        text = text[3:]
    text = text.replace("\r\n", "\n").rstrip("\r\n \t") + "\n"
    return text.encode("utf-8")
