"""The upload request path's time budget adds up (inmet_pipeline/budget.py, issue 14 point 4)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from inmet_local.workspace.template import load_template
from inmet_pipeline import budget
from inmet_pipeline.adapters.aws import DynamoStatusStore, S3ObjectStore
from inmet_pipeline.settings import AwsSettings
from inmet_pipeline.uploads import STALE_CLAIM_MS, UploadService

pytestmark = [pytest.mark.unit]


def test_the_worst_request_fits_in_the_function_and_the_function_in_the_gateway() -> None:
    """ "Quotas for configuring and running a REST API in API Gateway": 29 s integration
    timeout. Worst case: attempts x (connect + read) + backoff per call, for every call of the
    longest request, plus the peer wait and the CPU."""
    worst = budget.upload_worst_case_s()
    assert worst <= budget.UPLOAD_FUNCTION_TIMEOUT_S < budget.API_GATEWAY_INTEGRATION_TIMEOUT_S
    # The arithmetic, spelled out once so that a change to any figure shows up here.
    s3, ddb = budget.REQUEST_S3, budget.REQUEST_DYNAMODB
    assert worst == (
        budget.PEER_WAIT_S
        + budget.REQUEST_CPU_S
        + 2 * s3.total_max_attempts * (s3.connect_timeout_s + s3.read_timeout_s)
        + 5 * ddb.total_max_attempts * (ddb.connect_timeout_s + ddb.read_timeout_s)
    )


def test_the_old_clients_would_not_fit() -> None:
    """The check can fail: the previous config (connect 3 s, read 10 s, max_attempts 3, i.e.
    four attempts) takes minutes in the worst case, far beyond the 29 s."""
    old = budget.CallBudget(connect_timeout_s=3, read_timeout_s=10, total_max_attempts=4)
    assert old.worst_case_s() > budget.API_GATEWAY_INTEGRATION_TIMEOUT_S
    assert budget.upload_worst_case_s(old, old) > budget.UPLOAD_FUNCTION_TIMEOUT_S
    # retries count their backoff: 1 s x 2^i plus up to 5 s of x-amz-retry-after
    two = budget.CallBudget(connect_timeout_s=1, read_timeout_s=1, total_max_attempts=2)
    assert two.worst_case_s() == 2 * 2 + 1 + 5


def test_the_template_timeout_is_the_budgets() -> None:
    props = load_template()["Resources"]["UploadFunction"]["Properties"]
    assert props["Timeout"] == budget.UPLOAD_FUNCTION_TIMEOUT_S
    export = load_template()["Resources"]["ExportFunction"]["Properties"]
    assert export["Timeout"] == budget.EXPORT_FUNCTION_TIMEOUT_S == budget.LAMBDA_MAX_TIMEOUT_S


def test_a_stale_claim_is_older_than_any_living_request() -> None:
    assert STALE_CLAIM_MS / 1000 > budget.UPLOAD_FUNCTION_TIMEOUT_S
    # The service waits for an identical upload in flight as long as the budget allows.
    waits = inspect.signature(UploadService).parameters["peer_wait_s"].default
    assert waits == budget.PEER_WAIT_S


def test_the_api_clients_carry_the_request_budget_in_aws_and_the_background_one_locally() -> None:
    aws = AwsSettings(aws_region="sa-east-1", aws_endpoint_url=None)
    chosen = budget.request_budgets(aws.aws_endpoint_url)
    s3: Any = S3ObjectStore("b", aws, chosen["s3"]).client.meta.config
    ddb: Any = DynamoStatusStore("t", aws, chosen["dynamodb"]).table.meta.client.meta.config
    assert (s3.connect_timeout, s3.read_timeout) == (1.0, 3.0)
    assert (ddb.connect_timeout, ddb.read_timeout) == (1.0, 1.0)
    assert s3.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert ddb.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert budget.request_budgets("http://127.0.0.1:5000") == {
        "s3": budget.BACKGROUND,
        "dynamodb": budget.BACKGROUND,
    }


def test_the_upload_api_builds_its_service_with_the_request_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inmet_pipeline.settings import UploadSettings
    from upload_api import deps

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    settings = UploadSettings(s3_bucket="b", aws_endpoint_url=None)
    service = deps.build_upload_service(settings)
    assert service.objects.budget == budget.REQUEST_S3  # type: ignore[attr-defined]
    assert service.statuses.budget == budget.REQUEST_DYNAMODB  # type: ignore[attr-defined]
