"""The README's step-by-step local path, run as a user copies it: its two shell blocks, line by
line, in a fresh bash with nothing exported, in an empty folder whose `.venv` is this project's.

Only the placeholders a user replaces are replaced: `KEY=…` (the key `inmet local up` printed),
the upload id prefix `3f2a9c1b` (one `inmet upload` printed) and the port of
`http://127.0.0.1:8000` (another program may hold 8000: the stack then says which port it took).
The file the curl line names is written by the sample generator under that very name.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline.columns import CLEAN_COLUMNS
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECTION = "## The local path, step by step"


def readme_blocks() -> list[list[str]]:
    """The ```bash blocks of the README's local-path section, as lines without comments."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2, f"expected the two shell blocks of {SECTION!r}, found {len(blocks)}"
    out = []
    for block in blocks:
        joined = block.replace("\\\n", " ")  # continued lines
        lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines()]
        out.append([line for line in lines if line])
    return out


def fresh_env() -> dict[str, str]:
    """A new shell's environment: nothing that points at a pipeline or a virtualenv."""
    keep = {"HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SHELL"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env["COLUMNS"] = "200"
    return env


def bash(workdir: Path, lines: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    script = "set -e\n" + "\n".join(lines) + "\n"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        env=fresh_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_readme_local_path_runs_as_written(tmp_path: Path) -> None:
    first, second = readme_blocks()
    assert first[0] == second[0] == "source .venv/bin/activate"
    assert first[-1] == "inmet local up"
    workdir = tmp_path / "work"
    (workdir / "data" / "raw").mkdir(parents=True)
    (workdir / ".venv").symlink_to(Path(sys.executable).parent.parent)

    # The files the commands name: the curl line's, and one in data/raw/ for `inmet upload`.
    curl_file = re.search(r"file=@(\S+)", " ".join(second))
    assert curl_file, second
    brasilia, curitiba = (s for s in station_catalogue(8) if s.station_id in ("A001", "A807"))
    named = generate_station_year(brasilia, 2024, seed=5)
    assert named.filename == curl_file.group(1)
    (workdir / named.filename).write_bytes(named.data)
    other = generate_station_year(curitiba, 2024, seed=5)
    (workdir / "data" / "raw" / other.filename).write_bytes(other.data)

    # Block 1: everything but its last line, then the stack in its own terminal.
    help_run = bash(workdir, first[:-1])
    assert help_run.returncode == 0, help_run.stderr
    assert "Usage: inmet" in help_run.stdout
    log = workdir / "terminal1.log"
    terminal1 = subprocess.Popen(
        ["bash", "-c", "\n".join(first)],
        cwd=workdir,
        env=fresh_env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not (ready := re.search(r"ready: (http://127\.0\.0\.1:\d+)", log.read_text())):
            assert terminal1.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the stack was not ready in 180 s"
            time.sleep(0.3)
        url = ready.group(1)
        key = str(json.loads((workdir / ".local" / "stack.json").read_text())["api_key"])
        assert key in log.read_text()  # "the API key terminal 1 printed"

        # Block 2, with the placeholders filled in as a user would.
        lines = [line.replace("http://127.0.0.1:8000", url) for line in second]
        lines = [f"KEY={key}" if line.startswith("KEY=") else line for line in lines]
        status_at = next(i for i, line in enumerate(lines) if line.startswith("inmet status"))
        before = bash(workdir, lines[:status_at])
        assert before.returncode == 0, before.stdout + before.stderr
        assert '"status":"received"' in before.stdout.replace(" ", "")  # curl's answer
        assert "1 accepted" in before.stdout  # inmet upload data/raw/
        ids = re.findall(r'"upload_id":\s*"([0-9a-f]{64})"', before.stdout)
        assert ids, before.stdout
        rest = [
            re.sub(r"^inmet status \S+", f"inmet status {ids[0][:8]}", line)
            for line in lines[status_at:]
        ]
        after = bash(workdir, lines[:1] + rest)
        assert after.returncode == 0, after.stdout + after.stderr
        assert ids[0] in after.stdout  # the status document of the prefix
        csv = workdir / "data" / "processed" / "inmet_clean.csv"
        header, *rows = csv.read_text(encoding="utf-8").splitlines()
        assert tuple(header.split(",")) == CLEAN_COLUMNS
        assert {row.split(",", 1)[0] for row in rows} == {"A001", "A807"}
    finally:
        if terminal1.poll() is None:
            os.killpg(terminal1.pid, signal.SIGTERM)  # Ctrl-C, as the README says
            terminal1.wait(timeout=60)
