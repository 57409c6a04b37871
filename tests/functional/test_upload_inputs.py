"""No 5xx from any client input (issue 15, point 6): non-ASCII where S3 metadata needs ASCII,
file names past S3's 2 KB metadata limit, bodies between the app's 4 MB and the gateway's
10 MB — over the TestClient and through the Lambda handler."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from inmet_local.workspace.template import Provisioned
from inmet_pipeline.uploads import MAX_FILENAME_CHARS, METADATA_FILENAME_CHARS
from tests.crafted import crafted_files
from tests.events import lambda_context, load_event
from tests.functional.resources import BUCKET
from tests.helpers import small_file
from upload_api.app import handler

pytestmark = [pytest.mark.functional]

FILE = small_file("B", days=2)


def metadata_of(key: str) -> dict[str, str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    return s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]


def multipart(client: TestClient, data: bytes, name: str) -> Any:
    return client.post("/uploads", files={"file": (name, data, "text/csv")})


@pytest.mark.parametrize(
    "name",
    [
        "INMET_SE_SP_A771_SÃO PAULO - INTERLAGOS_01-01-2024_A_31-12-2024.CSV",
        "estação 😀 ١٢٣ ｆｕｌｌ.csv",
        "😀" * 1000,  # 4 bytes each: 12,000 characters once percent-encoded
        "a" * MAX_FILENAME_CHARS,
    ],
    ids=["portuguese", "emoji-arabic-fullwidth", "long-4-byte", "longest-accepted"],
)
def test_any_file_name_is_stored_with_ascii_metadata_under_the_s3_limit(
    client: TestClient, aws: Provisioned, name: str
) -> None:
    response = multipart(client, FILE.data, name)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == name  # the status document keeps the name whole
    for key in (body["landing_key"], body["raw_key"]):
        metadata = metadata_of(key)
        assert all(v.isascii() for v in metadata.values())
        assert len(metadata["original-filename"]) <= METADATA_FILENAME_CHARS
        assert sum(len(k) + len(v) for k, v in metadata.items()) < 2048


def test_a_file_name_over_the_limit_is_422(client: TestClient, aws: Provisioned) -> None:
    response = multipart(client, FILE.data, "a" * (MAX_FILENAME_CHARS + 1))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "filename_too_long"


@pytest.mark.parametrize("name", sorted(crafted_files(FILE.data)))
def test_every_crafted_file_is_a_4xx_and_writes_nothing(
    client: TestClient, aws: Provisioned, name: str
) -> None:
    crafted = crafted_files(FILE.data)[name]
    response = multipart(client, crafted.data, f"{name}.CSV")
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == crafted.code
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


@pytest.mark.parametrize("size_mb", [4.2, 5, 7, 9.9])
def test_bodies_between_the_app_limit_and_the_gateway_limit_are_413(
    client: TestClient, aws: Provisioned, size_mb: float
) -> None:
    body = FILE.data * (int(size_mb * 2**20) // len(FILE.data) + 1)
    raw = client.post("/uploads", content=body, headers={"Content-Type": "text/csv"})
    assert raw.status_code == 413
    assert multipart(client, body, "big.CSV").status_code == 413


@pytest.mark.parametrize("size_mb", [4.2, 5, 7, 9.9])
def test_the_lambda_handler_answers_413_for_bodies_past_the_limit(
    aws: Provisioned, size_mb: float
) -> None:
    event = load_event("upload_raw.json")
    body = FILE.data * (int(size_mb * 2**20) // len(FILE.data) + 1)
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    event["headers"] = {k: v for k, v in event["headers"].items() if k.lower() != "content-length"}
    response = handler(event, lambda_context())
    assert response["statusCode"] == 413, response
    assert json.loads(response["body"])["error"]["code"] == "payload_too_large"
