"""Errors the use cases raise; the HTTP and Lambda layers translate them, nothing else."""

from __future__ import annotations


class DependencyUnavailable(RuntimeError):  # noqa: N818 - it names a state, like TimeoutError
    """S3, DynamoDB, SNS or Snowflake failed: the caller should retry later (HTTP 503)."""

    def __init__(
        self, dependency: str, detail: str, retry_after: int = 5, *, maybe_done: bool = False
    ) -> None:
        super().__init__(f"{dependency} is unavailable: {detail}")
        self.dependency = dependency
        self.detail = detail
        self.retry_after = retry_after
        # True when the call may have taken effect although its answer was lost (a timeout, a
        # dropped connection, a 5xx): a write must then be treated as possibly written.
        self.maybe_done = maybe_done


class UploadRejected(ValueError):  # noqa: N818 - a rejection, not a malfunction
    """The uploaded bytes are not accepted; ``status`` is the HTTP status that says why."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        line: int | None = None,
        details: list[dict[str, object]] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.line = line
        self.details = details or []


class PartitionRejected(RuntimeError):  # noqa: N818 - a refusal, not a malfunction
    """The warehouse refused to export one partition (an SQL error of that statement, not an
    outage): the export skips it, exports the rest and marks its uploads failed."""
