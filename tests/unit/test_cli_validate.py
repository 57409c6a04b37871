"""`inmet validate`, `inmet synth` and `inmet demo` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inmet_local.cli import app
from tests.helpers import small_file, zip_bytes

pytestmark = [pytest.mark.unit]

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    good = small_file("B")
    (tmp_path / good.filename).write_bytes(good.data)
    (tmp_path / "sub").mkdir()
    other = small_file("A", station=2)
    (tmp_path / "sub" / other.filename.lower()).write_bytes(other.data)
    (tmp_path / "notes.txt").write_text("not a station file")
    return tmp_path


def test_validate_folder_prints_a_table_and_exits_0(folder: Path) -> None:
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "A001 BRASILIA" in result.output
    assert "A807 CURITIBA" in result.output
    assert "2 of 2 file(s) valid" in result.output
    # Not validated, but named: nothing in a folder is passed over without a word.
    assert "skipped 1 file(s) that are not station files" in result.output
    assert "notes.txt (not a .csv: INMET station files end in .CSV)" in result.output
    assert "notes.txt" not in result.stdout.split("INMET files", 1)[1]  # no row in the table


def test_validate_json_for_scripts(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    bad = tmp_path_factory.mktemp("elsewhere") / "broken.CSV"
    bad.write_bytes(b"REGIAO:;CO\nnothing else\n")
    result = runner.invoke(app, ["validate", "--json", str(folder), str(bad)])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [item["valid"] for item in payload] == [True, True, False]
    first = payload[0]
    assert {"path", "valid", "station_id", "rows", "errors", "warnings"} <= set(first)
    assert first["station_id"] == "A001"
    assert first["rows"] == 48
    assert payload[2]["errors"] == [
        {"code": "too_short", "message": payload[2]["errors"][0]["message"], "line": None}
    ]


def test_validate_zip_archive_member_by_member(tmp_path: Path) -> None:
    a, b = small_file("B"), small_file("B", station=1)
    archive = tmp_path / "2024.zip"
    archive.write_bytes(
        zip_bytes(
            {
                f"2024/{a.filename}": a.data,
                f"2024/{b.filename}": b.data,
                "__MACOSX/._junk.CSV": b"\x00\x01",
            }
        )
    )
    result = runner.invoke(app, ["validate", "--json", str(archive)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert sorted(item["station_id"] for item in payload) == ["A001", "A101"]
    assert payload[0]["path"].startswith(str(archive) + ":2024/")


def test_invalid_file_shows_code_line_and_message(tmp_path: Path) -> None:
    data = small_file("B").data.replace(b"2024/01/01;0500 UTC", b"2024/01/01;0560 UTC")
    path = tmp_path / "bad.CSV"
    path.write_bytes(data)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "bad_hour Line 15: the hour '0560 UTC'" in result.output
    assert result.output.lower().count("line 15") == 1  # said once, not "line 15: Line 15:"
    assert "0 of 1 file(s) valid" in result.output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_folder_without_station_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no .csv files" in result.output


def test_synth_writes_valid_files(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "synth",
            "--out",
            str(tmp_path),
            "--stations",
            "2",
            "--year",
            "2012",
            "--layout",
            "A",
            "--seed",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("*.CSV"))
    assert len(files) == 2
    assert all("_01-01-2012_A_31-12-2012.CSV" in f.name for f in files)
    check = runner.invoke(app, ["validate", "--json", str(tmp_path)])
    assert check.exit_code == 0
    assert {item["layout"] for item in json.loads(check.stdout)} == {"A"}


def test_synth_rejects_a_bad_layout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--out", str(tmp_path), "--layout", "C"])
    assert result.exit_code == 2
    assert "--layout must be A or B" in result.output


def test_issue_text_says_the_line_once() -> None:
    from inmet_local.ops.text import issue_text

    assert issue_text("bad_hour", "Line 17: the hour …", 17) == "bad_hour Line 17: the hour …"
    assert (
        issue_text("too_short", "The file is short.", 3) == "too_short line 3: The file is short."
    )
    assert issue_text("x", "Line 2 is blank.", 9) == "x line 9: Line 2 is blank."
    assert issue_text(None, "no line", None) == "no line"


def test_file_names_are_not_cut_in_80_columns(tmp_path: Path) -> None:
    good = small_file("B")
    (tmp_path / good.filename).write_bytes(good.data)
    result = CliRunner().invoke(app, ["validate", str(tmp_path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = "".join(ch for ch in result.output if ch.isalnum() or ch in "_-.")
    assert good.filename.replace(" ", "") in text  # wrapped, never cut at the year


def test_status_help_shows_only_the_states_users_see() -> None:
    result = runner.invoke(app, ["status", "--help"])
    assert "received → exported, or failed" in result.output
    assert "cleaned" not in result.output
