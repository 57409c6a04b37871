"""Read and validate INMET yearly-archive station files (layouts A and B): the public entry.

The format is described byte by byte in docs/inmet-format.md and stated once, as code, in
``inmet_pipeline.inmet_format``. In short: 8 metadata lines (``KEY:;VALUE``, three key
spellings), a header line (layout A ``DATA (YYYY-MM-DD);HORA (UTC);…`` with ``-9999`` for
missing, or layout B ``Data;Hora UTC;…`` with empty fields), then one line per hour with 19
``;``-separated columns and a trailing ``;``.

Design:
- One pass over the bytes, line by line, never holding the rows: ``validate`` keeps counters only,
  ``read_observations`` yields one row at a time.
- The encoding is decided on the 9 preamble lines (strict UTF-8 first, then ISO-8859-1): data
  lines are pure ASCII in every INMET file, so anything else there is an error anyway.
- Errors carry a stable ``code``, a plain message and the 1-based line. Scanning stops after
  ``max_errors`` errors so a huge broken file is rejected fast. No input makes it raise.

The reader is split by what each part is (issue 16); this module only runs them in order:

- ``inmet_format``: the format facts (layouts, labels, metadata spellings, file name, …);
- ``report``: the report types (``Issue``, ``StationMeta``, ``ValidationReport``, …);
- ``decoding``: binary sniffing, the encoding, bounded line reading, ``normalise_to_utf8``;
- ``preamble``: other layouts, the 8 metadata lines, the header line, the file name;
- ``line_scanner``: the data-row loop and its fast path (the part that sets the speed).

The names other modules import from here (``validate``, ``read_observations``,
``normalise_to_utf8``, ``ValidationReport``, ``Issue``, ``DEFAULT_MAX_ERRORS``, …) stay here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from inmet_pipeline import blockscan, rules
from inmet_pipeline.blockscan import MAX_BLOCK_BYTES
from inmet_pipeline.decoding import (
    MAX_LINE_BYTES,
    SNIFF_BYTES,
    ChainStream,
    Lines,
    as_stream,
    detect_encoding,
    normalise_to_utf8,
    rest_has_text,
    sniff_binary,
)
from inmet_pipeline.inmet_format import (
    HEADER_LINE,
    UTF8_BOM,
)
from inmet_pipeline.line_scanner import MAX_LINES, RowScanner, in_range_token_pattern
from inmet_pipeline.preamble import PreambleChecker
from inmet_pipeline.report import (
    DEFAULT_MAX_ERRORS,
    ErrorLimitReachedError,
    InmetFormatError,
    Issue,
    IssueLog,
    Observation,
    ValidationReport,
)

__all__ = [
    "DEFAULT_MAX_ERRORS",
    "HEADER_LINE",
    "MAX_LINES",
    "MAX_LINE_BYTES",
    "InmetFormatError",
    "Issue",
    "Observation",
    "ValidationReport",
    "in_range_token_pattern",
    "normalise_to_utf8",
    "read_observations",
    "sniff_binary",
    "validate",
]


class _Scanner:
    """One pass over one file: sniff, preamble, then the rows (``line_scanner``)."""

    def __init__(
        self,
        source: bytes | bytearray | memoryview | BinaryIO,
        filename: str | None,
        max_errors: int,
    ) -> None:
        self.stream = as_stream(source)
        self.report = ValidationReport(filename=filename)
        self.log = IssueLog(self.report, max_errors)
        self.lines: Lines | None = None

    def run(self, want_values: bool) -> Iterator[Observation]:
        try:
            yield from self._scan(want_values)
        except ErrorLimitReachedError:
            return
        finally:
            if self.lines is not None:
                self.report.size_bytes = self.lines.bytes_read

    def _scan(self, want_values: bool) -> Iterator[Observation]:
        rep = self.report
        stream = self.stream
        if stream.seekable():
            start = stream.tell()
            head = stream.read(SNIFF_BYTES)
            stream.seek(start)
        else:
            head = stream.read(SNIFF_BYTES)
            stream = io.BufferedReader(ChainStream(head, stream), buffer_size=65536)
        if head.startswith(UTF8_BOM):
            rep.has_bom = True
        binary = sniff_binary(head[len(UTF8_BOM) :] if rep.has_bom else head)
        if binary is not None:
            self.log.error("binary_file", f"This is not a text file: it looks like {binary}.", None)
            return
        self.lines = read = Lines(stream)
        lines = iter(read)
        preamble: list[bytes] = []
        for raw, too_long in lines:
            n = len(preamble) + 1
            if n == 1 and rep.has_bom:
                raw = raw[len(UTF8_BOM) :]
            if too_long:
                self.log.error(
                    "line_too_long",
                    f"Line {n} is longer than {MAX_LINE_BYTES} bytes; "
                    "INMET lines are about 100 bytes.",
                    n,
                )
                return
            preamble.append(raw)
            if n == HEADER_LINE:
                break
        if not any(p.strip() for p in preamble) and not rest_has_text(lines):
            self.log.error("empty_file", "The file is empty (or only whitespace).", None)
            return
        preamble_checker = PreambleChecker(self.log)
        if not preamble_checker.check_other_layouts(preamble):
            return
        if len(preamble) < HEADER_LINE:
            self.log.error(
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
                self.log.error(
                    "control_character",
                    f"Line {n} has the control character {rules.describe_char(chr(line[at]))} at "
                    f"byte {at + 1}; INMET files have none (a tab or NUL usually means the file "
                    "was edited or damaged).",
                    n,
                )
                controls = True
        if controls:
            return
        rep.encoding = detect_encoding(preamble)
        text = [p.decode(rep.encoding) for p in preamble]
        station = preamble_checker.parse_metadata(text)
        spec, trailing, n_fields = preamble_checker.parse_header(text[HEADER_LINE - 1])
        if station is None or spec is None:
            return
        rep.station = station
        rep.layout = spec.layout
        preamble_checker.check_filename(station)
        rows = RowScanner(self.log)
        if not want_values and blockscan.ENABLED:
            # The fast path: the rest of the file as one block (inmet_pipeline.blockscan). A
            # block it cannot vouch for is scanned line by line, from the same bytes.
            block = stream.read(MAX_BLOCK_BYTES + 1)
            if rows.scan_block(block, spec, trailing):
                read.bytes_read += len(block)
                return
            chained = Lines(io.BufferedReader(ChainStream(block, stream), buffer_size=65536))
            chained.bytes_read = read.bytes_read
            self.lines = chained
            lines = iter(chained)
        yield from rows.scan(lines, spec, trailing, n_fields, want_values)


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
