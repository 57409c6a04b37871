"""Conditions a user can cause end in one line that says what and where, and a non-zero exit
code, never a traceback: no stack running, a port in use, a data dir held by another stack, a
missing file, a bad id, no Docker. (tests/integration/test_newcomer.py does the same against a
real running stack.)"""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from inmet_local.cli import app
from inmet_local.emulator.servers import free_port
from inmet_local.workspace.discovery import DataDirLock, write_state

pytestmark = [pytest.mark.unit]

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder with no setting that points anywhere."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if (
            name.startswith(("AWS_", "S3_", "SNOWFLAKE_", "INMET_"))
            or name == "MLFLOW_TRACKING_URI"
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("INMET_ENV_FILE", str(tmp_path / "no.env"))
    return tmp_path


def one_line_error(result: Result, *needles: str, code: int | None = None) -> str:
    """The command failed with a single ``error:`` line that contains every needle."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output.replace("\n", " "), result.output
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["status", "abcd1234"],
        ["fetch"],
        ["fetch", "--from", "snowflake"],
        ["local", "invoke", "UploadFunction", "-e", "EVENT"],
    ],
    ids=["status", "fetch", "fetch-snowflake", "invoke"],
)
def test_no_running_stack(workdir: Path, args: list[str]) -> None:
    event = workdir / "event.json"
    event.write_text("{}")
    args = [str(event) if a == "EVENT" else a for a in args]
    result = runner.invoke(app, args)
    one_line_error(result, "no local stack is running", "inmet local up")


def test_upload_without_a_stack_or_url(workdir: Path) -> None:
    from tests.helpers import small_file

    good = small_file("B")
    (workdir / good.filename).write_bytes(good.data)
    result = runner.invoke(app, ["upload", good.filename])
    one_line_error(result, "no local stack is running", "INMET_API_URL", code=1)


def test_a_stale_stack_json_is_not_taken_for_a_stack(workdir: Path) -> None:
    (workdir / ".local").mkdir()
    write_state(workdir / ".local", {"pid": 2**22 + 4321, "api_url": "http://127.0.0.1:1"})
    one_line_error(runner.invoke(app, ["fetch"]), "is not running any more")


def test_an_unreachable_api(workdir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    one_line_error(runner.invoke(app, ["status", "abcd", "--api-url", url]), "cannot reach", url)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_local_up_on_a_port_in_use(workdir: Path, busy_port: int) -> None:
    result = runner.invoke(app, ["local", "up", "--port", str(busy_port)])
    one_line_error(result, f"port {busy_port}", "in use", "--port", code=1)
    assert not (workdir / ".local" / "stack.json").exists()


def test_local_up_on_a_data_dir_held_by_another_stack(workdir: Path) -> None:
    from tests.helpers import small_file

    own = small_file("B")
    (workdir / own.filename).write_bytes(own.data)
    data_dir = workdir / ".local"
    lock = DataDirLock(data_dir)
    lock.acquire()  # as a running stack holds it
    try:
        write_state(data_dir, {"pid": os.getpid(), "api_url": "http://127.0.0.1:8000"})
        for command in (
            ["local", "up"],
            ["local", "run", "--upload", own.filename],  # the user's files: this data dir
            ["local", "reset", "-y"],
        ):
            port = ["--port", str(free_port())] if command[1] != "reset" else []
            result = runner.invoke(app, [*command, *port])
            one_line_error(result, "is in use by the local stack running at", f"pid {os.getpid()}")
        assert (data_dir / "stack.json").exists()  # the other stack's file is left alone
    finally:
        lock.release()


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "nope.CSV"],
        ["upload", "nope.CSV", "--api-url", "http://127.0.0.1:1"],
        ["local", "run", "--upload", "nope.CSV", "--port", "1"],
        ["local", "invoke", "UploadFunction", "-e", "nope.json"],
        ["train", "--data", "nope.csv"],
    ],
    ids=["validate", "upload", "run", "invoke", "train"],
)
def test_a_missing_file(workdir: Path, args: list[str]) -> None:
    one_line_error(runner.invoke(app, args), "nope.")


def test_local_run_refuses_to_mix_the_sample_with_real_files(workdir: Path) -> None:
    sample = runner.invoke(app, ["synth", "--stations", "1", "--out", "data/sample"])
    assert sample.exit_code == 0, sample.output
    from tests.helpers import small_file

    (workdir / "mine").mkdir()
    own = small_file("B", station=3)
    (workdir / "mine" / own.filename).write_bytes(own.data)
    result = runner.invoke(
        app, ["local", "run", "--upload", "data/sample", "mine", "--port", str(free_port())]
    )
    one_line_error(result, "mix 1 generated sample file", "1 of your own", code=2)


def _fake_docker(folder: Path, script: str) -> None:
    folder.mkdir(exist_ok=True)
    docker = folder / "docker"
    docker.write_text("#!/bin/sh\n" + script)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)


def test_compose_without_docker(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(workdir / "empty-bin"))
    result = runner.invoke(app, ["local", "compose", "up"])
    line = one_line_error(result, "docker is not installed", "inmet train", code=1)
    assert ".env" not in line  # the real obstacle first, not the passwords


def test_compose_without_the_plugin_or_the_engine(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = workdir / "bin"
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    _fake_docker(bin_dir, "echo \"unknown shorthand flag: 'f' in -f\" >&2; exit 125\n")
    result = runner.invoke(app, ["local", "compose", "up"])
    one_line_error(result, "compose plugin is missing", "unknown shorthand flag", "inmet train")
    _fake_docker(
        bin_dir,
        '[ "$1" = compose ] && { echo "Docker Compose version v2.29"; exit 0; }\n'
        'echo "Cannot connect to the Docker daemon" >&2; exit 1\n',
    )
    result = runner.invoke(app, ["local", "compose", "up"])
    one_line_error(result, "engine is not running", "Cannot connect", "MLFLOW_TRACKING_URI")


def test_reset_deletes_the_data_dir_and_the_sample_only(workdir: Path) -> None:
    (workdir / ".local" / "warehouse").mkdir(parents=True)
    (workdir / "data" / "raw").mkdir(parents=True)
    (workdir / "data" / "raw" / "mine.CSV").write_text("x")
    (workdir / "data" / "processed").mkdir(parents=True)
    (workdir / "data" / "processed" / "inmet_clean.csv").write_text("x")
    assert runner.invoke(app, ["synth", "--stations", "1"]).exit_code == 0
    assert json.loads((workdir / "data/sample/GENERATED_BY_INMET_SYNTH.json").read_text())
    refused = runner.invoke(app, ["local", "reset"], input="n\n")
    one_line_error(refused, "nothing deleted")
    assert (workdir / ".local").exists()
    result = runner.invoke(app, ["local", "reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert not (workdir / ".local").exists()
    assert not (workdir / "data" / "sample").exists()
    assert (workdir / "data" / "raw" / "mine.CSV").exists()
    assert (workdir / "data" / "processed" / "inmet_clean.csv").exists()


def test_an_unexpected_error_is_one_line_unless_debugging(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console script's last line of defence (a bug, not a user's mistake)."""
    import inmet_local.cli as cli

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("INMET_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "error: unexpected RuntimeError: a bug" in " ".join(err.split())
    assert "Traceback" not in err
    monkeypatch.setenv("INMET_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main()


def test_an_ambiguous_short_id_lists_the_candidates(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from inmet_local.client.client import ApiClient

    answer = {
        "error": {
            "code": "ambiguous_id",
            "message": "2 uploads start with 'abcd'; give more characters of the id.",
            "line": None,
            "details": [
                {"upload_id": "abcd1" + "0" * 59, "filename": "A.CSV", "status": "exported"},
                {"upload_id": "abcd2" + "0" * 59, "filename": "B.CSV", "status": "failed"},
            ],
        }
    }
    monkeypatch.setattr(ApiClient, "status", lambda _self, _id: httpx.Response(409, json=answer))
    result = runner.invoke(app, ["status", "ABCD", "--api-url", "http://127.0.0.1:1"])
    one_line_error(
        result, "HTTP 409", "2 uploads start with 'abcd'", "abcd100000000000 A.CSV", "B.CSV"
    )


def test_brackets_in_a_path_are_shown_as_they_are(workdir: Path) -> None:
    """Rich markup is not applied to what the user typed or what a file holds."""
    result = runner.invoke(app, ["validate", "[red]nope[/].CSV"])
    one_line_error(result, "[red]nope[/].CSV: no such file or folder", code=2)


def test_an_api_url_that_is_not_http(workdir: Path) -> None:
    result = runner.invoke(app, ["status", "abcd", "--api-url", "127.0.0.1:8000"])
    one_line_error(result, "must start with http:// or https://", code=2)


def test_a_data_dir_that_is_a_file(workdir: Path) -> None:
    (workdir / "taken").write_text("not a folder")
    result = runner.invoke(app, ["local", "up", "--data-dir", "taken", "--port", str(free_port())])
    one_line_error(result, "cannot use", "taken as the data dir", code=1)
