"""One set of test bodies, two targets: the local stack (the normal suite) and a deployed stack
(`make test-aws`, INMET_TEST_TARGET=aws; local/inmet_local/ops/live.py deploys it and sets the
INMET_LIVE_* variables). Each test uploads through the HTTPS endpoint with `inmet upload` as a
user would, then checks the S3 objects and the status record directly."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from inmet_local.emulator.servers import moto_client_kwargs
from inmet_pipeline.limits import MAX_UPLOAD_BYTES, TOO_LARGE_CODE
from inmet_pipeline.upload_objects import RAW_NAME_RE
from inmet_pipeline.uploads import landing_key_for
from tests.helpers import small_file
from tests.integration.resources import BUCKET, TABLE

pytestmark = [pytest.mark.integration]

LIVE = os.environ.get("INMET_TEST_TARGET") == "aws"


@dataclass
class Target:
    name: str
    api_url: str
    auth: str  # key | iam
    api_key: str | None
    bucket: str
    s3: Any
    table: Any
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(params=["local", "aws"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "aws":
        if not LIVE:
            pytest.skip("the deployed stack is tested by `make test-aws` (INMET_TEST_TARGET=aws)")
        region = os.environ["AWS_REGION"]
        return Target(
            "aws",
            os.environ["INMET_LIVE_API_URL"],
            os.environ["INMET_LIVE_AUTH"],
            os.environ.get("INMET_LIVE_API_KEY"),
            os.environ["INMET_LIVE_BUCKET"],
            boto3.client("s3", region_name=region),
            boto3.resource("dynamodb", region_name=region).Table(os.environ["INMET_LIVE_TABLE"]),
        )
    if LIVE:
        pytest.skip("`make test-aws` runs the deployed target only")
    api = request.getfixturevalue("api")
    moto = request.getfixturevalue("moto")
    kwargs: dict[str, Any] = dict(moto_client_kwargs(moto.url))
    return Target(
        "local",
        api.url,
        "key",
        "it-key",
        BUCKET,
        boto3.client("s3", **kwargs),
        boto3.resource("dynamodb", **kwargs).Table(TABLE),
    )


def inmet(target: Target, *args: str, extra: dict[str, str] | None = None) -> Any:
    auth = ["--auth", target.auth] + (["--api-key", target.api_key] if target.api_key else [])
    command = [sys.executable, "-m", "inmet_local", *args, "--api-url", target.api_url, *auth]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", **target.env, **(extra or {})},
        check=False,
    )


# -- the assertions, shared by both targets ---------------------------------------------------


def upload_through_the_endpoint(target: Target, path: Path) -> dict[str, Any]:
    result = inmet(target, "upload", "--json", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    [outcome] = json.loads(result.stdout)
    assert outcome["outcome"] == "accepted", outcome
    return outcome  # type: ignore[no-any-return]


def assert_objects_stored(target: Target, upload_id: str, sent: bytes) -> str:
    landing = target.s3.get_object(Bucket=target.bucket, Key=landing_key_for(upload_id))
    assert landing["Body"].read() == sent
    raw = [
        o["Key"]
        for o in target.s3.list_objects_v2(Bucket=target.bucket, Prefix="raw/").get("Contents", [])
        # raw/…/<sequence>-<upload_id>.csv (upload_objects.RAW_NAME_RE)
        if (name := RAW_NAME_RE.fullmatch(o["Key"].rsplit("/", 1)[-1]))
        and name["upload_id"] == upload_id
    ]
    assert len(raw) == 1, raw
    body = target.s3.get_object(Bucket=target.bucket, Key=raw[0])["Body"].read()
    body.decode("utf-8")  # normalised to UTF-8
    return str(raw[0])


def assert_status_recorded(target: Target, upload_id: str, raw_key: str) -> None:
    item = target.table.get_item(Key={"upload_id": upload_id}, ConsistentRead=True)["Item"]
    assert item["status"] in {"received", "exported"}
    assert item["raw_key"] == raw_key
    shown = inmet(target, "status", upload_id)
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert (document["status"], document["raw_key"]) == (item["status"], raw_key)


# -- the tests -----------------------------------------------------------------------------


def test_an_upload_through_the_endpoint_is_stored_and_recorded(
    target: Target, tmp_path: Path
) -> None:
    sample = small_file("B", station=5, seed=random.randrange(1 << 30))
    path = tmp_path / sample.filename
    path.write_bytes(sample.data)
    outcome = upload_through_the_endpoint(target, path)
    raw_key = assert_objects_stored(target, outcome["upload_id"], sample.data)
    assert_status_recorded(target, outcome["upload_id"], raw_key)


def test_a_file_over_the_limit_is_refused_before_sending(target: Target, tmp_path: Path) -> None:
    big = tmp_path / "INMET_CO_DF_A001_BRASILIA_01-01-2024_A_31-12-2024.CSV"
    big.write_bytes(b"x" * (MAX_UPLOAD_BYTES + 1))
    result = inmet(target, "upload", "--json", str(big))
    assert result.returncode == 1
    [outcome] = json.loads(result.stdout)
    assert (outcome["outcome"], outcome["error"]["code"]) == ("rejected", TOO_LARGE_CODE)
    assert outcome["attempts"] == 0


def test_signed_uploads_pass_through_the_local_http_stack(target: Target, tmp_path: Path) -> None:
    """--auth iam against uvicorn: the signed requests (botocore's SigV4, checked in
    tests/unit/test_signing.py) go through a real HTTP server and the app unharmed. The local
    app verifies no signature, so the key is sent as well; in AWS (ApiAuth=Iam) the gateway
    checks the signature and `make test-aws` runs the tests above with it."""
    if target.name != "local":
        pytest.skip("local only: the deployed target runs with the stack's own auth mode")
    sample = small_file("B", station=6, seed=random.randrange(1 << 30))
    path = tmp_path / sample.filename
    path.write_bytes(sample.data)
    signed = Target(**{**target.__dict__, "auth": "iam"})
    creds = {
        "AWS_ACCESS_KEY_ID": "AKIDLOCAL",
        "AWS_SECRET_ACCESS_KEY": "local-secret",
        "AWS_REGION": "sa-east-1",
    }
    result = inmet(signed, "upload", "--json", str(path), extra=creds)
    assert result.returncode == 0, result.stdout + result.stderr
    [outcome] = json.loads(result.stdout)
    assert outcome["outcome"] == "accepted"
    no_creds = inmet(
        signed,
        "upload",
        str(path),
        extra={
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "sa-east-1",
        },
    )
    assert no_creds.returncode == 2
    assert "--auth iam needs AWS credentials" in no_creds.stderr
