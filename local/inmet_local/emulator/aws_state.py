"""What the local stack's moto server keeps on disk: the bucket's objects and the status table.

moto keeps every backend in memory. Its only way to bring state back is the recorder ("Recorder",
https://github.com/spulec/moto/blob/4.2.9/docs/docs/configuration/recorder/index.rst), which
logs every request (S3 bodies, SQS polls) and replays all of them: a year of files would be
logged twice over, and a replay would send every S3 event and SNS message again. Instead this
WSGI layer, wrapped around moto's application in the moto server process, writes what the
pipeline cannot lose, before the answer leaves the server:

- **S3**: after each successful write to an object, the object as moto now holds it (bytes,
  metadata, LastModified) is written to ``<state>/s3/`` (one data file and one JSON file per
  object, each replaced whole by a rename), or removed after a delete;
- **DynamoDB**: each successful write request (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
  TransactWriteItems) is appended to ``<state>/dynamodb.jsonl``; writes are applied and logged
  one at a time, so the log's order is the order moto applied them.

``POST /inmet-local/restore`` (the stack calls it once the bucket and the table exist) puts the
objects back with their LastModified and no S3 event, replays the DynamoDB log and rewrites it
as one PutItem per item. Queues and topics are not kept: the stack announces again every upload
that has not reached ``exported`` or ``failed`` (docs/local-runtime.md, "What survives a crash").

The layer also refuses a request signed with another access key than the stack's (moto itself
accepts any credentials) and closes moto's ``/moto-api`` (its dashboard dumps every backend).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ACCESS_KEY_ENV = "INMET_LOCAL_AWS_ACCESS_KEY"
STATE_DIR_ENV = "INMET_LOCAL_AWS_STATE"
READY_PATH = "/inmet-local/ready"
RESTORE_PATH = "/inmet-local/restore"
DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_QUERY_KEY = re.compile(r"(?:^|&)X-Amz-Credential=([^%&/]+)")


def _scope(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(access key, region, service) of a SigV4-signed request; None when unsigned."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1), match.group(2), match.group(3)
    query = _QUERY_KEY.search(environ.get("QUERY_STRING", ""))
    return (query.group(1), "", "s3") if query else None


def _answer(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class DurableState:
    """The WSGI layer around moto's application (see the module's docstring)."""

    def __init__(self, app: WSGIApp, state_dir: Path | None, access_key: str | None) -> None:
        self.app = app
        self.state_dir = state_dir
        self.access_key = access_key
        self._s3_lock = threading.Lock()
        self._dynamodb_lock = threading.Lock()
        if state_dir is not None:
            (state_dir / "s3").mkdir(parents=True, exist_ok=True)

    @property
    def journal(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "dynamodb.jsonl"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == READY_PATH:
            return _answer(start_response, "200 OK", "ready")
        scope = _scope(environ)
        if self.access_key is not None and (scope is None or scope[0] != self.access_key):
            # Checked before anything else: the dashboard and the restore route included.
            return _answer(
                start_response, "403 Forbidden", "this local AWS accepts only its stack's key"
            )
        if path.startswith("/moto-api"):
            return _answer(start_response, "403 Forbidden", "moto's dashboard is turned off")
        if path == RESTORE_PATH and environ.get("REQUEST_METHOD") == "POST":
            return _answer(start_response, "200 OK", json.dumps(self.restore()))
        if self.state_dir is None or scope is None:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if scope[2] == "s3" and method in {"PUT", "POST", "DELETE"}:
            return self._s3_write(environ, start_response, path)
        target = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if scope[2] == "dynamodb" and target in DYNAMODB_WRITES:
            return self._dynamodb_write(environ, start_response, scope[1], target)
        return self.app(environ, start_response)

    # -- answering ------------------------------------------------------------------------------
    def _call(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> tuple[bool, list[bytes]]:
        """Run moto and hold its answer (moto's answers are in memory anyway); True when 2xx."""
        status: list[str] = []

        def capture(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        result = self.app(environ, capture)
        try:
            body = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return bool(status) and status[-1].startswith("2"), body

    def _s3_write(
        self, environ: dict[str, Any], start_response: Callable[..., Any], path: str
    ) -> list[bytes]:
        ok, body = self._call(environ, start_response)
        bucket, _, key = path.lstrip("/").partition("/")
        if ok and bucket:
            if key:
                self._sync_object(bucket, key)
            elif "delete" in environ.get("QUERY_STRING", ""):
                self._sync_bucket(bucket)  # DeleteObjects: any of its keys may be gone
        return body

    def _dynamodb_write(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        region: str,
        target: str,
    ) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(request)
        with self._dynamodb_lock:  # applied and logged in the same order
            ok, body = self._call(environ, start_response)
            if ok:
                line = {"target": target, "region": region, "body": request.decode()}
                with self.journal.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(line) + "\n")
        return body

    # -- S3 on disk -----------------------------------------------------------------------------
    def _files(self, bucket: str, key: str) -> tuple[Path, Path]:
        assert self.state_dir is not None
        name = hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()
        folder = self.state_dir / "s3"
        return folder / f"{name}.data", folder / f"{name}.json"

    def _sync_object(self, bucket: str, key: str) -> None:
        """Write ``key`` as moto holds it now, or remove it when moto has none."""
        backend = _s3_backend()
        data_file, meta_file = self._files(bucket, key)
        with self._s3_lock:
            try:
                obj = backend.get_object(bucket, key)
            except Exception:  # moto's NoSuchKey/NoSuchBucket: it is gone
                obj = None
            if obj is None:
                meta_file.unlink(missing_ok=True)
                data_file.unlink(missing_ok=True)
                return
            _replace(data_file, obj.value)
            meta = {
                "bucket": bucket,
                "key": key,
                "last_modified": obj.last_modified.isoformat(),
                "metadata": dict(obj.metadata),
            }
            _replace(meta_file, json.dumps(meta).encode())

    def _sync_bucket(self, bucket: str) -> None:
        assert self.state_dir is not None
        for meta_file in (self.state_dir / "s3").glob("*.json"):
            with contextlib.suppress(OSError, ValueError, KeyError):
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
                if meta["bucket"] == bucket:
                    self._sync_object(bucket, meta["key"])

    # -- restore --------------------------------------------------------------------------------
    def restore(self) -> dict[str, int]:
        """Put the kept objects and items back into moto; the counts restored."""
        if self.state_dir is None:
            return {"objects": 0, "writes": 0}
        backend = _s3_backend()
        objects = 0
        with self._s3_lock:
            for meta_file in sorted((self.state_dir / "s3").glob("*.json")):
                data_file = meta_file.with_suffix(".data")
                try:
                    meta = json.loads(meta_file.read_text(encoding="utf-8"))
                    value = data_file.read_bytes()
                except (OSError, ValueError):
                    continue  # a write cut by the crash: its answer never left the server
                obj = backend.put_object(
                    meta["bucket"], meta["key"], value, disable_notification=True
                )
                obj.set_metadata(dict(meta["metadata"]))
                obj.last_modified = datetime.fromisoformat(meta["last_modified"])
                objects += 1
        with self._dynamodb_lock:
            writes = self._replay()
            self._compact()
        return {"objects": objects, "writes": writes}

    def _replay(self) -> int:
        from werkzeug.test import Client

        if not self.journal.exists():
            return 0
        client = Client(self.app)
        writes = 0
        for text in self.journal.read_text(encoding="utf-8").splitlines():
            try:
                line = json.loads(text)
            except ValueError:
                continue  # the last line, cut by the crash: its answer never left the server
            client.post(
                "/",
                data=line["body"].encode(),
                headers={
                    "X-Amz-Target": f"DynamoDB_20120810.{line['target']}",
                    "Content-Type": "application/x-amz-json-1.0",
                    "Authorization": _restore_authorization(line["region"], "dynamodb"),
                },
            )
            writes += 1
        return writes

    def _compact(self) -> None:
        """The log as one PutItem per item now held (it grows again from there)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        lines = []
        for region, backend in dynamodb_backends[DEFAULT_ACCOUNT_ID].items():
            for name, table in backend.tables.items():
                for item in table.all_items():
                    body = {"TableName": name, "Item": item.to_json()["Attributes"]}
                    lines.append({"target": "PutItem", "region": region, "body": json.dumps(body)})
        _replace(self.journal, "".join(json.dumps(line) + "\n" for line in lines).encode())


def _restore_authorization(region: str, service: str) -> str:
    # moto reads the service and region from the credential scope; it checks no signature.
    return (
        f"AWS4-HMAC-SHA256 Credential=restore/20000101/{region}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )


def _s3_backend() -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole: a reader (or a restart after a crash) sees the old file or the new
    one, never a part. No fsync: a process killed after this keeps it (the page cache is the
    kernel's); a power cut may lose the last writes (docs/local-runtime.md)."""
    tmp = path.with_name(f"{path.name}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
    tmp.replace(path)


def wrap(app: WSGIApp) -> WSGIApp:
    """moto's application as the local stack runs it (settings from the environment)."""
    state = os.environ.get(STATE_DIR_ENV)
    return DurableState(app, Path(state) if state else None, os.environ.get(ACCESS_KEY_ENV))


__all__ = ["ACCESS_KEY_ENV", "READY_PATH", "RESTORE_PATH", "STATE_DIR_ENV", "DurableState", "wrap"]
