"""`inmet upload` and `inmet status` over real HTTP: uvicorn on 127.0.0.1 against moto server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from inmet_local.emulator.servers import ManagedProcess, port_in_use
from tests.helpers import small_file, zip_bytes
from tests.integration.resources import BUCKET
from tests.paths import real_file

pytestmark = [pytest.mark.integration]


def inmet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "inmet_local", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


def test_upload_real_files_a_zip_and_a_broken_file(
    api: ManagedProcess, moto: ManagedProcess, real_dir: Path, tmp_path: Path
) -> None:
    brasilia = real_file(real_dir, "INMET_CO_DF_A001_BRASILIA")
    manaus = real_file(real_dir, "INMET_N_AM_A101_MANAUS_09-05-2000")
    archive = tmp_path / "2024.zip"
    extra = small_file("B", station=3)
    archive.write_bytes(zip_bytes({f"2024/{extra.filename}": extra.data}))
    broken = tmp_path / "INMET_broken.CSV"
    broken.write_bytes(b"REGIAO:;CO\nUF:;DF\n")

    result = inmet(
        "upload",
        "--json",
        "--api-url",
        api.url,
        "--api-key",
        "it-key",
        str(brasilia),
        str(manaus),
        str(archive),
        str(broken),
    )
    assert result.returncode == 1, result.stderr  # one file was rejected
    outcomes = {Path(o["path"]).name: o for o in json.loads(result.stdout)}
    assert outcomes[brasilia.name]["outcome"] == "accepted"
    assert outcomes[brasilia.name]["rows"] == 8784
    assert outcomes[manaus.name]["outcome"] == "accepted"
    assert outcomes[broken.name]["outcome"] == "rejected"
    assert outcomes[broken.name]["error"]["code"] == "too_short"
    zipped = next(o for name, o in outcomes.items() if name.endswith(extra.filename))
    assert zipped["outcome"] == "accepted"

    again = inmet("upload", "--api-url", api.url, str(brasilia), env={"INMET_API_KEY": "it-key"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 duplicate" in again.stdout

    s3 = boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert len([k for k in keys if k.startswith("raw/")]) == 3
    landing = s3.get_object(Bucket=BUCKET, Key=f"landing/{outcomes[brasilia.name]['upload_id']}")
    assert landing["Body"].read() == brasilia.read_bytes()

    status = inmet(
        "status", outcomes[manaus.name]["upload_id"], "--api-url", api.url, "--api-key", "it-key"
    )
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["status"] == "received"
    assert doc["station_id"] == "A101"
    assert doc["year"] == 2000
    assert doc["encoding"] == "utf-8"


def test_wrong_api_key_is_rejected(api: ManagedProcess, tmp_path: Path) -> None:
    path = tmp_path / "x.CSV"
    path.write_bytes(small_file("B", station=4).data)
    result = inmet("upload", "--json", "--api-url", api.url, "--api-key", "nope", str(path))
    assert result.returncode == 1
    [outcome] = json.loads(result.stdout)
    assert outcome["status_code"] == 401


def test_status_of_an_unknown_upload(api: ManagedProcess) -> None:
    result = inmet("status", "0" * 64, "--api-url", api.url, "--api-key", "it-key")
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr


def test_unreachable_api_fails_after_retries(tmp_path: Path) -> None:
    from inmet_local.emulator.servers import free_port

    port = free_port()
    assert not port_in_use(port)
    path = tmp_path / "x.CSV"
    path.write_bytes(small_file("B").data)
    result = inmet(
        "upload", "--json", "--retries", "2", "--api-url", f"http://127.0.0.1:{port}", str(path)
    )
    assert result.returncode == 1
    [outcome] = json.loads(result.stdout)
    assert outcome["outcome"] == "failed"
    assert outcome["attempts"] == 2
    assert "connection error" in outcome["error"]["message"]
