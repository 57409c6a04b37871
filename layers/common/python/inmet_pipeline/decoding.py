"""From bytes to lines: what is not text, which encoding, bounded line reading, UTF-8 output.

Split from reader.py (issue 16). The facts (binary signatures, encodings, the BOM) are in
``inmet_format``; this module applies them (docs/inmet-format.md §6, §8).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO, Final

from inmet_pipeline.inmet_format import (
    BINARY_SIGNATURES,
    LATIN1,
    LINE_END,
    UTF8,
    UTF8_BOM,
    Encoding,
)

MAX_LINE_BYTES: Final = 4096  # real lines are ~100 bytes (data) and ~730 bytes (header)
SNIFF_BYTES: Final = 8192


def sniff_binary(head: bytes) -> str | None:
    """Describe ``head`` when it is not text (an archive, an image, …); None for text."""
    for magic, what in BINARY_SIGNATURES:
        if head.startswith(magic):
            return what
    if b"\x00" in head:
        return "binary data (it contains NUL bytes)"
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D, 0x0C))
    if head and controls * 100 > len(head):
        return "binary data (it contains control bytes)"
    return None


def detect_encoding(preamble: list[bytes]) -> Encoding:
    """Strict UTF-8 if the preamble decodes so, else ISO-8859-1 (which decodes anything)."""
    try:
        b"\n".join(preamble).decode(UTF8)
    except UnicodeDecodeError:
        return LATIN1
    return UTF8


# A UTF-8 lead byte followed by a continuation byte, as ISO-8859-1 shows them ("Ã§" is the
# UTF-8 "ç" read as Latin-1). Portuguese written in Latin-1 has no such pair.
_UTF8_PAIR_AS_LATIN1: Final = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")


def utf8_read_as_latin1(text: str) -> str | None:
    """The text ``text`` spells when its characters, read from an ISO-8859-1 file, are UTF-8
    bytes (mojibake: "FOZ DO IGUAÃ§U" is "FOZ DO IGUAÇU"); None when they are not."""
    if not _UTF8_PAIR_AS_LATIN1.search(text):
        return None
    try:
        spelt = text.encode(LATIN1).decode(UTF8)
    except UnicodeError:  # a character beyond Latin-1, or bytes that are not UTF-8
        return None
    return spelt if spelt != text else None


def normalise_to_utf8(data: bytes, encoding: Encoding) -> bytes:
    """The same lines as UTF-8 with LF line ends, no BOM and no trailing blank lines.

    This is what goes to ``raw/`` so the pipe's file format never has to guess an encoding.
    """
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    elif encoding == LATIN1 and text.startswith(UTF8_BOM.decode(LATIN1)):
        text = text[3:]
    text = text.replace("\r\n", LINE_END).rstrip("\r\n \t") + LINE_END
    return text.encode(UTF8)


def as_stream(source: bytes | bytearray | memoryview | BinaryIO) -> BinaryIO:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    return source


class ChainStream(io.RawIOBase):
    """``head`` followed by the rest of ``stream``, readable line by line."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        # A view: the head can be a whole block (up to blockscan.MAX_BLOCK_BYTES) that the
        # block path handed back, and slicing bytes would copy the rest on every read.
        self._head = memoryview(head)
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


class Lines:
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


def rest_has_text(lines: Iterator[tuple[bytes, bool]]) -> bool:
    return any(raw.strip() for raw, _ in lines)
