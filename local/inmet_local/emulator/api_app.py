"""The upload API as the local stack serves it: the app behind a body-read deadline.

In AWS, API Gateway receives the whole request before the function runs, and it stops waiting
for a slow client itself. Locally uvicorn hands the app a body as it trickles in, and it sets
no limit: a client sending one byte a second held a connection (and a worker's attention) for
as long as it liked. Here a request's body must arrive whole within ``INMET_LOCAL_BODY_SECONDS``
(default 20 s) of the request's start, or the answer is 408 and the connection is closed. The
largest upload (4 MB) needs 200 kB/s to make it: any client on this machine is far faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from upload_api.app import app as upload_app

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_SECONDS_ENV = "INMET_LOCAL_BODY_SECONDS"
BODY_SECONDS = 20.0


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def body_deadline(inner: ASGIApp, seconds: float) -> ASGIApp:
    """``inner`` with its request bodies cut off after ``seconds`` (408)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await inner(scope, receive, send)
            return
        body_read = asyncio.Event()
        started = False

        async def receiving() -> Message:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_read.set()
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        task = asyncio.ensure_future(inner(scope, receiving, sending))
        waiter = asyncio.ensure_future(body_read.wait())
        try:
            await asyncio.wait({task, waiter}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if task.done() or body_read.is_set():
            await task  # the body is in (or the app is done): no deadline on the rest
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if started:
            return
        body = json.dumps(
            {
                "error": {
                    "code": "body_timeout",
                    "message": f"The request body did not arrive within {seconds:g} s.",
                    "line": None,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 408,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


app = body_deadline(upload_app, float(os.environ.get(BODY_SECONDS_ENV) or BODY_SECONDS))
