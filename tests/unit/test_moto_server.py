"""The local stack's fixes for moto decide exactly what moto decides, only faster."""

from __future__ import annotations

import sys
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import SQSBackend

from inmet_local.emulator.moto_server import apply_fixes

pytestmark = [pytest.mark.unit]


def _receive_after(age_seconds: float, retention: int) -> list[Any]:
    """Send a message, age it by ``age_seconds``, receive: what comes back."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(
            QueueName="q", Attributes={"MessageRetentionPeriod": str(retention)}
        )["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        from moto.sqs.models import sqs_backends

        queue: Any = sqs_backends["123456789012"]["us-east-1"].get_queue("q")
        for message in queue._messages:
            message.sent_timestamp = int((time.time() - age_seconds) * 1000)
        return list(sqs.receive_message(QueueUrl=url).get("Messages", []))


@pytest.mark.parametrize(("age", "kept"), [(0, True), (59, True), (61, False), (10**6, False)])
def test_retention_is_decided_as_moto_does(age: float, kept: bool) -> None:
    original = SQSBackend.is_message_valid_based_on_retention_period
    unfixed = _receive_after(age, retention=60)
    apply_fixes()
    try:
        fixed = _receive_after(age, retention=60)
    finally:
        SQSBackend.is_message_valid_based_on_retention_period = original  # type: ignore[method-assign]
    assert bool(unfixed) == kept
    assert bool(fixed) == kept
    if kept:
        assert fixed[0]["Body"] == unfixed[0]["Body"] == "hello"


def test_moto_modules_are_listed_once_and_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's server asks for its module list on every request; after the fix the answer is
    the listing made once, and no request lists the folder again."""
    from moto import backends

    # moto's own function (an earlier test of this process may have applied the fixes)
    original = getattr(backends.list_of_moto_modules, "__wrapped__", backends.list_of_moto_modules)
    listed = list(original())
    assert {"s3", "sqs", "dynamodb"} <= set(listed)
    monkeypatch.setattr(
        SQSBackend,
        "is_message_valid_based_on_retention_period",
        SQSBackend.is_message_valid_based_on_retention_period,
    )
    monkeypatch.setattr(backends, "list_of_moto_modules", original)
    apply_fixes()
    assert backends.list_of_moto_modules is not original

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    monkeypatch.setattr("os.listdir", no_listing)
    assert list(backends.list_of_moto_modules()) == listed
    assert list(backends.list_of_moto_modules()) == listed  # and again, from the same list


def test_the_request_log_is_written_plain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """werkzeug adds its colorama-wrapped handler only to a logger without one: the server's
    own plain handler comes first, and the request lines read as werkzeug writes them."""
    import logging

    from werkzeug._internal import _has_level_handler, _log

    from inmet_local.emulator.moto_server import plain_request_log

    logger = logging.getLogger("werkzeug")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    handler = plain_request_log()
    assert _has_level_handler(logger)
    assert handler.stream is sys.stderr  # not colorama's wrapper
    _log("info", '127.0.0.1 - - "%s" %s %s', "PUT /bucket/key HTTP/1.1", "200", "-")
    assert logger.handlers == [handler]  # werkzeug added no handler of its own
    assert '"PUT /bucket/key HTTP/1.1" 200 -' in capsys.readouterr().err


def test_dynamodb_writes_run_one_at_a_time() -> None:
    """A conditional write checks and writes as one step, as DynamoDB does: while another write
    holds moto's DynamoDB, a PutItem waits; then exactly one of two claims of an id wins."""
    import threading

    from botocore.exceptions import ClientError

    from inmet_local.emulator.moto_server import DYNAMODB_WRITES_LOCK

    apply_fixes()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        outcomes: list[str] = []

        def claim() -> None:
            try:
                dynamodb.put_item(
                    TableName="t",
                    Item={"id": {"S": "upload"}},
                    ConditionExpression="attribute_not_exists(id)",
                )
                outcomes.append("claimed")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

        with DYNAMODB_WRITES_LOCK:
            threads = [threading.Thread(target=claim) for _ in range(2)]
            for thread in threads:
                thread.start()
            time.sleep(0.3)
            assert outcomes == []  # both wait for the write in progress
        for thread in threads:
            thread.join(timeout=10)
        assert sorted(outcomes) == ["ConditionalCheckFailedException", "claimed"]
