"""Create, in moto (in-process or server), the AWS resources that template.yaml declares.

The tests and the local stack build their bucket, table, queues and topics from the template's
own ``Properties``, so a change to the template changes what they run against. Only what moto
can hold is created (no Lambda, no API Gateway: those are played by uvicorn and the local
runtime).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, …) as plain dicts."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


@dataclass(frozen=True, slots=True)
class LocalNames:
    """Physical names for the template's logical resources in the local stack."""

    bucket: str = "inmet-local"
    table: str = "inmet-uploads"
    names: Mapping[str, str] = field(default_factory=dict)

    def for_logical(self, logical_id: str, default: str) -> str:
        return self.names.get(logical_id, default)


@dataclass(slots=True)
class Provisioned:
    bucket: str = ""
    table: str = ""
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> topic ARN


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical: res.get("Properties", {}) or {}
        for logical, res in template.get("Resources", {}).items()
        if res.get("Type") == kind
    }


def provision(
    client_kwargs: Mapping[str, Any],
    names: LocalNames | None = None,
    template: Mapping[str, Any] | None = None,
) -> Provisioned:
    """Create the bucket(s) and table(s) of the template; idempotent."""
    names = names or LocalNames()
    template = template or load_template()
    out = Provisioned()
    s3 = boto3.client("s3", **client_kwargs)
    for logical, props in _resources(template, "AWS::S3::Bucket").items():
        bucket = names.for_logical(logical, names.bucket)
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
        versioning = props.get("VersioningConfiguration", {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": versioning})
        if logical == "DataBucket":
            out.bucket = bucket
    dynamodb = boto3.client("dynamodb", **client_kwargs)
    for logical, props in _resources(template, "AWS::DynamoDB::Table").items():
        table = names.for_logical(logical, names.table)
        if table not in dynamodb.list_tables().get("TableNames", []):
            indexes = props.get("GlobalSecondaryIndexes")
            dynamodb.create_table(
                TableName=table,
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
                **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
            )
        if logical == "UploadsTable":
            out.table = table
    sns = boto3.client("sns", **client_kwargs)
    for logical in _resources(template, "AWS::SNS::Topic"):
        out.topics[logical] = sns.create_topic(Name=names.for_logical(logical, logical))["TopicArn"]
    sqs = boto3.client("sqs", **client_kwargs)
    for logical in _resources(template, "AWS::SQS::Queue"):
        out.queues[logical] = sqs.create_queue(QueueName=names.for_logical(logical, logical))[
            "QueueUrl"
        ]
    return out


def queue_arn(sqs: Any, queue_url: str) -> str:
    return str(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def pipe_queue(sqs: Any, s3: Any, bucket: str, name: str, prefix: str = "raw/") -> str:
    """A queue standing in for the pipe's, with the bucket's object-created events under
    ``prefix`` sent to it — what the second deploy configures in AWS (SnowpipeQueueArn)."""
    url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn(sqs, url),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return url
