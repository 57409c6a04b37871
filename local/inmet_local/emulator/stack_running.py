"""A started local stack's resources: what LocalStack.start() makes once every server is up
(``Running``), and the AWS side it provisions in moto (``provision_stack``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from inmet_local.emulator.invoke import sns_subscriptions
from inmet_local.emulator.lambda_local import Subscription
from inmet_local.emulator.servers import ManagedProcess, moto_access_key, moto_client_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.workspace.template import LocalNames, Provisioned, pipe_queue, provision, queue_arn

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

BUCKET = "inmet-local"
TABLE = "inmet-uploads"
PIPE_QUEUE = "snowpipe-local"
LOAD_TOPIC = "LoadNotificationTopic"  # template.yaml's logical ids of the two topics
ERROR_TOPIC = "ErrorNotificationTopic"


@dataclass(frozen=True, slots=True)
class Clients:
    """The AWS clients of one runtime thread: each thread makes its own set (a boto3 client,
    once made, may be shared; each thread keeping its own keeps their connection pools apart)."""

    sqs: SQSClient
    s3: S3Client
    sns: SNSClient


@dataclass(frozen=True, slots=True)
class Running:
    """A started stack: made by LocalStack.start() once every server is up, so nothing in it is
    missing."""

    moto: ManagedProcess
    fakesnow: ManagedProcess
    api: ManagedProcess
    provisioned: Provisioned
    warehouse: LocalWarehouse
    env: dict[str, str]  # the functions' environment
    subscriptions: dict[str, Subscription]  # topic logical id -> its local subscription

    @property
    def client_kwargs(self) -> dict[str, Any]:
        return moto_client_kwargs(self.moto.url, access_key=moto_access_key(self.moto))

    def clients(self) -> Clients:
        kwargs = self.client_kwargs
        return Clients(
            boto3.client("sqs", **kwargs),
            boto3.client("s3", **kwargs),
            boto3.client("sns", **kwargs),
        )

    def topic(self, logical: str) -> str:
        return self.provisioned.topics[logical]


def provision_stack(client_kwargs: dict[str, Any]) -> tuple[Provisioned, dict[str, Subscription]]:
    """template.yaml's resources in moto, the pipe's queue, and one queue subscribed to each
    topic standing in for the Lambda subscription template.yaml declares."""
    provisioned = provision(client_kwargs, LocalNames(bucket=BUCKET, table=TABLE))
    sqs: SQSClient = boto3.client("sqs", **client_kwargs)
    s3: S3Client = boto3.client("s3", **client_kwargs)
    sns: SNSClient = boto3.client("sns", **client_kwargs)
    # The pipe's queue: in AWS its ARN comes from SHOW PIPES and becomes the bucket's
    # raw/ notification target (template parameter); here a local queue plays it.
    provisioned.queues["SnowpipeQueue"] = pipe_queue(sqs, s3, BUCKET, PIPE_QUEUE)
    subscriptions: dict[str, Subscription] = {}
    for logical, function in sns_subscriptions().items():
        queue = sqs.create_queue(QueueName=f"local-{logical}")["QueueUrl"]
        sns.subscribe(
            TopicArn=provisioned.topics[logical],
            Protocol="sqs",
            Endpoint=queue_arn(sqs, queue),
            Attributes={"RawMessageDelivery": "false"},
        )
        subscriptions[logical] = Subscription(queue, function)
    return provisioned, subscriptions
