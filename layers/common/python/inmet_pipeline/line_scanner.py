"""The data-row scanner: the loop that checks every hourly line of a file.

Split from reader.py (issue 16) so the hot loop stands alone: it is what the upload's ~20 MB/s
depends on, and it can be optimised here without touching the format facts (``inmet_format``),
the preamble checks (``preamble``) or the report types (``report``).

A data line is first checked by one compiled regular expression that accepts only well-formed
lines whose values are all in their physical range (the common case). Only lines that fail it
are split and diagnosed field by field. The fast expression may reject a good line (that costs
time, not correctness) but never accepts a bad one; a property test holds it to that
(tests/unit/test_reader_properties.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Final

from inmet_pipeline import blockscan, rules
from inmet_pipeline.columns import MEASURES, N_MEASURES
from inmet_pipeline.decoding import MAX_LINE_BYTES
from inmet_pipeline.inmet_format import (
    DECIMAL_COMMA,
    HEADER_LINE,
    LAYOUTS,
    LAYOUTS_IN_ORDER,
    MAX_DATA_ROWS,
    MAX_DECIMALS,
    MISSING_TOKENS,
    NUMBER_RE,
    SEPARATOR,
    Layout,
    LayoutSpec,
)
from inmet_pipeline.report import IssueLog, Observation, show_bytes

# A file with many more lines than a station-year's rows (blank ones included) is refused as
# soon as it passes this, without reading the rest.
MAX_LINES: Final = HEADER_LINE + MAX_DATA_ROWS + 100
_SEP: Final = SEPARATOR.encode()
_COMMA: Final = DECIMAL_COMMA.encode()
_MISSING_A: Final = MISSING_TOKENS[1]  # -9999

# In-range token expressions, column by column (docs/contracts.md §3 rule 5). Each accepts a subset
# of the numbers inside [low, high]; anything else falls back to the exact slow path.
# At most MAX_DECIMALS decimals, as inmet_format.number_pattern says: the fast path never
# accepts a token the definition refuses.
_DECIMALS: Final = b"{1,%d}" % MAX_DECIMALS
_DEC = rb"(?:,\d" + _DECIMALS + rb")?"
_ZERO_DEC = rb"(?:,0" + _DECIMALS + rb")?"
_FRAC = rb",\d" + _DECIMALS
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


def _fast_line_re(spec: LayoutSpec, trailing: bool) -> re.Pattern[bytes]:
    parts = [spec.date_re.pattern, spec.hour_re.pattern]
    for m in MEASURES:
        parts.append(rb"(?:" + in_range_token_pattern(m.low, m.high) + rb"|" + _MISSING_A + rb")?")
    body = _SEP.join(parts)
    return re.compile(body + (_SEP if trailing else b""))


_FAST_RE: Final[dict[tuple[Layout, bool], re.Pattern[bytes]]] = {
    (lay, trailing): _fast_line_re(LAYOUTS[lay], trailing)
    for lay in LAYOUTS_IN_ORDER
    for trailing in (True, False)
}
# The same, for a whole block of lines (validate's fast path, inmet_pipeline.blockscan).
_FAST_BLOCK_RE: Final[dict[tuple[Layout, bool], re.Pattern[bytes]]] = {
    key: blockscan.block_expression(pattern) for key, pattern in _FAST_RE.items()
}


class RowScanner:
    """Scans the data rows of one file into the report that ``log`` holds."""

    def __init__(self, log: IssueLog) -> None:
        self.log = log
        self.report = log.report
        self.first_out_of_range: dict[str, int] = {}

    def scan(
        self,
        lines: Iterator[tuple[bytes, bool]],
        spec: LayoutSpec,
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
        sep = _SEP
        missing_a = _MISSING_A
        for raw, too_long in lines:
            line_no += 1
            if line_no > MAX_LINES:
                self.log.stop(
                    "too_many_lines",
                    f"The file has more than {MAX_LINES:,} lines; a station-year has at "
                    f"most {MAX_DATA_ROWS:,} hourly rows. Reading stopped here.",
                    line_no,
                )
            if not raw.strip(b" "):
                if not blank_at:
                    blank_at = line_no
                continue
            if blank_at:
                self.log.error(
                    "blank_line", f"Line {blank_at} is blank but data rows follow it.", blank_at
                )
                blank_at = 0
            if too_long:
                self.log.error(
                    "line_too_long",
                    f"Line {line_no} is longer than {MAX_LINE_BYTES} "
                    "bytes; INMET lines are about 100 bytes.",
                    line_no,
                )
                continue
            fields = raw.split(sep)
            if fast(raw) is None and not self._diagnose(line_no, raw, fields, spec, n_fields):
                continue
            key = fields[0] + fields[1]
            if key <= prev_key:
                if key == prev_key:
                    self.log.error(
                        "duplicate_hour",
                        f"Line {line_no} repeats the hour "
                        f"{show_bytes(fields[0])} {show_bytes(fields[1])} of the line above.",
                        line_no,
                    )
                else:
                    self.log.error(
                        "hour_out_of_order",
                        f"Line {line_no} ({show_bytes(fields[0])} "
                        f"{show_bytes(fields[1])}) goes back in time; rows must be in "
                        "increasing hour order.",
                        line_no,
                    )
                continue
            if fields[0] != prev_date:
                try:
                    spec.parse_date(fields[0])
                except ValueError:
                    self.log.error(
                        "bad_date",
                        f"Line {line_no}: {show_bytes(fields[0])} is not a real calendar date.",
                        line_no,
                    )
                    continue
                if not year:
                    if not rules.year_ok(int(fields[0][:4])):
                        self.log.error(
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
                    self.log.error(
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
            row_missing = empty + fields.count(missing_a)
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
            self.log.error(
                "too_short", "The file has the metadata and the header but no data rows.", None
            )

    def scan_block(self, block: bytes, spec: LayoutSpec, trailing: bool) -> bool:
        """The data lines as one block (``inmet_pipeline.blockscan``, for ``validate``). True
        when the block passed and the report holds what ``scan`` would have put there; False
        when the lines must be scanned one by one (nothing was recorded)."""
        summary = blockscan.scan_block(
            block,
            first_line=HEADER_LINE + 1,
            max_lines=MAX_LINES,
            max_line_bytes=MAX_LINE_BYTES,
            trailing=trailing,
            block_re=_FAST_BLOCK_RE[(spec.layout, trailing)],
            parse_date=spec.parse_date,
            year_ok=rules.year_ok,
        )
        if summary is None:
            return False
        rep = self.report
        rep.rows = summary.rows
        rep.missing_cells = summary.missing_cells
        rep.all_missing_rows = summary.all_missing_rows
        if not rep.errors:  # as scan: a period and warnings only for a clean file
            rep.period_start = _timestamp(spec, summary.first_date, summary.first_hour)
            rep.period_end = _timestamp(spec, summary.last_date, summary.last_hour)
            self._summary_warnings()
        return True

    def _diagnose(
        self, line_no: int, raw: bytes, fields: list[bytes], spec: LayoutSpec, n_fields: int
    ) -> bool:
        """Explain why a line failed the fast check. True when it is valid after all."""
        at = rules.first_control_byte(raw)
        if at is not None:
            self.log.error(
                "control_character",
                f"Line {line_no} has the control character {rules.describe_char(chr(raw[at]))} "
                f"at byte {at + 1}; INMET data lines hold only digits, ',', '-', '/', ':', "
                "spaces and ';'.",
                line_no,
            )
            return False
        if len(fields) != n_fields:
            self.log.error(
                "wrong_field_count",
                f"Line {line_no} has {len(fields)} fields separated by ';'; the header has "
                f"{n_fields}.",
                line_no,
            )
            return False
        if not spec.date_re.fullmatch(fields[0]):
            self.log.error(
                "bad_date",
                f"Line {line_no}: the date {show_bytes(fields[0])} is not "
                f"{spec.date_hint}, as layout {spec.layout} requires.",
                line_no,
            )
            return False
        if not spec.hour_re.fullmatch(fields[1]):
            self.log.error(
                "bad_hour",
                f"Line {line_no}: the hour {show_bytes(fields[1])} is not "
                f"{spec.hour_hint}, as layout {spec.layout} requires.",
                line_no,
            )
            return False
        ok = True
        for idx, token in enumerate(fields[2 : 2 + N_MEASURES]):
            if token in MISSING_TOKENS:
                continue
            measure = MEASURES[idx]
            if not NUMBER_RE.fullmatch(token):
                hint = (
                    " (INMET writes numbers with a decimal comma, e.g. 1004,3)"
                    if (b"." in token)
                    else ""
                )
                self.log.error(
                    "invalid_value",
                    f"Line {line_no}, column {idx + 3} ({measure.name}): {show_bytes(token)} "
                    f"is not a number{hint}.",
                    line_no,
                )
                ok = False
                continue
            value = float(token.replace(_COMMA, b"."))
            if not measure.low <= value <= measure.high:
                self.report.out_of_range[measure.name] = (
                    self.report.out_of_range.get(measure.name, 0) + 1
                )
                self.first_out_of_range.setdefault(measure.name, line_no)
        if ok and n_fields == 2 + N_MEASURES + 1 and fields[-1].strip():
            self.log.error(
                "wrong_field_count", f"Line {line_no} has a value after the last column.", line_no
            )
            return False
        return ok

    def _summary_warnings(self) -> None:
        rep = self.report
        if rep.rows and rep.missing_cells == rep.rows * N_MEASURES:
            self.log.warn(
                "all_missing",
                f"All {rep.rows} rows have every measure missing: the "
                "station sent no data for this period, so nothing reaches CLEAN.",
            )
        for m in MEASURES:
            count = rep.out_of_range.get(m.name)
            if count:
                self.log.warn(
                    "out_of_range",
                    f"{count} value(s) of {m.name} outside {m.low:g}…{m.high:g} {m.unit} (first "
                    f"on line {self.first_out_of_range[m.name]}); RAW keeps them, CLEAN sets "
                    "them to NULL.",
                    self.first_out_of_range[m.name],
                )
        if rep.period_start and rep.period_end:
            expected = int((rep.period_end - rep.period_start) / timedelta(hours=1)) + 1
            if expected != rep.rows:
                self.log.warn(
                    "hour_gaps",
                    f"{expected - rep.rows} hour(s) between the first and the "
                    "last row have no row; INMET files normally have one row per hour.",
                )


def _timestamp(spec: LayoutSpec, day: bytes, hour: bytes) -> datetime:
    d = spec.parse_date(day)
    return datetime(d.year, d.month, d.day, spec.parse_hour(hour), tzinfo=UTC)


def _values(fields: list[bytes]) -> tuple[float | None, ...]:
    return tuple(
        None if tok in MISSING_TOKENS else float(tok.replace(_COMMA, b"."))
        for tok in fields[2 : 2 + N_MEASURES]
    )
