"""A newcomer's first hour, as the README tells it, in an empty working folder with no setting
exported by hand:

1. the local path: `inmet local up`, curl, `inmet upload`, `inmet status <short id>`,
   `inmet fetch` (both sources) find the running stack by themselves; a failed upload is
   retried by uploading it again; the mistakes a user can make against a running stack
   (second stack on the same data dir, port in use, unknown or short id) end in one line;
2. `make demo`'s command on an empty data/raw/, then a real file in data/raw/ and the same
   command again: the second output holds only that file, and says so.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from inmet_local.emulator.servers import free_port, port_in_use
from inmet_local.emulator.warehouse import pipe_error_message
from inmet_local.snowflake.sqlproject import variables
from inmet_local.synth.sample import MARKER
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_local.workspace.discovery import read_stack
from inmet_pipeline.columns import CLEAN_COLUMNS
from tests.oracle import expected_clean
from tests.paths import REPO_ROOT, real_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_INMET = Path(sys.executable).with_name("inmet")
INMET = [str(_INMET)] if _INMET.exists() else [sys.executable, "-m", "inmet_local"]


def clean_env() -> dict[str, str]:
    """The environment of a new shell: nothing that points at a pipeline."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "S3_", "SNOWFLAKE_", "INMET_", "MLFLOW_"))
    } | {"COLUMNS": "200"}


def inmet(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INMET, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    text = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in text, result.stderr


class LocalUp:
    """`inmet local up --port PORT` in ``cwd`` (default --data-dir .local), until stop()."""

    def __init__(self, cwd: Path, port: int) -> None:
        self.log = cwd / "up.log"
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [*INMET, "local", "up", "--port", str(port)],
            cwd=cwd,
            env=clean_env(),
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while f"ready: {self.url}" not in self.log.read_text():
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "stack not ready in 120 s"
            time.sleep(0.2)
        # The key `inmet local up` printed (issue 15: the local API requires it).
        self.key = str(json.loads((cwd / ".local" / "stack.json").read_text())["api_key"])
        assert self.key in self.log.read_text()
        self.headers = {"x-api-key": self.key}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def stack(workdir: Path) -> Iterator[LocalUp]:
    running = LocalUp(workdir, free_port())
    yield running
    running.stop()


def _wait(
    stack: LocalUp, upload_id: str, statuses: set[str], timeout: float = 120
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        doc: dict[str, object] = httpx.get(
            f"{stack.url}/uploads/{upload_id}", headers=stack.headers, timeout=10
        ).json()
        if doc.get("status") in statuses:
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.5)


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_readme_local_path_finds_the_stack_without_any_setting(
    workdir: Path, stack: LocalUp
) -> None:
    station_a, station_b = station_catalogue(2)
    files = []
    for station in (station_a, station_b):
        synth = generate_station_year(station, 2024, seed=3)
        files.append(workdir / synth.filename)
        files[-1].write_bytes(synth.data)

    # curl, as the README shows it (the port is not 8000: found, not assumed).
    if shutil.which("curl"):
        curl = subprocess.run(
            [
                "curl",
                "-sS",
                "-H",
                f"x-api-key: {stack.key}",
                "-F",
                f"file=@{files[0].name}",
                f"{stack.url}/uploads",
            ],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        first = json.loads(curl.stdout)
    else:  # pragma: no cover - curl is on every CI image we use
        first = httpx.post(
            f"{stack.url}/uploads",
            files={"file": (files[0].name, files[0].read_bytes())},
            headers=stack.headers,
        ).json()
    assert first["status"] == "received", first

    uploaded = inmet(workdir, "upload", "--json", files[1].name)
    assert uploaded.returncode == 0, uploaded.stderr + uploaded.stdout
    assert "using the local stack in .local" in uploaded.stderr
    second_id = json.loads(uploaded.stdout)[0]["upload_id"]

    for upload_id in (first["upload_id"], second_id):
        _wait(stack, upload_id, {"exported"})
    status = inmet(workdir, "status", second_id[:16])  # as long as the upload table prints it
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "exported"

    fetched = inmet(workdir, "fetch")
    assert fetched.returncode == 0, fetched.stderr + fetched.stdout
    assert "using the local stack in .local" in fetched.stderr
    assert "every partition this stack's export wrote to S3, from your uploads" in fetched.stdout
    rows = _rows(workdir / "data" / "processed" / "inmet_clean.csv")
    assert tuple(rows[0]) == CLEAN_COLUMNS
    assert len(rows) - 1 == len(expected_clean([f.read_bytes() for f in files]))
    warehouse = inmet(workdir, "fetch", "--from", "snowflake", "--out", "view.csv")
    assert warehouse.returncode == 0, warehouse.stderr + warehouse.stdout
    assert _rows(workdir / "view.csv") == rows

    # Retry: Snowflake reports the first file failed; uploading it again starts it over.
    info = read_stack(workdir / ".local")
    doc = _wait(stack, first["upload_id"], {"exported"})
    boto3.client("sns", **info.aws_client_kwargs()).publish(
        TopicArn=info.names["ErrorNotificationTopic"],
        Message=pipe_error_message(variables(), str(doc["raw_key"]), "simulated load failure"),
    )
    failed = _wait(stack, first["upload_id"], {"failed"})
    assert failed["error"] == {"code": "snowflake_load_failed", "message": "simulated load failure"}
    again = httpx.post(
        f"{stack.url}/uploads",
        files={"file": (files[0].name, files[0].read_bytes())},
        headers=stack.headers,
    )
    assert again.status_code == 201, again.text  # not 200 with the failed document
    assert again.json()["status"] == "received"
    retried = _wait(stack, first["upload_id"], {"exported", "failed"})
    assert retried["status"] == "exported"
    assert retried["error"] is None
    assert (
        httpx.post(
            f"{stack.url}/uploads",
            files={"file": (files[0].name, files[0].read_bytes())},
            headers=stack.headers,
        ).status_code
        == 200
    )  # an ordinary duplicate again

    # The mistakes a newcomer makes against a running stack: one line each, exit != 0.
    assert_one_line_error(inmet(workdir, "status", "zzzz"), "HTTP 404", "No upload with id")
    assert_one_line_error(inmet(workdir, "status", "abc"), "HTTP 404")
    second = inmet(workdir, "local", "up", "--port", str(free_port()))
    assert_one_line_error(second, "/.local is in use by the local stack running at", stack.url)
    port = int(stack.url.rsplit(":", 1)[1])
    other = inmet(workdir, "local", "up", "--port", str(port), "--data-dir", "other")
    assert_one_line_error(other, f"port {port} on 127.0.0.1 is in use")
    assert_one_line_error(inmet(workdir, "local", "reset", "--yes"), "is in use")

    stack.stop()
    assert not port_in_use(port)
    assert_one_line_error(inmet(workdir, "fetch"), "no local stack is running", "S3_BUCKET")
    reset = inmet(workdir, "local", "reset", "--yes")
    assert reset.returncode == 0, reset.stderr
    assert not (workdir / ".local").exists()


def _demo_command() -> list[str]:
    """`make demo`'s recipe, read from the Makefile (so this test runs what it runs)."""
    text = (REPO_ROOT / "Makefile").read_text()
    recipe = re.search(r"^demo:.*\n\t(.+)$", text, re.MULTILINE)
    assert recipe, "no demo target in the Makefile"
    # Make's conditionals (`$(if $(PORT),--port $(PORT))`) add nothing when the variable is unset.
    command = re.sub(r"\$\(if [^()]*(\([^()]*\)[^()]*)*\)", "", recipe.group(1))
    words = shlex.split(command)
    assert words[0] == "$(INMET)", words
    assert not [w for w in words[1:] if "$(" in w], words
    return words[1:]


def test_demo_then_a_real_file_outputs_only_what_was_asked(workdir: Path, real_dir: Path) -> None:
    demo = _demo_command()
    assert demo == ["local", "run", "--upload"]
    first = inmet(workdir, *demo, "--port", str(free_port()), timeout=600)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert not (workdir / "data" / "raw").exists() or not any((workdir / "data" / "raw").iterdir())
    assert (workdir / "data" / "sample" / MARKER).exists()
    assert "input: 8 generated sample file(s)" in first.stdout
    assert "the generated sample (8 file(s) exported; not real data" in first.stdout
    sample_csv = workdir / "data" / "sample" / "inmet_clean.csv"
    sample_rows = _rows(sample_csv)
    assert len(sample_rows) > 60_000
    assert not (workdir / "data" / "processed" / "inmet_clean.csv").exists()

    real = real_file(real_dir, "INMET_CO_DF_A001_BRASILIA_01-01-2024")  # a station the sample has
    (workdir / "data" / "raw").mkdir(parents=True, exist_ok=True)
    shutil.copy(real, workdir / "data" / "raw" / real.name)
    second = inmet(workdir, *demo, "--port", str(free_port()), timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    out = " ".join(second.stdout.split())
    assert "input: 1 file(s) of yours from data/raw" in out
    assert "1 accepted, 0 duplicate, 0 rejected, 0 failed" in out
    expected = expected_clean([real.read_bytes()])
    assert (
        f"output: data/processed/inmet_clean.csv: {len(expected):,} rows, 1 station-year(s), "
        "every station-year exported on .local, 1 of them from this run's files; no generated "
        "data" in out
    )
    # The daily values beside it: the real file's local days (and the 31 December before it).
    assert "output: data/processed/inmet_daily.csv: " in out
    daily = _rows(workdir / "data" / "processed" / "inmet_daily.csv")
    assert daily[0][:2] == ["station_id", "local_date"]
    assert {r[0] for r in daily[1:]} == {"A001"}
    assert daily[1][1] == "2023-12-31"
    assert daily[-1][1] == "2024-12-31"
    rows = _rows(workdir / "data" / "processed" / "inmet_clean.csv")
    assert len(rows) - 1 == len(expected)
    assert {r[0] for r in rows[1:]} == {"A001"}
    # The user's warehouse never saw the sample: CLEAN is exactly the real file.
    assert f"{len(expected):,} in CLEAN" in out
    assert _rows(sample_csv) == sample_rows  # the sample's output is left as it was


def test_a_warehouse_held_by_another_process_is_one_line(workdir: Path) -> None:
    """Not a stack but, say, a notebook with the warehouse file open: fakesnow cannot open
    it, and the cause (only in fakesnow.log before) is the one line the user reads."""
    import duckdb

    (workdir / ".local" / "warehouse").mkdir(parents=True)
    holder = duckdb.connect(str(workdir / ".local" / "warehouse" / "INMET.db"))
    try:
        result = inmet(workdir, "local", "up", "--port", str(free_port()))
    finally:
        holder.close()
    assert_one_line_error(
        result, "/.local/warehouse is locked by another process", f"pid {os.getpid()}"
    )
    assert not (workdir / ".local" / "stack.json").exists()


def test_an_old_demo_sample_is_named_never_mixed_silently(workdir: Path) -> None:
    """Upgrading: an older `make demo` wrote the sample into data/raw/ and loaded it into the
    user's warehouse. The next run leaves those files out and says that the warehouse holds
    them, with the way to start over."""
    from inmet_local.synth.sample import SAMPLE_SPEC
    from inmet_local.synth.synth import generate_archive

    raw = workdir / "data" / "raw"
    for stations, year in SAMPLE_SPEC:  # byte for byte what the old demo wrote
        list(generate_archive(raw, stations=stations, year=year, seed=0))
    # What the old demo did: those files uploaded into .local as if they were the user's.
    old = inmet(workdir, "local", "run", "--upload", "data/raw", "--port", str(free_port()))
    assert old.returncode == 0, old.stdout[-3000:] + old.stderr[-3000:]
    # The older version kept no bucket and no statuses (moto lived in memory): only CLEAN.
    shutil.rmtree(workdir / ".local" / "aws")

    own = generate_station_year(station_catalogue(12)[11], 2023, seed=5)
    (raw / own.filename).write_bytes(own.data)
    run = inmet(workdir, "local", "run", "--upload", "--port", str(free_port()), timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = " ".join(run.stdout.split())
    assert "note: 8 file(s) in data/raw/ are the generated sample an older `make demo`" in out
    assert "input: 1 file(s) of yours" in out
    assert "holds 8 generated sample file(s) an older `make demo` loaded there" in out
    assert "`inmet local reset` starts over" in out
    rows = _rows(workdir / "data" / "processed" / "inmet_clean.csv")
    assert {r[0] for r in rows[1:]} == {own.station.station_id}
