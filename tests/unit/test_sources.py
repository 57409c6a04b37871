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


def test_what_a_folder_or_an_archive_holds_besides_station_files_is_listed(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    good = small_file("B")
    (folder / good.filename).write_bytes(good.data)
    (folder / "notes.txt").write_text("not a station file")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "GENERATED_BY_INMET_SYNTH.json").write_text("{}")
    with zipfile.ZipFile(folder / "year.zip", "w") as zf:
        zf.writestr("2024/" + good.filename, good.data)
        zf.writestr("2024/leia-me.pdf", b"%PDF")
        zf.writestr("__MACOSX/2024/._x.CSV", b"")
    skipped: list[tuple[str, str]] = []
    files = list(
        iter_input_files([folder], skipped=lambda where, why: skipped.append((where, why)))
    )
    assert sorted(f.name for f in files) == [good.filename, good.filename]
    reasons = {Path(where.split(":")[-1]).name: why for where, why in skipped}
    assert reasons["notes.txt"] == "not a .csv: INMET station files end in .CSV"
    assert reasons["leia-me.pdf"] == "not a .csv: INMET station files end in .CSV"
    assert reasons[".DS_Store"] == "a hidden file"
    assert reasons["._x.CSV"] == "macOS archive metadata"

    result = CliRunner().invoke(app, ["validate", str(folder)], env={"COLUMNS": "200"})
    assert "skipped 4 file(s) that are not station files" in result.output
    assert "notes.txt (not a .csv" in result.output
    assert "GENERATED_BY_INMET_SYNTH.json" not in result.output  # the sample's marker is no file
