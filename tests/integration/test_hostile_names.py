"""Hostile station names over HTTP on the local stack (`inmet local up`): each is refused with one
precise 422, or accepted and exported byte-for-byte into every row of its station.

The names: the formula triggers of CSV injection (=, +, -, @ first: OWASP, "CSV Injection"),
Snowflake's CSV NULL marker \\N, a ';' inside the name (the warehouse reads the name as the
line's second field, so the rest would be dropped), names of 100 and 101 characters (the limit
is 100), and Latin-1, UTF-8 and emoji names that must pass through unchanged."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import httpx
import pytest

from inmet_local.emulator.servers import free_port
from inmet_pipeline import rules
from inmet_pipeline.columns import CLEAN_COLUMNS
from tests.helpers import small_file
from tests.integration.test_local_stack import RunningStack, _moto_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NAME_COLUMN = CLEAN_COLUMNS.index("station_name")

# (name, the file's encoding, the 422 code or None when it must be exported unchanged)
CORPUS = [
    ("=1+2", "latin-1", rules.NAME_RULE_CODE),
    ('=HYPERLINK("http://example.com","x")', "latin-1", rules.NAME_RULE_CODE),
    ("+5541999990000", "latin-1", rules.NAME_RULE_CODE),
    ("-2+3", "latin-1", rules.NAME_RULE_CODE),
    ("@SUM(A1:A9)", "latin-1", rules.NAME_RULE_CODE),
    ("\\N", "latin-1", rules.NAME_RULE_CODE),
    ("SAO JOSE;DOS CAMPOS", "latin-1", rules.NAME_RULE_CODE),
    ("B" * 101, "latin-1", "bad_metadata_value"),
    ("CAMPOS DO JORDAO " + "X" * 83, "latin-1", None),  # exactly 100 characters
    ("SÃO FÉLIX  DO ARAGUAIA", "latin-1", None),
    ("Paty do Alferes - Avelar", "utf-8", None),
    ("Estação Chuvosa 🌧 Ñandú", "utf-8", None),
]


def _file(index: int, name: str, encoding: str) -> tuple[str, bytes]:
    synth = small_file("B", station=index, encoding=encoding)
    lines = synth.data.split(b"\n")
    key = lines[2].split(b";", 1)[0]
    lines[2] = key + b";" + name.encode(encoding)
    return synth.filename, b"\n".join(lines)


def _wait_exported(stack: RunningStack, ids: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while True:
        docs = [
            httpx.get(f"{stack.url}/uploads/{i}", headers=stack.headers, timeout=10).json()
            for i in ids
        ]
        if all(d["status"] in ("exported", "failed") for d in docs):
            assert {d["status"] for d in docs} == {"exported"}, docs
            return
        assert time.monotonic() < deadline, docs
        time.sleep(0.5)


def test_hostile_names_are_refused_or_exported_byte_for_byte(tmp_path: Path) -> None:
    assert len(CORPUS[8][0]) == rules.MAX_STATION_NAME_CHARS
    stack = RunningStack(tmp_path / "local", free_port(), tmp_path / "up.log")
    try:
        accepted: dict[str, tuple[str, str]] = {}  # upload id -> (station, name)
        for index, (name, encoding, code) in enumerate(CORPUS):
            filename, data = _file(index, name, encoding)
            answer = httpx.post(
                f"{stack.url}/uploads",
                content=data,
                headers={**stack.headers, "Content-Type": "text/csv", "X-Filename": filename},
                timeout=60,
            )
            if code is None:
                assert answer.status_code == 201, (name, answer.text)
                body = answer.json()
                assert body["station_name"] == name
                accepted[body["upload_id"]] = (body["station_id"], name)
                continue
            assert answer.status_code == 422, (name, answer.text)
            error = answer.json()["error"]
            # One precise error: its code, line 3, and no other error before it.
            assert (error["code"], error["line"]) == (code, 3), (name, error)
            assert error["details"][0]["code"] == code
        _wait_exported(stack, list(accepted))

        env = _moto_env(tmp_path / "local")  # the stack's moto takes only its own access key
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        for station, name in accepted.values():
            key = f"processed/inmet_clean/station={station}/year=2024/inmet_clean.csv"
            exported = s3.get_object(Bucket=env["S3_BUCKET"], Key=key)["Body"].read()
            rows = exported.decode("utf-8").splitlines()[1:]
            assert rows, key
            # Byte-for-byte: the name's UTF-8 bytes, unquoted, in every row of its station.
            needle = b"," + name.encode("utf-8") + b","
            assert exported.count(needle) == len(rows), (name, exported[:300])
            assert {row.split(",")[NAME_COLUMN] for row in rows} == {name}
    finally:
        stack.stop()
