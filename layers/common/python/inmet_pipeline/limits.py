"""Payload limits, stated once: the API, `inmet upload` and the tests read them from here.

API Gateway hands a binary body (binary media types, see template.yaml) to Lambda base64-encoded
inside the JSON event, and a synchronous Lambda invocation carries at most 6 MB ("Invoke - AWS
Lambda": "For synchronous invocations, the maximum payload size is 6 MB"). Base64 grows the body
by 4/3 and the event's headers and request context add a few KB, so a body above ~4.4 MB never
reaches the function: the client gets the gateway's error instead of the app's 413. The API's own
limit is therefore 4 MiB (INMET station-year files are 0.3-1.1 MB), which keeps the event under
6 MB with room for headers (tests/unit/test_limits.py builds the event and measures it), and
`inmet upload` refuses larger files before sending them.
"""

from __future__ import annotations

from typing import Final

MAX_UPLOAD_BYTES: Final = 4 * 1024 * 1024
TOO_LARGE_CODE: Final = "payload_too_large"
# Lambda's synchronous invocation payload limit. "6 MB" is taken as the smaller reading
# (6,000,000 bytes), so the check does not lean on the binary megabyte.
LAMBDA_SYNC_PAYLOAD_BYTES: Final = 6_000_000
# API Gateway REST API payload quota ("Quotas for configuring and running a REST API").
API_GATEWAY_PAYLOAD_BYTES: Final = 10 * 1024 * 1024


def base64_size(n: int) -> int:
    return 4 * ((n + 2) // 3)


def too_large_message(
    size: int | None, limit: int = MAX_UPLOAD_BYTES, *, multipart: bool = False
) -> str:
    """The 413 message, shared by the API and `inmet upload`'s check before sending. For a
    multipart body only the request's size is known (the file is inside it): the message says
    so instead of calling it the file's."""
    if multipart:
        got = (
            f"The request is {size:,} bytes (the file and its multipart framing); the file "
            "inside is "
            if size is not None
            else "The file inside the multipart request is "
        )
    else:
        got = f"The file is {size:,} bytes; " if size is not None else "The body is "
    return (
        f"{got}over the direct-upload limit of {limit:,} bytes ({limit / 2**20:g} MB). "
        "INMET station-year files are 0.3-1.1 MB: send one file per request."
    )
