"""Request-scoped log keys.

Powertools' ``Logger.append_keys`` stores keys on the logger's formatter, which every thread of
the process shares: under uvicorn (one process, a pool of threads serving requests at once) a
line of one upload carried another upload's ``upload_id``. The thread-safe variants keep the
keys per thread, and a request clears them when it starts and when it ends, because the pool
reuses its threads. Lambda serves one request at a time per container, where both behave alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger

# The same service name as every other Logger of the project: one shared handler.
logger = Logger()


def append_request_keys(**keys: Any) -> None:
    """Keys on every line this thread logs until the request ends."""
    logger.thread_safe_append_keys(**keys)


@contextmanager
def request_keys() -> Iterator[None]:
    """The scope of one request's keys (on this thread)."""
    logger.thread_safe_clear_keys()
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
