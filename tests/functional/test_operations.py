"""Operations on a deployed stack, against moto: the stuck-upload check (issue 14 point 11) and
`inmet aws redrive` (point 5)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from inmet_local.ops.redrive import parse_record, redrive
from inmet_local.workspace.template import Provisioned
from inmet_pipeline.adapters.aws import DynamoStatusStore
from inmet_pipeline.stuck import METRIC, find_stuck, iso_z
from tests.functional.resources import TABLE
from tests.template_synth import synthesise

pytestmark = [pytest.mark.functional]

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _put(upload_id: str, status: str, minutes_ago: int) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    table.put_item(
        Item={
            "upload_id": upload_id,
            "status": status,
            "received_at": iso_z(NOW - timedelta(minutes=minutes_ago)),
            "station_id": "A001",
        }
    )


@pytest.fixture
def uploads(aws: Provisioned) -> Provisioned:
    _put("old-received", "received", 180)
    _put("older-received", "received", 600)
    _put("new-received", "received", 10)
    _put("old-exported", "exported", 600)
    _put("old-failed", "failed", 600)
    _put("just-at-the-limit", "received", 60)
    return aws


def test_stuck_check_counts_only_old_received_uploads(uploads: Provisioned) -> None:
    report = find_stuck(DynamoStatusStore(TABLE), NOW, 60)
    assert report.cutoff == "2026-12-01T11:00:00Z"
    assert report.count == 2
    assert [upload_id for _, upload_id in report.oldest] == ["older-received", "old-received"]
    assert find_stuck(DynamoStatusStore(TABLE), NOW, 5).count == 4
    with pytest.raises(ValueError, match="positive"):
        find_stuck(DynamoStatusStore(TABLE), NOW, 0)


def test_stuck_check_pages_through_a_large_table(aws: Provisioned) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    with table.batch_writer() as batch:
        for i in range(1200):
            batch.put_item(
                Item={
                    "upload_id": f"u{i:05d}",
                    "status": "received",
                    "received_at": "2026-01-01T00:00:00Z",
                    "padding": "x" * 1000,  # > 1 MB in all: more than one Scan page
                }
            )
    assert find_stuck(DynamoStatusStore(TABLE), NOW, 60).count == 1200


def test_stuck_handler_publishes_the_metric_the_alarm_watches(
    uploads: Provisioned, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from export_clean import app as export_app

    monkeypatch.setenv("INMET_STUCK_AFTER_MINUTES", "60")
    monkeypatch.setattr(export_app, "datetime", _FrozenDatetime)
    context = _Context()
    result = export_app.stuck_uploads_handler({"source": "aws.events"}, context)
    assert result["stuck"] == 2
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    [blob] = [b for b in blobs if METRIC in b]
    assert blob[METRIC] in (2, [2.0])  # EMF keeps a list of the values
    alarm = synthesise()["Resources"]["StuckUploadsAlarm"]["Properties"]
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == alarm["Namespace"]
    assert alarm["MetricName"] in {m["Name"] for m in directive["Metrics"]}
    want = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert {d: blob[d] for d in directive["Dimensions"][0]} == want


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _FrozenDatetime:
        return cls.fromtimestamp(NOW.timestamp(), tz)


class _Context:
    function_name = "StuckUploadsFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stuck"
    aws_request_id = "req-1"


# -- redrive -----------------------------------------------------------------------------------


@pytest.fixture
def lambda_and_queue(aws_env: None) -> Iterator[dict[str, Any]]:
    """A function with a `live` alias and a queue, in moto (functions are not executed:
    moto's lambda `use_docker: False` answers invocations without running code)."""
    with mock_aws(config={"lambda": {"use_docker": False}}):
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(
            RoleName="fn",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr("app.py", "def handler(event, context):\n    return event\n")
        lam = boto3.client("lambda", region_name="us-east-1")
        fn = lam.create_function(
            FunctionName="export",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code.getvalue()},
            Publish=True,
        )
        lam.create_alias(FunctionName="export", Name="live", FunctionVersion=fn["Version"])
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        calls: list[dict[str, Any]] = []
        lam.meta.events.register(
            "provide-client-params.lambda.Invoke", lambda params, **_: calls.append(dict(params))
        )
        alias = lam.get_alias(FunctionName="export", Name="live")["AliasArn"]
        yield {"lambda": lam, "sqs": sqs, "url": url, "calls": calls, "alias": alias}


def _record(function_arn: str, event: dict[str, Any]) -> str:
    """An on-failure destination record ("Capturing records of Lambda asynchronous
    invocations")."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-12-01T12:00:00.000Z",
            "requestContext": {
                "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
                "functionArn": function_arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "1"},
            "responsePayload": {"errorMessage": "Snowflake is unavailable"},
        }
    )


def _visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_redrive_replays_each_record_to_its_function_and_keeps_what_is_not_one(
    lambda_and_queue: dict[str, Any],
) -> None:
    sqs, url, calls = lambda_and_queue["sqs"], lambda_and_queue["url"], lambda_and_queue["calls"]
    alias = lambda_and_queue["alias"]
    events = [{"Records": [{"Sns": {"Message": json.dumps({"batch": i})}}]} for i in range(3)]
    for event in events:
        sqs.send_message(QueueUrl=url, MessageBody=_record(alias, event))
    sqs.send_message(QueueUrl=url, MessageBody="not a record")

    dry = redrive(sqs, lambda_and_queue["lambda"], url, dry_run=True)
    assert (len(dry.replayed), len(dry.skipped)) == (3, 1)
    assert calls == []

    report = redrive(sqs, lambda_and_queue["lambda"], url)
    assert report.replayed == [alias] * 3
    assert len(report.skipped) == 1
    assert "not JSON" in report.skipped[0]
    assert [c["FunctionName"] for c in calls] == [alias] * 3
    assert all(c["InvocationType"] == "Event" for c in calls)
    replayed = sorted(json.dumps(json.loads(c["Payload"]), sort_keys=True) for c in calls)
    assert replayed == sorted(json.dumps(e, sort_keys=True) for e in events)
    assert _visible(sqs, url) == 1  # only the message that is not a record stays


def test_redrive_command_reports_and_fails_when_something_was_left(
    lambda_and_queue: dict[str, Any],
) -> None:
    from inmet_local.cli import app

    sqs, url = lambda_and_queue["sqs"], lambda_and_queue["url"]
    alias = lambda_and_queue["alias"]
    sqs.send_message(QueueUrl=url, MessageBody=_record(alias, {"Records": []}))
    result = CliRunner().invoke(app, ["aws", "redrive", "--queue-url", url])
    assert result.exit_code == 0, result.output
    assert "replayed 1, skipped 0, refused 0 of 1 message(s)" in result.output
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Records": []}))  # an S3/SNS event
    result = CliRunner().invoke(app, ["aws", "redrive", "--queue-url", url])
    assert result.exit_code == 1
    assert "skipped 1" in result.output
    usage = CliRunner().invoke(app, ["aws", "redrive"])
    assert usage.exit_code == 2


def test_parse_record_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"no requestContext\.functionArn"):
        parse_record(json.dumps({"requestPayload": {}}))
    with pytest.raises(ValueError, match="no requestPayload"):
        parse_record(
            json.dumps({"requestContext": {"functionArn": "arn:aws:lambda:r:1:function:f"}})
        )
    assert parse_record(_record("arn:aws:lambda:r:1:function:f:live", {"a": 1})) == (
        "arn:aws:lambda:r:1:function:f:live",
        {"a": 1},
    )


# -- the app reports its own failures (what UploadFailuresAlarm watches) --------------------


def test_the_api_counts_the_failures_it_answers_itself(
    client: Any, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inmet_pipeline.errors import DependencyUnavailable
    from inmet_pipeline.uploads import IDENTICAL_UPLOAD_IN_FLIGHT
    from tests.helpers import small_file
    from upload_api import metrics as app_metrics

    recorded: list[str] = []
    monkeypatch.setattr(app_metrics.metrics, "add_metric", lambda name, **_: recorded.append(name))
    data = small_file("B", days=2).data

    def post() -> int:
        return int(
            client.post("/uploads", content=data, headers={"Content-Type": "text/csv"}).status_code
        )

    service.statuses = DynamoStatusStore("no-such-table")
    assert post() == 503
    assert recorded == [app_metrics.FAILED]

    recorded.clear()
    service.statuses = DynamoStatusStore(TABLE)

    def in_flight(*_: Any) -> None:
        raise DependencyUnavailable(
            IDENTICAL_UPLOAD_IN_FLIGHT, "an identical upload is still being stored", 2
        )

    accept = service.accept
    monkeypatch.setattr(service, "accept", in_flight)
    assert post() == 503
    assert recorded == []  # a peer in flight is not a failure

    monkeypatch.setattr(service, "accept", accept)
    assert (
        client.post(
            "/uploads", content=b"not,a,station,file\n", headers={"Content-Type": "text/csv"}
        ).status_code
        == 422
    )
    assert app_metrics.FAILED not in recorded
    assert app_metrics.REJECTED in recorded
