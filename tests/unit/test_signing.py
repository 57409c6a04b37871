"""`inmet upload --auth iam`: the request carries the SigV4 signature botocore computes
(issue 14 point 12). API Gateway checks it in AWS; here it is recomputed with botocore from the
request as sent, so a signature over other bytes, another time or another scope fails."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from inmet_local.client.client import ApiClient
from inmet_local.client.signing import SERVICE, SIGNED, SigV4HttpxAuth, region_of
from inmet_local.workspace.sources import InputFile
from tests.helpers import small_file

pytestmark = [pytest.mark.unit]

URL = "https://abc123.execute-api.sa-east-1.amazonaws.com/dev"
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")


def _expected_signature(request: httpx.Request, region: str = "sa-east-1") -> str:
    """What botocore's SigV4Auth gives for this request at its own X-Amz-Date."""
    aws = AWSRequest(
        method=request.method,
        url=str(request.url),
        data=request.content,
        headers={k: request.headers[k] for k in SIGNED if k in request.headers},
    )
    aws.headers["X-Amz-Date"] = request.headers["x-amz-date"]
    aws.headers["X-Amz-Security-Token"] = request.headers["x-amz-security-token"]
    aws.context["timestamp"] = request.headers["x-amz-date"]
    signer = SigV4Auth(CREDS.get_frozen_credentials(), SERVICE, region)
    canonical = signer.canonical_request(aws)
    return signer.signature(signer.string_to_sign(aws, canonical), aws)


def _capture(auth: httpx.Auth | None, tmp_path: Path) -> list[httpx.Request]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={"upload_id": "0" * 64})

    sample = small_file("B")
    path = tmp_path / sample.filename
    path.write_bytes(sample.data)
    with ApiClient(URL, None, transport=httpx.MockTransport(handler), auth=auth) as client:
        outcome = client.upload(InputFile(path.name, str(path), len(sample.data), path.read_bytes))
        client.status("0" * 64)
    assert outcome.outcome == "accepted"
    return sent


def test_signed_requests_carry_botocores_signature(tmp_path: Path) -> None:
    sent = _capture(SigV4HttpxAuth(CREDS, "sa-east-1"), tmp_path)
    assert [r.method for r in sent] == ["POST", "GET"]
    for request in sent:
        authorization = request.headers["authorization"]
        date = request.headers["x-amz-date"]
        assert re.fullmatch(r"\d{8}T\d{6}Z", date), date  # 20261201T193000Z
        scope = f"AKIDEXAMPLE/{date[:8]}/sa-east-1/execute-api/aws4_request"
        assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=")
        signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
        assert request.headers["x-amz-security-token"] == "session-token"
        signature = authorization.rsplit("Signature=", 1)[1]
        assert signature == _expected_signature(request)
        assert "x-api-key" not in request.headers
    assert "content-type" in sent[0].headers["authorization"]  # the POST signs its body type


def test_a_changed_body_or_region_no_longer_matches(tmp_path: Path) -> None:
    [post, _] = _capture(SigV4HttpxAuth(CREDS, "sa-east-1"), tmp_path)
    signature = post.headers["authorization"].rsplit("Signature=", 1)[1]
    assert _expected_signature(post, region="us-east-1") != signature
    tampered = httpx.Request("POST", post.url, headers=post.headers, content=post.content + b"x")
    assert _expected_signature(tampered) != signature


def test_an_unsigned_request_is_distinguishable(tmp_path: Path) -> None:
    for request in _capture(None, tmp_path):
        assert "authorization" not in request.headers
        assert "x-amz-date" not in request.headers


def test_the_region_comes_from_the_api_url() -> None:
    assert region_of(URL) == "sa-east-1"
    assert region_of("http://127.0.0.1:8000") is None
