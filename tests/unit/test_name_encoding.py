"""A UTF-8 station name inside an ISO-8859-1 file (docs/inmet-format.md §6): the reader reads
the file as Latin-1 (its keys are Latin-1) and the name as mojibake ("FOZ DO IGUAÃ§U"); the
upload warns with the name the bytes spell. A Latin-1 name and a UTF-8 file give no warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from inmet_pipeline.decoding import utf8_read_as_latin1
from inmet_pipeline.reader import validate
from tests.helpers import join, lines_of, small_file

pytestmark = [pytest.mark.unit]


def _with_name(name_bytes: bytes, encoding: str = "latin-1") -> bytes:
    lines = lines_of(small_file("B", encoding=encoding).data)
    key = lines[2].split(b";", 1)[0]
    lines[2] = key + b";" + name_bytes
    return join(lines)


def test_a_utf8_name_in_a_latin1_file_is_warned_about() -> None:
    report = validate(_with_name("FOZ DO IGUAçU".encode()))
    assert report.valid, report.errors
    assert report.encoding == "latin-1"
    assert report.station is not None
    assert report.station.station_name == "FOZ DO IGUAÃ\xa7U"  # as read, and as CLEAN keeps it
    warning = next(w for w in report.warnings if w.code == "name_encoding")
    assert warning.line == 3
    assert "FOZ DO IGUAçU" in warning.message


def test_an_upper_case_utf8_letter_in_a_latin1_file_is_refused_already() -> None:
    """'Ç' in UTF-8 is C3 87; read as Latin-1 that is 'Ã' and the C1 control U+0087, which no
    metadata value may hold (inmet_pipeline.rules)."""
    report = validate(_with_name("FOZ DO IGUAÇU".encode()))
    assert not report.valid
    assert report.errors[0].line == 3


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("SÃO GONÇALO", "latin-1"),  # Latin-1 bytes for Latin-1 text: right
        ("SÃO GONÇALO", "utf-8"),  # a UTF-8 file: read as UTF-8, right
        ("BRASILIA", "latin-1"),
        ("MACAÉ", "latin-1"),
    ],
)
def test_a_name_in_the_file_s_own_encoding_is_not_warned_about(name: str, encoding: str) -> None:
    report = validate(_with_name(name.encode(encoding), encoding))
    assert report.valid, report.errors
    assert report.station is not None
    assert report.station.station_name == name
    assert "name_encoding" not in {w.code for w in report.warnings}


def test_the_detection() -> None:
    assert utf8_read_as_latin1("FOZ DO IGUAÃ§U") == "FOZ DO IGUAçU"
    assert utf8_read_as_latin1("SÃ\x83O PAULO") == "SÃO PAULO"
    assert utf8_read_as_latin1("SÃO PAULO") is None  # Ã then O: not a UTF-8 sequence
    assert utf8_read_as_latin1("BRASILIA") is None
    assert utf8_read_as_latin1("Ã") is None


@pytest.mark.real_data
def test_no_real_file_is_warned_about(real_dir: Path) -> None:
    """Curitiba 2004's double-encoded header is the header, not the name: no warning."""
    files = sorted(real_dir.rglob("*.CSV"))
    assert files
    for path in files:
        report = validate(path.read_bytes())
        assert "name_encoding" not in {w.code for w in report.warnings}, path.name
