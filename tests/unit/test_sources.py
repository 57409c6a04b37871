"""The CLI reads bounded input (issue 15, point 8): zip members over the upload limit are
refused before they are read, member counts are capped."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.workspace.sources import MAX_MEMBERS, SourceError, iter_input_files
from inmet_pipeline.limits import MAX_UPLOAD_BYTES
from tests.helpers import small_file

pytestmark = [pytest.mark.unit]


def _bomb(path: Path, size: int) -> Path:
    """A small zip holding one station-named member of ``size`` zero bytes, and a good one."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("INMET_CO_DF_A001_BIG_01-01-2024_A_31-12-2024.CSV", "w") as member:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
        zf.writestr("INMET_CO_DF_A001_OK_01-01-2024_A_31-12-2024.CSV", small_file("B").data)
    return path


def test_a_member_over_the_upload_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", 256 << 20)  # 256 MiB of zeros in a ~1 MB zip
    assert bomb.stat().st_size < 2 << 20
    big, good = sorted(iter_input_files([bomb]), key=lambda f: f.size, reverse=True)
    tracemalloc.start()
    with pytest.raises(OSError, match="over the upload limit"):
        big.read()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < MAX_UPLOAD_BYTES  # nothing of it was inflated
    assert good.read() == small_file("B").data


def test_validate_reports_the_oversized_member_and_checks_the_rest(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", 8 << 20)
    result = CliRunner().invoke(app, ["validate", "--json", str(bomb)])
    assert result.exit_code == 1, result.output
    assert '"unreadable"' in result.output
    assert result.output.count('"valid": true') == 1


def test_an_archive_with_too_many_members_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(MAX_MEMBERS + 1):
            zf.writestr(f"m{i}.csv", b"")
    with pytest.raises(SourceError, match="members"):
        list(iter_input_files([path]))
