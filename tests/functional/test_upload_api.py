"""The upload API over FastAPI's TestClient against moto: every status code of docs/contracts.md §1,
with the S3 objects and the DynamoDB record checked after each."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from inmet_local.workspace.template import Provisioned
from inmet_pipeline.adapters.aws import DynamoStatusStore, S3ObjectStore
from inmet_pipeline.errors import DependencyUnavailable
from inmet_pipeline.reader import normalise_to_utf8
from inmet_pipeline.upload_objects import RAW_NAME_RE
from inmet_pipeline.uploads import UploadService
from tests.functional.resources import BUCKET, TABLE
from tests.helpers import small_file, zip_bytes
from tests.unit.test_reader_broken import CORPUS
from upload_api import deps
from upload_api.app import app

pytestmark = [pytest.mark.functional]

FILE = small_file("B", days=3)  # ISO-8859-1, 72 rows, A001 2024


def s3_keys() -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    versions = s3.list_object_versions(Bucket=BUCKET).get("Versions", [])
    return sorted(v["Key"] for v in versions)  # every version, so a rewrite shows twice


def s3_bytes(key: str) -> bytes:
    s3 = boto3.client("s3", region_name="us-east-1")
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def records() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    return table.scan()["Items"]


def post_multipart(
    client: TestClient, data: bytes, name: str = FILE.filename, **headers: str
) -> Any:
    return client.post("/uploads", files={"file": (name, data, "text/csv")}, headers=headers)


def post_raw(
    client: TestClient,
    data: bytes,
    content_type: str = "text/csv",
    name: str | None = FILE.filename,
    **headers: str,
) -> Any:
    extra = {"X-Filename": name} if name else {}
    return client.post(
        "/uploads", content=data, headers={"Content-Type": content_type, **extra, **headers}
    )


# --- 201 / 200 -------------------------------------------------------------------------------


def test_multipart_upload_is_created_and_stored(client: TestClient, aws: Provisioned) -> None:
    response = post_multipart(client, FILE.data)
    assert response.status_code == 201, response.text
    body = response.json()
    upload_id = hashlib.sha256(FILE.data).hexdigest()
    assert body["upload_id"] == upload_id
    assert body["status"] == "received"
    assert body["station_id"] == "A001"
    assert body["station_name"] == "BRASILIA"
    assert (body["period_start"], body["period_end"]) == ("2024-01-01", "2024-01-03")
    assert body["rows"] == 72
    assert body["layout"] == "B"
    assert body["encoding"] == "latin-1"
    # raw/…/<upload sequence>-<upload id>.csv: the time of acceptance orders the versions.
    raw_key = body["raw_key"]
    folder, name = raw_key.rsplit("/", 1)
    assert folder == "raw/inmet/station=A001/year=2024"
    named = RAW_NAME_RE.fullmatch(name)
    assert named is not None
    assert named["upload_id"] == upload_id
    assert body["warnings"] == []

    assert s3_keys() == [f"landing/{upload_id}", raw_key]
    assert s3_bytes(f"landing/{upload_id}") == FILE.data  # untouched
    raw = s3_bytes(raw_key)
    assert raw == normalise_to_utf8(FILE.data, "latin-1")
    assert raw.decode("utf-8").startswith("REGIAO:;CO\n")
    assert "PRECIPITAÇÃO" in raw.decode("utf-8")

    [record] = records()
    assert record["status"] == "received"
    assert record["raw_key"] == raw_key
    assert record["received_at"].endswith("Z")
    assert "claim_token" not in record


def test_identical_bytes_answer_200_and_write_nothing(client: TestClient, aws: Provisioned) -> None:
    first = post_multipart(client, FILE.data)
    again = post_raw(client, FILE.data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(s3_keys()) == 2  # no second version of either object
    assert len(records()) == 1


def test_raw_body_with_x_filename(client: TestClient, aws: Provisioned) -> None:
    response = post_raw(client, FILE.data, "application/octet-stream")
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == FILE.filename


def test_utf8_file_is_stored_as_sent_and_as_utf8(client: TestClient, aws: Provisioned) -> None:
    utf8 = small_file("A", encoding="utf-8")
    response = post_raw(client, b"\xef\xbb\xbf" + utf8.data.replace(b"\n", b"\r\n"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["encoding"] == "utf-8"
    assert body["layout"] == "A"
    assert s3_bytes(body["raw_key"]) == utf8.data  # BOM and CR removed, same lines


def test_status_document(client: TestClient, aws: Provisioned) -> None:
    upload_id = post_multipart(client, FILE.data).json()["upload_id"]
    doc = client.get(f"/uploads/{upload_id}").json()
    assert doc["upload_id"] == upload_id
    assert doc["status"] == "received"
    assert doc["station_id"] == "A001"
    assert doc["year"] == 2024
    assert doc["rows"] == 72
    assert doc["rows_clean"] is None
    assert doc["export_keys"] == []
    assert doc["error"] is None
    assert doc["received_at"].endswith("Z")
    assert doc["cleaned_at"] is None


@pytest.mark.parametrize("upload_id", ["0" * 64, "not-an-id", "A" * 64])
def test_unknown_upload_is_404(client: TestClient, aws: Provisioned, upload_id: str) -> None:
    response = client.get(f"/uploads/{upload_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_too_short_id_says_the_minimum_prefix(client: TestClient, aws: Provisioned) -> None:
    upload_id = post_multipart(client, FILE.data).json()["upload_id"]
    response = client.get(f"/uploads/{upload_id[:2]}")
    assert response.status_code == 404
    assert "at least 4 characters" in response.json()["error"]["message"]


def test_a_unique_prefix_finds_the_upload_and_a_shared_one_is_409(
    client: TestClient, aws: Provisioned
) -> None:
    upload_id = post_multipart(client, FILE.data).json()["upload_id"]
    found = client.get(f"/uploads/{upload_id[:16].upper()}")
    assert found.status_code == 200
    assert found.json()["upload_id"] == upload_id
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    for tail in ("1", "2"):  # two more records sharing the first 8 characters
        twin = upload_id[:8] + tail * 56
        # Every record carries id_head, the partition of the id-prefix index (adapters/aws.py).
        table.put_item(
            Item={
                "upload_id": twin,
                "id_head": twin[:4],
                "status": "exported",
                "filename": f"T{tail}.CSV",
            }
        )
    ambiguous = client.get(f"/uploads/{upload_id[:8]}")
    assert ambiguous.status_code == 409
    error = ambiguous.json()["error"]
    assert error["code"] == "ambiguous_id"
    assert f"3 uploads start with '{upload_id[:8]}'" in error["message"]
    assert sorted(d["upload_id"] for d in error["details"]) == sorted(
        [upload_id, upload_id[:8] + "1" * 56, upload_id[:8] + "2" * 56]
    )
    assert client.get(f"/uploads/{upload_id[:12]}").json()["upload_id"] == upload_id
    assert (
        "409"
        in client.get("/openapi.json").json()["paths"]["/uploads/{upload_id}"]["get"]["responses"]
    )


def test_health(client: TestClient, aws: Provisioned) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_health_503_when_the_table_is_missing(client: TestClient, aws: Provisioned) -> None:
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=TABLE)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_openapi_and_docs(client: TestClient, aws: Provisioned) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/uploads"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "text/csv", "application/octet-stream"} <= set(content)
    assert client.get("/docs").status_code == 200


# --- 4xx ---------------------------------------------------------------------------------------


def test_413_names_the_limit(client: TestClient, aws: Provisioned) -> None:
    big = FILE.data + b"2024/01/04;0000 UTC;" + b"0;" * (4 * 1024 * 1024 // 2)
    response = post_raw(client, big)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "4,194,304 bytes (4 MB)" in error["message"]
    assert s3_keys() == []
    assert records() == []


def test_413_for_multipart_too(client: TestClient, aws: Provisioned) -> None:
    response = post_multipart(client, b"x" * (4 * 1024 * 1024 + 100 * 1024))
    assert response.status_code == 413
    # Only the request's size is known: the message does not call it the file's.
    message = response.json()["error"]["message"]
    assert message.startswith("The request is "), message
    assert "(the file and its multipart framing)" in message
    assert s3_keys() == []


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (zip_bytes({FILE.filename: FILE.data}), "application/octet-stream"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "application/octet-stream"),
        (FILE.data, "image/png"),
        (FILE.data, "application/json"),
    ],
    ids=["zip", "png-bytes", "image-content-type", "json-content-type"],
)
def test_415_for_non_text(
    client: TestClient, aws: Provisioned, data: bytes, content_type: str
) -> None:
    response = post_raw(client, data, content_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert s3_keys() == []
    assert records() == []


def test_422_carries_code_message_and_line(client: TestClient, aws: Provisioned) -> None:
    broken = FILE.data.replace(b"2024/01/02;0500 UTC", b"2024/01/02;0560 UTC")
    response = post_multipart(client, broken)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "bad_hour"
    assert error["line"] == 9 + 24 + 6
    assert "0560 UTC" in error["message"]
    assert s3_keys() == []


def test_multipart_without_a_file_field(client: TestClient, aws: Provisioned) -> None:
    response = client.post(
        "/uploads", data={"other": "x"}, files={"attachment": ("a.csv", FILE.data, "text/csv")}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "missing_file_field"


def test_every_broken_input_gets_4xx_and_leaves_nothing(
    client: TestClient, aws: Provisioned
) -> None:
    for name, data, code, line in CORPUS:
        for send in (post_multipart, post_raw):
            response = send(client, data)
            assert 400 <= response.status_code < 500, (name, response.status_code)
            error = response.json()["error"]
            expected = "unsupported_media_type" if code == "binary_file" else code
            assert error["code"] == expected, name
            assert error["line"] == line, name
    assert s3_keys() == []
    assert records() == []


def test_api_key_required_when_configured(
    client: TestClient, aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inmet_pipeline.settings import UploadSettings, load_settings

    monkeypatch.setenv("INMET_API_KEY", "s3cret")
    keyed = load_settings(UploadSettings)
    monkeypatch.setitem(app.dependency_overrides, deps.get_settings, lambda: keyed)
    assert post_multipart(client, FILE.data).status_code == 401
    assert post_multipart(client, FILE.data, **{"x-api-key": "wrong"}).status_code == 401
    assert client.get(f"/uploads/{'0' * 64}").status_code == 401
    assert s3_keys() == []
    ok = post_multipart(client, FILE.data, **{"x-api-key": "s3cret"})
    assert ok.status_code == 201


# --- 503 ---------------------------------------------------------------------------------------


class FailingPuts(S3ObjectStore):
    """S3 that fails on the n-th put (fault injection in the adapter)."""

    def __init__(self, fail_on: int) -> None:
        super().__init__(BUCKET)
        self.calls = 0
        self.fail_on = fail_on

    def put(self, key: str, data: bytes, content_type: str, metadata: Any = None) -> None:
        self.calls += 1
        if self.calls == self.fail_on:
            raise DependencyUnavailable("S3", "injected failure")
        super().put(key, data, content_type, metadata)


@pytest.mark.parametrize("fail_on", [1, 2], ids=["landing-put-fails", "raw-put-fails"])
def test_s3_failure_is_503_and_no_record_claims_success(
    client: TestClient, service: UploadService, fail_on: int
) -> None:
    service.objects = FailingPuts(fail_on)
    response = post_multipart(client, FILE.data)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"
    assert records() == []  # the claim was dropped
    assert not [k for k in s3_keys() if k.startswith("raw/")]  # nothing for the pipe to load
    # A retry succeeds.
    service.objects = S3ObjectStore(BUCKET)
    assert post_multipart(client, FILE.data).status_code == 201
    assert [r["status"] for r in records()] == ["received"]


def test_dynamodb_failure_is_503(client: TestClient, service: UploadService) -> None:
    service.statuses = DynamoStatusStore("no-such-table")
    response = post_multipart(client, FILE.data)
    assert response.status_code == 503
    assert s3_keys() == []
    assert client.get(f"/uploads/{'0' * 64}").status_code == 503


# --- concurrency -------------------------------------------------------------------------------


def test_twenty_concurrent_uploads_mixing_distinct_and_identical(
    client: TestClient, aws: Provisioned
) -> None:
    distinct = [small_file("B", station=i, days=2).data for i in range(5)]
    payloads = [distinct[i % 5] for i in range(20)]  # each file 4 times
    answers: list[tuple[int, str]] = [(0, "")] * 20
    barrier = threading.Barrier(20)

    def send(i: int) -> None:
        with TestClient(client.app) as own:
            barrier.wait()
            response = post_raw(own, payloads[i], name=f"file{i % 5}.CSV")
            answers[i] = (response.status_code, response.json().get("upload_id", ""))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {hashlib.sha256(d).hexdigest() for d in distinct}
    for digest in ids:
        codes = sorted(code for code, uid in answers if uid == digest)
        assert codes == [200, 200, 200, 201], codes
    keys = s3_keys()
    assert len(keys) == 10  # one landing/ and one raw/ object (and version) per distinct file
    assert len([k for k in keys if k.startswith("raw/")]) == 5
    assert sorted(r["upload_id"] for r in records()) == sorted(ids)
    assert all(r["status"] == "received" for r in records())
