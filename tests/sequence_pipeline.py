"""The local pipeline that tests/upload_sequences.py drives step by step: the upload service
(moto's S3 and DynamoDB in this process, on a clock the test sets), the pipe and the task (the
local warehouse on a fakesnow server), the export handler, and the two fetches of `inmet fetch`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from export_clean import app as export_app
from export_clean.deps import export_service
from inmet_local.client.fetch import FetchError, fetch_from_s3, fetch_from_warehouse
from inmet_local.emulator.servers import (
    ManagedProcess,
    fakesnow_client_env,
    fakesnow_server_kwargs,
)
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables
from inmet_local.workspace.template import LocalNames, provision
from inmet_pipeline.adapters.aws import DynamoStatusStore, S3ObjectStore
from inmet_pipeline.settings import upload_settings
from inmet_pipeline.upload_objects import UploadSequence
from inmet_pipeline.uploads import UploadService
from tests.events import lambda_context, load_event

BUCKET = "inmet-sequences-test"
TABLE = "inmet-uploads-sequences"
START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """The upload service's clock: the test decides when each file is accepted (two within
    the same microsecond get sequences 1 µs apart: upload_objects.UploadSequence)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Pipeline:
    """The local pipeline, driven step by step: the upload service (moto's S3 and DynamoDB in
    this process), the pipe and the task (the local warehouse on the fakesnow server), the
    export handler, and the two fetches."""

    warehouse: LocalWarehouse
    work_dir: Path
    clock: Clock = field(default_factory=Clock)
    s3: Any = None
    uploads: UploadService = field(init=False)

    def __post_init__(self) -> None:
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.uploads = self._service()

    def _service(self) -> UploadService:
        return UploadService(
            S3ObjectStore(BUCKET), DynamoStatusStore(TABLE), sequence=UploadSequence(self.clock)
        )

    def reset(self) -> None:
        """Empty every table of the warehouse, the bucket and the status table: the next
        sequence starts on a pipeline that never saw an upload."""
        wh = self.warehouse
        database = wh.clean.split(".")[0]
        tables = wh.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = ? AND table_type = 'BASE TABLE'",
            [database],
        )
        for schema, table in tables:
            wh.execute(f"DELETE FROM {database}.{schema}.{table}")
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                self.s3.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
        table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
        for item in table.scan(ProjectionExpression="upload_id")["Items"]:
            table.delete_item(Key={"upload_id": item["upload_id"]})
        self.clock.now = START
        self.uploads = self._service()

    def load(self, keys: list[str], modified: dict[str, datetime], pipe_loads: int) -> list[str]:
        """``keys`` in this order through ``pipe_loads`` COPYs and one task run (one batch):
        the batch's load notifications, not yet delivered."""
        objects = [(k, self.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]
        size = -(-len(objects) // pipe_loads)
        for start in range(0, len(objects), size):
            self.warehouse.load_objects(objects[start : start + size], modified)
        assert self.warehouse.run_task() is not None, "the task found nothing to do"
        sent: list[str] = []
        self.warehouse.send_notifications(sent.append)
        return sent

    def deliver(self, messages: list[str], twice: bool) -> None:
        """Each load notification to the export handler (``twice``: each delivered twice)."""
        for message in messages:
            event = load_event("export_notification.json")
            event["Records"][0]["Sns"]["Message"] = message
            for _ in range(2 if twice else 1):
                export_app.handler(event, lambda_context())

    def status(self, upload_id: str) -> dict[str, Any]:
        document = self.uploads.get(upload_id)
        assert document is not None, upload_id
        return document

    def fetch_s3(self) -> bytes:
        out = self.work_dir / "from-s3.csv"
        try:
            fetch_from_s3(self.s3, BUCKET, out)
        except FetchError as exc:
            if "no exported partitions" not in str(exc):
                raise
            return b"<no exported partitions>"
        return out.read_bytes()

    def fetch_warehouse(self) -> bytes:
        out = self.work_dir / "from-snowflake.csv"
        fetch_from_warehouse(self.warehouse.conn, f"{self.warehouse.clean}.INMET_CLEAN", out)
        return out.read_bytes()


def export_handler_env(
    fakesnow: ManagedProcess, database: str, bucket: str, table: str
) -> dict[str, str]:
    """The export handler's settings for moto in this process (mock_aws: no endpoint URL) and
    the database ``database`` on the fakesnow server ``fakesnow``."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_BUCKET": bucket,
        "INMET_STATUS_TABLE": table,
        **fakesnow_client_env(fakesnow),
        "SNOWFLAKE_DATABASE": database,
    }


@contextlib.contextmanager
def local_pipeline(fakesnow: ManagedProcess, work_dir: Path) -> Iterator[Pipeline]:
    """A pipeline of its own on ``fakesnow``: a new database, moto in this process, the export
    handler's settings in the environment (restored afterwards)."""
    database = f"Q{uuid.uuid4().hex[:10].upper()}"
    env = export_handler_env(fakesnow, database, BUCKET, TABLE)
    saved = {name: os.environ.get(name) for name in [*env, "AWS_ENDPOINT_URL"]}
    os.environ.update(env)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    upload_settings.cache_clear()
    export_service.cache_clear()
    try:
        with mock_aws():
            provision({"region_name": "us-east-1"}, LocalNames(bucket=BUCKET, table=TABLE))
            values = variables({"database": database})
            with LocalWarehouse(
                fakesnow_server_kwargs(fakesnow), values=values, work_dir=work_dir / "pipe"
            ) as wh:
                wh.deploy()  # (a database of its own, gone with the fakesnow server)
                yield Pipeline(wh, work_dir)
    finally:
        export_service.cache_clear()
        upload_settings.cache_clear()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
