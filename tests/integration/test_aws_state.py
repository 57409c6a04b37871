"""moto as the local stack runs it keeps the bucket and the status table across a kill -9.

The restore must give back each object's LastModified (the task's MERGE orders uploads by it,
docs/architecture.md "Idempotent MERGE, ordered by upload time"), send no S3 event (the stack
announces what is unfinished itself), and replay the table's writes in the order moto applied
them, conditional ones included.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import boto3
import pytest

from inmet_local.emulator.pipe import s3_event_keys
from inmet_local.emulator.recovery import restore_aws
from inmet_local.emulator.servers import ManagedProcess, moto_client_kwargs, moto_server
from inmet_local.workspace.template import pipe_queue

pytestmark = [pytest.mark.integration]

KEY = "LOCALSTATETEST"


def _start(state: Path, log: Path) -> tuple[ManagedProcess, dict[str, Any]]:
    server = moto_server(log_path=log, state_dir=state, access_key=KEY).start()
    kwargs: dict[str, Any] = moto_client_kwargs(server.url, access_key=KEY)
    s3 = boto3.client("s3", **kwargs)
    s3.create_bucket(Bucket="kept")
    dynamodb = boto3.client("dynamodb", **kwargs)
    dynamodb.create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return server, kwargs


def test_objects_and_items_survive_a_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "aws"
    server, kwargs = _start(state, tmp_path / "moto1.log")
    try:
        s3 = boto3.client("s3", **kwargs)
        s3.put_object(Bucket="kept", Key="raw/a.csv", Body=b"one", ContentType="text/csv")
        s3.put_object(Bucket="kept", Key="raw/gone.csv", Body=b"x")
        s3.delete_object(Bucket="kept", Key="raw/gone.csv")
        s3.put_object(Bucket="kept", Key="raw/b.csv", Body=b"two", Metadata={"station": "A001"})
        before = {
            k: s3.head_object(Bucket="kept", Key=k)["LastModified"]
            for k in ("raw/a.csv", "raw/b.csv")
        }
        table = boto3.resource("dynamodb", **kwargs).Table("kept")
        table.put_item(Item={"id": "u1", "status": "received"})
        table.update_item(
            Key={"id": "u1"},
            UpdateExpression="SET #s = :e",
            ConditionExpression="#s = :r",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":e": "exported", ":r": "received"},
        )
        with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
            table.put_item(Item={"id": "u1"}, ConditionExpression="attribute_not_exists(id)")
        table.put_item(Item={"id": "u2", "status": "received"})
        table.delete_item(Key={"id": "u2"})
    finally:
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)  # no shutdown: what is on disk is all
        server.stop()

    server, kwargs = _start(state, tmp_path / "moto2.log")
    try:
        s3 = boto3.client("s3", **kwargs)
        sqs = boto3.client("sqs", **kwargs)
        queue = pipe_queue(sqs, s3, "kept", "events")  # raw/ events, as the stack's pipe gets
        assert restore_aws(server) == {"objects": 2, "writes": 4}
        messages = sqs.receive_message(
            QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10
        ).get("Messages", [])
        # Only the test event S3 sends when a notification is configured; no ObjectCreated.
        assert [k for m in messages for k in s3_event_keys(m["Body"])] == []
        for key, body in (("raw/a.csv", b"one"), ("raw/b.csv", b"two")):
            got = s3.get_object(Bucket="kept", Key=key)
            assert got["Body"].read() == body
            assert got["LastModified"] == before[key]
        assert s3.head_object(Bucket="kept", Key="raw/a.csv")["ContentType"] == "text/csv"
        assert s3.head_object(Bucket="kept", Key="raw/b.csv")["Metadata"] == {"station": "A001"}
        assert "Contents" not in s3.list_objects_v2(Bucket="kept", Prefix="raw/gone")
        items = boto3.resource("dynamodb", **kwargs).Table("kept").scan()["Items"]
        assert items == [{"id": "u1", "status": "exported"}]
        # The log was rewritten as one PutItem per item.
        lines = (state / "dynamodb.jsonl").read_text().splitlines()
        assert [json.loads(line)["target"] for line in lines] == ["PutItem"]
    finally:
        server.stop()
