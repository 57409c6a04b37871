"""Every failure path of an upload ends in a known state (issue 15, point 5): faults injected
into the real adapters (S3, DynamoDB on moto) at each step; the status document (over the API)
and the S3 objects are checked after each, and so is what a retry and the export then see."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from inmet_local.workspace.template import Provisioned, load_template
from inmet_pipeline.adapters.aws import DynamoStatusStore, S3ObjectStore
from inmet_pipeline.budget import UPLOAD_FUNCTION_TIMEOUT_S
from inmet_pipeline.errors import DependencyUnavailable
from inmet_pipeline.exports import ExportService
from inmet_pipeline.notifications import LoadNotification
from inmet_pipeline.uploads import STALE_CLAIM_MS, UploadService, upload_id_for
from tests.fakes import FakeExportWarehouse
from tests.functional.resources import BUCKET, TABLE
from tests.helpers import small_file
from upload_api import deps
from upload_api.schemas import StatusDocument, UploadAnswer

pytestmark = [pytest.mark.functional]

FILE = small_file("B", days=2)
UPLOAD_ID = upload_id_for(FILE.data)


class LambdaTimeout(BaseException):
    """Lambda ends a request at its timeout: nothing after the point of failure runs."""


class FaultyObjects(S3ObjectStore):
    """S3 with a hook run around each put: ``before(key)`` / ``after(key)`` may raise."""

    def __init__(self) -> None:
        super().__init__(BUCKET)
        self.before: Callable[[str], None] = lambda key: None
        self.after: Callable[[str], None] = lambda key: None
        self.puts: list[str] = []

    def put(self, key: str, data: bytes, content_type: str, metadata: Any = None) -> None:
        self.before(key)
        super().put(key, data, content_type, metadata)
        self.puts.append(key)
        self.after(key)


class FaultyStatuses(DynamoStatusStore):
    def __init__(self) -> None:
        super().__init__(TABLE)
        self.on_complete: Callable[[], None] = lambda: None
        self.on_release: Callable[[], None] = lambda: None

    def complete(self, upload_id: str, token: str, document: Any) -> None:
        self.on_complete()
        super().complete(upload_id, token, document)

    def release(self, upload_id: str, token: str) -> None:
        self.on_release()
        super().release(upload_id, token)


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000_000

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def parts(aws: Provisioned) -> tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]:
    objects, statuses, clock = FaultyObjects(), FaultyStatuses(), Clock()
    service = UploadService(
        objects, statuses, clock_ms=clock, sleep=lambda s: None, peer_wait_s=0.0
    )
    return service, objects, statuses, clock


@pytest.fixture
def api(
    client: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> Iterator[TestClient]:
    overrides = client.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[deps.get_service] = lambda: parts[0]
    yield client
    overrides.pop(deps.get_service, None)  # the app is module-global: leave it as found


def raw_keys() -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    return sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) if o["Key"]
    )


def record() -> dict[str, Any] | None:
    return DynamoStatusStore(TABLE).get(UPLOAD_ID)


def post(api: TestClient) -> Any:
    return api.post(
        "/uploads", content=FILE.data, headers={"Content-Type": "text/csv", "X-Filename": "x.CSV"}
    )


def export(files: Sequence[str], rows_clean: int = 48) -> None:
    """The ExportFunction's use case for a batch that loaded ``files`` (a fake warehouse)."""
    message = LoadNotification.parse(
        {
            "event": "inmet.clean.loaded",
            "batch_id": "b1",
            "files": list(files),
            "partitions": [{"station_id": "A001", "year": 2024, "rows": rows_clean}],
            "loaded_at": "2024-01-01T00:00:00Z",
        }
    )
    ExportService(FakeExportWarehouse(rows_clean), DynamoStatusStore(TABLE)).export_batch(message)


def the_raw_key() -> str:
    return next(k for k in raw_keys() if k.startswith("raw/"))


def full_document(api: TestClient) -> dict[str, Any]:
    response = api.get(f"/uploads/{UPLOAD_ID}")
    assert response.status_code == 200, response.text
    doc = StatusDocument.model_validate(response.json()).model_dump()
    for name in ("station_id", "station_name", "year", "rows", "raw_key", "received_at"):
        assert doc[name] is not None, name
    return doc


def dynamo_down() -> None:
    raise DependencyUnavailable("DynamoDB", "injected outage")


# --- a failure after raw/ is written ------------------------------------------------------------


def test_completing_write_fails_after_raw_then_export_and_reupload_see_a_full_record(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    _, _, statuses, _ = parts
    statuses.on_complete = dynamo_down
    assert post(api).status_code == 503
    assert [k.split("/")[0] for k in raw_keys()] == ["landing", "raw"]
    claim = record()
    assert claim is not None
    assert claim["status"] == "uploading"
    assert claim["station_id"] == "A001"  # the claim carries the whole document
    assert api.get(f"/uploads/{UPLOAD_ID}").status_code == 404  # in flight: not shown

    export([the_raw_key()])  # the pipe loaded raw/; the export promotes the record
    doc = full_document(api)
    assert (doc["status"], doc["rows_clean"]) == ("exported", 48)

    statuses.on_complete = lambda: None
    again = post(api)  # a re-upload: 200 with a complete answer, never a 500
    assert again.status_code == 200
    UploadAnswer.model_validate(again.json())
    assert again.json()["status"] == "exported"


def test_function_timeout_after_raw_then_retry_completes_without_rewriting(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    service, objects, statuses, clock = parts

    def killed() -> None:
        raise LambdaTimeout

    statuses.on_complete = killed
    with pytest.raises(LambdaTimeout):
        service.accept(FILE.data, "x.CSV")
    assert objects.puts == ["landing/" + UPLOAD_ID, the_raw_key()]
    statuses.on_complete = lambda: None

    clock.ms += STALE_CLAIM_MS // 2  # the claim is still live: the retry is told to wait
    busy = post(api)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "2"

    clock.ms += STALE_CLAIM_MS // 2 + 1  # as soon as Lambda would have stopped it
    retry = post(api)
    assert retry.status_code == 201
    assert objects.puts == ["landing/" + UPLOAD_ID, the_raw_key()]  # nothing written twice
    assert full_document(api)["status"] == "received"
    export([the_raw_key()])
    assert full_document(api)["status"] == "exported"


# --- an S3 write whose answer was lost ------------------------------------------------------------


def lost_answer() -> Callable[[str], None]:
    """A raw/ put whose answer never comes back (as a read timeout): set as ``after`` the
    object was written, as ``before`` it was not."""

    def fail(key: str) -> None:
        if key.startswith("raw/"):
            raise DependencyUnavailable("S3", "read timeout (injected)", maybe_done=True)

    return fail


def test_lost_answer_of_a_raw_write_that_happened_completes_the_upload(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    _, objects, _, _ = parts
    objects.after = lost_answer()  # written, then the answer is lost
    response = post(api)
    assert response.status_code == 201  # it looked: the object is there
    assert [k.split("/")[0] for k in raw_keys()] == ["landing", "raw"]
    assert full_document(api)["status"] == "received"


def test_lost_answer_of_a_raw_write_that_did_not_happen_keeps_the_claim_for_a_late_write(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    _, objects, _, _ = parts
    objects.before = lost_answer()  # not written (as far as anyone can see)
    assert post(api).status_code == 503
    assert [k.split("/")[0] for k in raw_keys()] == ["landing"]
    claim = record()
    assert claim is not None  # not released: the write may still land
    assert claim["status"] == "uploading"
    assert claim["claimed_at_ms"] == 0  # but a retry may take it over at once

    # The write lands late; the pipe loads it: the export finds a complete record.
    s3 = boto3.client("s3", region_name="us-east-1")
    key = claim["raw_key"]
    assert key.endswith(f"-{UPLOAD_ID}.csv")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"late")
    export([key])
    assert full_document(api)["status"] == "exported"


def test_lost_answer_then_an_immediate_retry_succeeds(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    _, objects, _, _ = parts
    objects.before = lost_answer()
    assert post(api).status_code == 503
    objects.before = lambda key: None
    assert post(api).status_code == 201  # no waiting for the claim to expire
    assert full_document(api)["status"] == "received"
    assert [k.split("/")[0] for k in raw_keys()] == ["landing", "raw"]


def test_a_refused_raw_write_releases_the_claim(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    _, objects, _, _ = parts

    def refused(key: str) -> None:
        if key.startswith("raw/"):
            raise DependencyUnavailable("S3", "AccessDenied (injected)", maybe_done=False)

    objects.before = refused
    assert post(api).status_code == 503
    assert record() is None  # S3 said no: nothing for the pipe, a retry starts afresh
    assert [k.split("/")[0] for k in raw_keys()] == ["landing"]


# --- the completing write's fallback -------------------------------------------------------------


def test_the_completing_write_never_erases_what_the_export_recorded(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    _, objects, _, _ = parts

    def export_first(key: str) -> None:
        if key.startswith("raw/"):  # the pipe and the export beat the completing write
            export([key], rows_clean=47)

    objects.after = export_first
    assert post(api).status_code == 201
    doc = full_document(api)
    assert doc["status"] == "exported"
    assert doc["rows_clean"] == 47
    assert doc["export_keys"] == ["processed/inmet_clean/station=A001/year=2024/inmet_clean.csv"]
    assert doc["error"] is None
    assert doc["exported_at"] is not None


def test_a_failed_export_error_survives_the_completing_write(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    _, objects, _, _ = parts

    def failed_first(key: str) -> None:
        if key.startswith("raw/"):
            DynamoStatusStore(TABLE).update(
                UPLOAD_ID,
                {"status": "failed", "error": {"code": "snowflake_load_failed", "message": "x"}},
            )

    objects.after = failed_first
    assert post(api).status_code == 201
    doc = full_document(api)
    assert doc["status"] == "failed"
    assert doc["error"] == {"code": "snowflake_load_failed", "message": "x"}


# --- recovery after an outage ---------------------------------------------------------------------


def test_after_an_outage_a_retry_succeeds_as_soon_as_the_function_timeout_allows(
    api: TestClient, parts: tuple[UploadService, FaultyObjects, FaultyStatuses, Clock]
) -> None:
    """S3 and DynamoDB stall for 20 s: the request fails and cannot drop its claim. A retry
    succeeds as soon as the dead request's claim is older than the function timeout (30 s),
    not after a minute."""
    _, objects, statuses, clock = parts
    started = clock.ms

    def s3_stalls(key: str) -> None:
        clock.ms += 20_000
        raise DependencyUnavailable("S3", "read timeout (injected)", maybe_done=True)

    def s3_head_down(key: str) -> bool:
        raise DependencyUnavailable("S3", "stalled")

    objects.before = s3_stalls
    statuses.on_release = dynamo_down
    objects.exists = s3_head_down  # type: ignore[method-assign]
    statuses.take_over = lambda *a: (_ for _ in ()).throw(  # type: ignore[method-assign]
        DependencyUnavailable("DynamoDB", "stalled")
    )
    assert post(api).status_code == 503
    assert record() is not None  # the claim could not be dropped or expired

    objects.before = lambda key: None
    statuses.on_release = lambda: None
    objects.exists = S3ObjectStore(BUCKET).exists  # type: ignore[method-assign]
    statuses.take_over = DynamoStatusStore(TABLE).take_over  # type: ignore[method-assign]
    answers = []
    while True:
        clock.ms += 2_000  # the client retries every Retry-After (2 s)
        answers.append(post(api).status_code)
        if answers[-1] != 503:
            break
    assert answers[-1] == 201
    assert clock.ms - started <= STALE_CLAIM_MS + 2_000  # the timeout, a second, one retry
    assert STALE_CLAIM_MS == (UPLOAD_FUNCTION_TIMEOUT_S + 1) * 1000
    assert full_document(api)["status"] == "received"


def test_the_claim_timeout_is_the_upload_functions_timeout() -> None:
    template = load_template()
    function = template["Resources"]["UploadFunction"]["Properties"]
    timeout = function.get("Timeout", template["Globals"]["Function"].get("Timeout"))
    assert timeout == UPLOAD_FUNCTION_TIMEOUT_S
