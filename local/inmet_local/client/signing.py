"""SigV4 for `inmet upload --auth iam`: requests signed with the caller's AWS credentials.

With the stack's ApiAuth=Iam, API Gateway checks an AWS Signature Version 4 on every request
(service ``execute-api``) instead of an API key. The signature is botocore's own
(botocore.auth.SigV4Auth), computed over the request exactly as httpx will send it: method, URL,
the headers that matter (host, content-type, x-filename) and a SHA-256 of the body. Credentials
come from botocore's usual chain (environment, profile, SSO, instance role) and are frozen per
request, so refreshed credentials are picked up by long uploads.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any, Final

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

SERVICE: Final = "execute-api"
# Only these of httpx's headers are signed; the others (user-agent, accept-encoding,
# connection, content-length) may be rewritten on the way without breaking the signature.
SIGNED: Final = ("host", "content-type", "x-filename")
_REGION_IN_URL: Final = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class CredentialsMissingError(RuntimeError):
    pass


def region_of(api_url: str) -> str | None:
    """The region of an execute-api URL (https://<id>.execute-api.<region>.amazonaws.com/…)."""
    found = _REGION_IN_URL.search(api_url)
    return found.group(1) if found else None


_NEEDS = (
    "--auth iam needs AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
    "SSO or an instance role)"
)


def default_credentials() -> Any:
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        credentials = botocore.session.Session().get_credentials()
    except BotoCoreError as exc:  # a missing profile, an unreadable config file, ...
        raise CredentialsMissingError(f"{_NEEDS}: {exc}") from None
    if credentials is None:
        raise CredentialsMissingError(f"{_NEEDS}; none were found")
    return credentials


class SigV4HttpxAuth(httpx.Auth):
    requires_request_body = True

    def __init__(self, credentials: Any, region: str, service: str = SERVICE) -> None:
        self.credentials = credentials
        self.region = region
        self.service = service

    def sign(self, request: httpx.Request) -> None:
        frozen = self.credentials.get_frozen_credentials()
        aws = AWSRequest(
            method=request.method,
            url=str(request.url),
            data=request.content,
            headers={k: request.headers[k] for k in SIGNED if k in request.headers},
        )
        SigV4Auth(frozen, self.service, self.region).add_auth(aws)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in aws.headers:
                request.headers[name] = aws.headers[name]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request
