"""Time budgets: what each AWS call may take, and why the sum fits under the gateway.

One place for the numbers; ``tests/unit/test_budget.py`` checks that they add up and that
template.yaml's timeouts are these.

The upload request path (UploadFunction behind API Gateway):

- API Gateway waits at most 29 s for a Lambda integration ("Quotas for configuring and running a
  REST API in API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html:
  integration timeout 50 ms - 29 s by default), then answers 504 while the function may still be
  writing.
- So UploadFunction's timeout is 25 s: the 4 s left cover the gateway's own work and a cold
  start's Init phase, which runs before the invocation ("Understanding the Lambda execution
  environment lifecycle": Init is limited to 10 s of its own; this function's imports take
  ~0.6 s, `make sizes`).
- Inside those 25 s the worst request makes 5 DynamoDB calls and 2 S3 puts in sequence (a
  duplicate that waits for a stale peer, takes over its claim, stores and completes: claim, get,
  take_over, put landing/, put raw/, complete's put and its fallback update), after at most
  ``PEER_WAIT_S`` of waiting, plus the CPU of validating and normalising 4 MB.
- botocore's ``standard`` retries would multiply each call: every retry adds a full
  connect + read and a backoff of up to 1 s x 2^i plus 5 s when the service sends
  x-amz-retry-after (botocore/retries/standard.py, ExponentialBackoff). On this path the client is
  the retry loop instead: a failed call answers 503 + Retry-After at once, and `inmet upload`
  retries the (idempotent, content-addressed) upload with backoff. So the request path makes one
  attempt per call (``total_max_attempts=1``; the boto3 guide "Retries": total_max_attempts
  includes the initial request).

The background functions (ExportFunction, the error handler, the stuck-upload check) are invoked
asynchronously with minutes of timeout: they keep botocore's standard retries.

Against the local stand-ins (moto server on a shared 2-core machine, uvicorn without a gateway)
the background budget is used for every client: moto answers in tens of milliseconds idle but can
take seconds under load, and there is no 29 s limit to race.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from botocore.config import Config

API_GATEWAY_INTEGRATION_TIMEOUT_S: Final = 29
UPLOAD_FUNCTION_TIMEOUT_S: Final = 25
# ExportFunction: Lambda's maximum. One load notification names at most 100 exported partitions,
# unloaded by a few COPY statements, and a retried export resumes where it stopped (issue 13);
# at the measured ~0.5-2 s per partition COPY that is well under 900 s.
EXPORT_FUNCTION_TIMEOUT_S: Final = 900
LAMBDA_MAX_TIMEOUT_S: Final = 900
# How long an upload waits for an identical upload in flight before answering 503 (retry).
PEER_WAIT_S: Final = 3.0
# CPU of one request: validating and normalising 4 MB at ~20 MB/s is 0.2 s; Mangum's base64 and
# the JSON answer are less. 2 s leaves a 10x margin for a slow cold container.
REQUEST_CPU_S: Final = 2.0

# botocore's standard backoff: rand(0,1) * min(base * 2**i, 20) with base 1 s for throttling,
# raised by x-amz-retry-after up to 5 s more (botocore/retries/standard.py).
_THROTTLING_BASE_S: Final = 1.0
_MAX_BACKOFF_S: Final = 20.0
_RETRY_AFTER_EXTRA_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class CallBudget:
    """One AWS client's timeouts and attempts."""

    connect_timeout_s: float
    read_timeout_s: float
    total_max_attempts: int
    max_pool_connections: int = 40

    def config(self) -> Config:
        # Lambda serves one request at a time; under uvicorn the app's thread pool (40 threads)
        # shares one client, and botocore's default pool of 10 made it reconnect for most calls.
        return Config(
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            retries={"total_max_attempts": self.total_max_attempts, "mode": "standard"},
            max_pool_connections=self.max_pool_connections,
        )

    def worst_case_s(self) -> float:
        """Longest one call can take before it answers or fails: every attempt hits both
        timeouts, every retry waits its longest backoff."""
        attempts = self.total_max_attempts * (self.connect_timeout_s + self.read_timeout_s)
        backoff = 0.0
        for i in range(self.total_max_attempts - 1):
            backoff += min(_THROTTLING_BASE_S * 2.0**i, _MAX_BACKOFF_S) + _RETRY_AFTER_EXTRA_S
        return attempts + backoff


# The request path (UploadFunction in AWS).
REQUEST_S3: Final = CallBudget(connect_timeout_s=1.0, read_timeout_s=3.0, total_max_attempts=1)
REQUEST_DYNAMODB: Final = CallBudget(
    connect_timeout_s=1.0, read_timeout_s=1.0, total_max_attempts=1
)
# Background functions and the local stand-ins.
BACKGROUND: Final = CallBudget(connect_timeout_s=3.0, read_timeout_s=10.0, total_max_attempts=3)

# The worst request's sequential calls (see the module docstring).
WORST_REQUEST_CALLS: Final = {"dynamodb": 5, "s3": 2}


def upload_worst_case_s(
    s3: CallBudget = REQUEST_S3, dynamodb: CallBudget = REQUEST_DYNAMODB
) -> float:
    return (
        PEER_WAIT_S
        + REQUEST_CPU_S
        + WORST_REQUEST_CALLS["s3"] * s3.worst_case_s()
        + WORST_REQUEST_CALLS["dynamodb"] * dynamodb.worst_case_s()
    )


def request_budgets(endpoint_url: str | None) -> dict[str, CallBudget]:
    """The budgets of the upload API's clients: the request path's in AWS, the background's
    against a local endpoint (see the module docstring)."""
    if endpoint_url:
        return {"s3": BACKGROUND, "dynamodb": BACKGROUND}
    return {"s3": REQUEST_S3, "dynamodb": REQUEST_DYNAMODB}
