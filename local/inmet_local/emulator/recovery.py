"""How a local stack comes back from a crash, and notices a part that dies.

- ``restore_aws``: the moto server puts back the bucket's objects and the status table it keeps
  on disk (``inmet_local.emulator.aws_state``), once the stack has made the bucket and table.
- ``resume_uploads``: every upload whose status is not final (``received``, ``cleaned``) is
  announced to the pipe again, as the bucket's S3 event would announce it. The queues that held
  its progress lived in moto's memory; the pipe loads a file it has not loaded, or skips it and
  has the export run again (``Notifier.replay``): either way it reaches ``exported`` or
  ``failed`` with nobody re-uploading anything.
- ``Supervisor``: a thread that checks the stack's servers twice a second. When one has died it
  removes ``stack.json`` (no command finds a dead stack), stops the upload API at once (no 201
  for an upload nothing would process), records one line naming the part, and sets the stack's
  stop event; ``inmet local up`` and ``run`` then stop and say it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import boto3
import httpx

from inmet_local.emulator.aws_state import RESTORE_PATH
from inmet_local.emulator.servers import ManagedProcess, moto_access_key
from inmet_pipeline.status import UploadStatus

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

UNFINISHED = frozenset({UploadStatus.RECEIVED, UploadStatus.CLEANED})


def restore_aws(moto: ManagedProcess) -> dict[str, int]:
    """Ask the stack's moto server to restore what it kept; the counts it restored."""
    key = moto_access_key(moto)
    answer = httpx.post(
        moto.url + RESTORE_PATH,
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20000101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=0"
        },
        timeout=300,
    )
    answer.raise_for_status()
    counts: dict[str, int] = answer.json()
    return counts


def unfinished_raw_keys(client_kwargs: dict[str, Any], table: str) -> list[str]:
    """The raw/ keys of the uploads whose status is not final."""
    dynamodb = boto3.resource("dynamodb", **client_kwargs).Table(table)
    keys: list[str] = []
    scan: dict[str, Any] = {"ProjectionExpression": "#s, raw_key"}
    scan["ExpressionAttributeNames"] = {"#s": "status"}
    while True:
        page = dynamodb.scan(**scan)
        for item in page.get("Items", []):
            if item.get("status") in UNFINISHED and item.get("raw_key"):
                keys.append(str(item["raw_key"]))
        if "LastEvaluatedKey" not in page:
            return sorted(keys)
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def s3_created_event(bucket: str, keys: Sequence[str]) -> str:
    """An S3 ObjectCreated notification for ``keys`` (the shape the pipe's queue receives)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    records = [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventTime": now,
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/")}},
        }
        for key in keys
    ]
    return json.dumps({"Records": records})


def resume_uploads(client_kwargs: dict[str, Any], table: str, bucket: str, pipe_queue: str) -> int:
    """Announce every unfinished upload to the pipe again; how many."""
    keys = unfinished_raw_keys(client_kwargs, table)
    sqs: SQSClient = boto3.client("sqs", **client_kwargs)
    for start in range(0, len(keys), 50):
        sqs.send_message(
            QueueUrl=pipe_queue, MessageBody=s3_created_event(bucket, keys[start : start + 50])
        )
    return len(keys)


class Supervisor:
    """Watches ``parts``; on the first death, ``on_death(message)`` once, then it ends."""

    def __init__(
        self,
        parts: Sequence[ManagedProcess],
        on_death: Callable[[str], None],
        stop: threading.Event,
        interval: float = 0.5,
    ) -> None:
        self.parts = list(parts)
        self.on_death = on_death
        self.stop = stop
        self.interval = interval
        self.thread = threading.Thread(target=self._run, name="inmet-supervisor", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            for part in self.parts:
                if part.process is not None and part.process.poll() is not None:
                    if self.stop.is_set():  # stop() is stopping them: not a death
                        return
                    code = part.process.returncode
                    self.on_death(
                        f"the {part.name} stopped unexpectedly (exit code {code}); the local "
                        f"stack stopped with it. Start it again: what it accepted is kept and "
                        f"finishes on its own (see {part.log_path or 'its log'})"
                    )
                    return
