"""The validator's fast path: a file's data lines checked as one block.

The line-by-line scanner (``inmet_pipeline.reader``) spends ~4.5 µs of Python per data line: a
read, the line expression, a split, comparisons and counts. A station-year has 8,784 lines, and
the upload function validates every line of every file (issue 17 measured 18–22 MB/s, ~19 s of
CPU for a year of 564 stations). Here the same checks run over the whole block with C-level
calls and no Python code per line:

- the scanner's own line expression (``line_scanner._FAST_RE``: a well-formed line whose values
  are all inside their physical range), repeated over the whole block in one ``fullmatch``;
- hours strictly increasing by comparing the list of line keys with itself shifted by one;
- each *distinct* date checked once (a real calendar date, one year);
- missing values counted on the block: ``-9999`` tokens with ``bytes.count``, empty fields as
  adjacent separators.

It decides only the common case: a block it cannot vouch for in every respect (a blank line, a
value out of range, anything the expression refuses) returns ``None``, and the scanner reads the
same bytes line by line, producing the exact error or warning with its line number. So this
module never explains anything and may be conservative, but it must never accept a block the
scanner refuses, and when it accepts, its counts must be the scanner's.
``tests/unit/test_blockscan.py`` holds it to both on generated, real, crafted and
hypothesis-made files (a differential test of the two paths).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import islice, repeat
from operator import getitem, lt
from typing import Final, cast

from inmet_pipeline.columns import N_MEASURES
from inmet_pipeline.inmet_format import MISSING_TOKENS

_MISSING_TOKEN: Final = MISSING_TOKENS[1]  # -9999 (layout A); layout B leaves the field empty
# Blocks larger than this are read line by line (an upload is at most 4 MiB; the CLI's
# validator may meet larger files, which the scanner reads without holding them).
MAX_BLOCK_BYTES: Final = 16 << 20
_DATE_WIDTH: Final = 10  # YYYY-MM-DD or YYYY/MM/DD, once the line expression accepted it
# The reader takes this path while it is on; ``switched_off`` turns it off for the comparisons
# of the two paths (tests/unit/test_blockscan.py, benchmarks/bench_validate.py and
# bench_peers.py --before).
ENABLED = True


@contextmanager
def switched_off() -> Iterator[None]:
    """Validation without this path: every line through the scanner."""
    global ENABLED
    previous, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = previous


@dataclass(frozen=True, slots=True)
class BlockSummary:
    """What the scanner's counters hold after reading the same block line by line. Values out
    of range never reach here (the line expression refuses them), so there are none to count."""

    rows: int
    missing_cells: int
    all_missing_rows: int
    first_date: bytes
    first_hour: bytes
    last_date: bytes
    last_hour: bytes


def _slices(items: list[bytes], part: slice) -> list[bytes]:
    """``[item[part] for item in items]`` without a Python step per item."""
    return cast("list[bytes]", list(map(getitem, items, repeat(part))))


def block_expression(line_re: re.Pattern[bytes]) -> re.Pattern[bytes]:
    """Every line of a block (joined by LF, no final LF) matching ``line_re``, as one expression.

    The repetition is possessive (``*+``): a line cannot hold a line end, so where one line
    ends is fixed and nothing is gained by backtracking over earlier lines; without it, ``re``
    keeps a backtracking point per line and runs 4x slower than matching line by line. With it,
    one ``fullmatch`` over the block is ~20% faster than ``map(fullmatch, lines)``.
    """
    return re.compile(rb"(?:" + line_re.pattern + rb"\n)*+" + line_re.pattern)


def scan_block(
    block: bytes,
    *,
    first_line: int,
    max_lines: int,
    max_line_bytes: int,
    trailing: bool,
    block_re: re.Pattern[bytes],
    parse_date: Callable[[bytes], date],
    year_ok: Callable[[int], bool],
) -> BlockSummary | None:
    """Check the data lines in ``block`` (everything after the header line; ``first_line`` is
    the number of its first line) against ``block_re`` (``block_expression`` of the scanner's
    expression for a plainly valid line of this layout). ``None`` when the block is not plainly
    valid: the caller then scans it line by line."""
    if len(block) > MAX_BLOCK_BYTES or not block:
        return None
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
        if b"\r" in block:
            return None
    # A file of many tiny lines is refused before it is split into objects (the count of line
    # ends never exceeds the lines the scanner would number, so this stays conservative).
    if first_line + block.count(b"\n") - 1 > max_lines:
        return None
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the last line end does not start a line
    if first_line + len(lines) - 1 > max_lines:
        return None
    # Trailing blank lines are allowed (the scanner ignores them); any other blank line fails
    # the line expression below.
    while lines and not lines[-1].strip(b" "):
        lines.pop()
    if not lines or max(map(len, lines)) > max_line_bytes:
        return None
    body = b"\n".join(lines)
    if not block_re.fullmatch(body):
        return None

    # The expression fixes the width of "date;hour", so the keys order as the hours do.
    key_width = lines[0].index(b";", _DATE_WIDTH + 1)
    keys = _slices(lines, slice(0, key_width))
    if not all(cast("Iterator[bool]", map(lt, keys, islice(keys, 1, None)))):
        return None  # a repeated hour, or one back in time
    dates = set(_slices(keys, slice(0, _DATE_WIDTH)))
    for token in dates:
        try:
            parse_date(token)
        except ValueError:
            return None
    if len({token[:4] for token in dates}) != 1 or not year_ok(int(keys[0][:4])):
        return None

    # Missing values. Every accepted token is "-9999", empty, or an in-range number (which
    # never contains "-9999"); the date and hour never hold "-9999" or an empty field.
    sentinels = body.count(_MISSING_TOKEN)
    # An empty field between two separators is a pair of adjacent ';', to be counted
    # overlapping. Replacing ';;' with ';x;' (one byte more each) leaves runs of at most two
    # ';', whose pairs then no longer overlap. Without a trailing ';', an empty last measure
    # ends its line with ';'. With one, the trailing field is not a measure.
    once = body.replace(b";;", b";x;")
    empty = len(once) - len(body) + once.count(b";;")
    if not trailing:
        empty += body.count(b";\n") + body.endswith(b";")
    missing = sentinels + empty
    all_missing = 0
    if missing >= N_MEASURES:
        # A row whose values, with every -9999 taken out, are separators only.
        target = b";" * (N_MEASURES - 1 + (1 if trailing else 0))
        tails = _slices(lines, slice(key_width + 1, None))
        stripped = map(bytes.replace, tails, repeat(_MISSING_TOKEN), repeat(b""))
        all_missing = list(stripped).count(target)
    return BlockSummary(
        rows=len(lines),
        missing_cells=missing,
        all_missing_rows=all_missing,
        first_date=keys[0][:_DATE_WIDTH],
        first_hour=keys[0][_DATE_WIDTH + 1 :],
        last_date=keys[-1][:_DATE_WIDTH],
        last_hour=keys[-1][_DATE_WIDTH + 1 :],
    )
