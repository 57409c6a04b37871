"""S3 and DynamoDB adapters. Clients are created on first use, never at import time, and every
AWS failure becomes ``DependencyUnavailable`` (HTTP 503 upstream)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from inmet_pipeline.budget import BACKGROUND, CallBudget
from inmet_pipeline.errors import DependencyUnavailable
from inmet_pipeline.settings import AwsSettings
from inmet_pipeline.status import UploadStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client

_P = ParamSpec("_P")
_R = TypeVar("_R")

# The status table's index for short ids (template.yaml, UploadsTable's GlobalSecondaryIndexes):
# partition ``id_head`` = the id's first ID_HEAD_CHARS characters, sort key ``upload_id``. Every
# record carries id_head, so a prefix of at least ID_HEAD_CHARS characters (the API's minimum,
# upload_objects.MIN_ID_PREFIX; a test keeps them equal) is a Query of one partition.
ID_PREFIX_INDEX = "id-prefix"
ID_HEAD_ATTRIBUTE = "id_head"
ID_HEAD_CHARS = 4


def _aws_call(dependency: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    def decorate(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return fn(*args, **kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "ClientError")
                message = exc.response.get("Error", {}).get("Message", str(exc))
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
                # A 4xx is a refusal (nothing was done); a 5xx may come after the write.
                raise DependencyUnavailable(
                    dependency, f"{code}: {message}", maybe_done=status >= 500 or status == 0
                ) from exc
            except (ConnectTimeoutError, EndpointConnectionError) as exc:
                # The request never reached the service: nothing was done.
                raise DependencyUnavailable(dependency, str(exc)) from exc
            except BotoCoreError as exc:
                # A read timeout or a dropped connection: the call may have taken effect.
                raise DependencyUnavailable(dependency, str(exc), maybe_done=True) from exc

        return wrapper

    return decorate


class S3ObjectStore:
    """The data bucket."""

    def __init__(
        self, bucket: str, aws: AwsSettings | None = None, budget: CallBudget = BACKGROUND
    ) -> None:
        """``budget``: the client's timeouts and attempts (inmet_pipeline.budget)."""
        self.bucket = bucket
        self._aws = aws or AwsSettings()
        self.budget = budget
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = boto3.client(
                "s3", config=self.budget.config(), **self._aws.client_kwargs()
            )
        return self._client

    @_aws_call("S3")
    def put(
        self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata=dict(metadata or {}),
        )

    @_aws_call("S3")
    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    @_aws_call("S3")
    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def plain_item(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the documents are JSON, so make them int/float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain_item(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_item(v) for k, v in value.items()}
    return value


# What the export writes (status, rows_clean, export_keys, error, the step times): never
# filled in by the upload's completing write once the record has moved on.
EXPORT_FIELDS = frozenset(
    {"status", "rows_clean", "export_keys", "error", "cleaned_at", "exported_at", "failed_at"}
)


def fields_to_fill(document: Mapping[str, Any]) -> dict[str, Any]:
    """The upload's descriptive fields (station, rows, keys, …), for ``set_if_missing``."""
    return {k: v for k, v in document.items() if k not in EXPORT_FIELDS and k != "upload_id"}


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _condition_held(write: Callable[[], object]) -> bool:
    """Run one conditional DynamoDB write: False when its condition did not hold (nothing was
    written), True when it wrote; any other error propagates."""
    try:
        write()
    except ClientError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True


class DynamoStatusStore:
    """Upload status records, keyed by ``upload_id``.

    An upload first *claims* its id with a conditional put (status ``uploading``, never shown to
    users); only the claimant writes the S3 objects, then *completes* the record as
    ``received``. Concurrent uploads of the same bytes therefore write one set of objects.
    """

    def __init__(
        self, table_name: str, aws: AwsSettings | None = None, budget: CallBudget = BACKGROUND
    ) -> None:
        self.table_name = table_name
        self._aws = aws or AwsSettings()
        self.budget = budget
        self._table: Table | None = None

    @property
    def table(self) -> Table:
        if self._table is None:
            resource = boto3.resource(
                "dynamodb", config=self.budget.config(), **self._aws.client_kwargs()
            )
            self._table = resource.Table(self.table_name)
        return self._table

    @_aws_call("DynamoDB")
    def claim(
        self,
        upload_id: str,
        token: str,
        now_ms: int,
        document: Mapping[str, Any] | None = None,
    ) -> bool:
        return _condition_held(
            lambda: self.table.put_item(
                Item={
                    **dict(document or {}),
                    "upload_id": upload_id,
                    ID_HEAD_ATTRIBUTE: upload_id[:ID_HEAD_CHARS],
                    "status": UploadStatus.UPLOADING,
                    "claim_token": token,
                    "claimed_at_ms": now_ms,
                },
                ConditionExpression="attribute_not_exists(upload_id)",
            )
        )

    @_aws_call("DynamoDB")
    def take_over(self, upload_id: str, old_token: str, new_token: str, now_ms: int) -> bool:
        return _condition_held(
            lambda: self.table.update_item(
                Key={"upload_id": upload_id},
                UpdateExpression="SET claim_token = :new, claimed_at_ms = :now",
                ConditionExpression="claim_token = :old AND #s = :inflight",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":new": new_token,
                    ":now": now_ms,
                    ":old": old_token,
                    ":inflight": UploadStatus.UPLOADING,
                },
            )
        )

    @_aws_call("DynamoDB")
    def complete(self, upload_id: str, token: str, document: Mapping[str, Any]) -> None:
        fields = {k: v for k, v in document.items() if k != "upload_id"}
        try:
            # The whole record replaces the claim (its token and time go with it). A put, not
            # an update of ~20 attributes: the same write, far cheaper for moto to evaluate.
            self.table.put_item(
                Item={
                    **fields,
                    "upload_id": upload_id,
                    ID_HEAD_ATTRIBUTE: upload_id[:ID_HEAD_CHARS],
                },
                ConditionExpression="claim_token = :token AND #status = :inflight",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":token": token, ":inflight": UploadStatus.UPLOADING},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise
            # The export already moved the record on (exported/failed) or another request took
            # over a stale claim: overwrite nothing (the export's rows_clean, export_keys and
            # error stay), only fill in fields that are still missing.
            self.update(upload_id, {}, set_if_missing=fields_to_fill(fields))

    @_aws_call("DynamoDB")
    def release(self, upload_id: str, token: str) -> None:
        # Not ours any more (taken over, or completed): nothing to release.
        _condition_held(
            lambda: self.table.delete_item(
                Key={"upload_id": upload_id},
                ConditionExpression="claim_token = :token AND #s = :inflight",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":token": token, ":inflight": UploadStatus.UPLOADING},
            )
        )

    @_aws_call("DynamoDB")
    def restart_failed(self, upload_id: str, token: str, now_ms: int) -> bool:
        # `operand IN (operand, ...)` in a condition expression: "Condition and filter
        # expressions, operators, and functions in DynamoDB", https://docs.aws.amazon.com/
        # amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
        return _condition_held(
            lambda: self.table.update_item(
                Key={"upload_id": upload_id},
                UpdateExpression="SET #s = :inflight, claim_token = :token, claimed_at_ms = :now",
                ConditionExpression="#s IN (:failed, :superseded)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":inflight": UploadStatus.UPLOADING,
                    ":token": token,
                    ":now": now_ms,
                    ":failed": UploadStatus.FAILED,
                    ":superseded": UploadStatus.SUPERSEDED,
                },
            )
        )

    @_aws_call("DynamoDB")
    def with_prefix(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        # A Query of the id-prefix index: one partition (the id's first characters), the sort
        # key's begins_with; it reads only matching items, in id order. (A Scan with a filter
        # read, and paid for, the whole table on every short-id lookup.)
        if len(prefix) < ID_HEAD_CHARS:
            raise ValueError(f"an id prefix has at least {ID_HEAD_CHARS} characters")
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "IndexName": ID_PREFIX_INDEX,
            "KeyConditionExpression": "#h = :h AND begins_with(upload_id, :p)",
            "ProjectionExpression": "upload_id, #s, filename, station_id",
            "ExpressionAttributeNames": {"#h": ID_HEAD_ATTRIBUTE, "#s": "status"},
            "ExpressionAttributeValues": {":h": prefix[:ID_HEAD_CHARS], ":p": prefix},
            "Limit": limit,
        }
        while len(found) < limit:
            page = self.table.query(**kwargs)
            found.extend(plain_item(dict(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]

    @_aws_call("DynamoDB")
    def get(self, upload_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"upload_id": upload_id}, ConsistentRead=True).get("Item")
        return plain_item(dict(item)) if item else None

    @_aws_call("DynamoDB")
    def update(
        self,
        upload_id: str,
        changes: Mapping[str, Any],
        set_if_missing: Mapping[str, Any] | None = None,
    ) -> None:
        extra = dict(set_if_missing or {})
        if not changes and not extra:
            return
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        assignments = []
        for i, (name, value) in enumerate(changes.items()):
            names[f"#f{i}"], values[f":v{i}"] = name, value
            assignments.append(f"#f{i} = :v{i}")
        for i, (name, value) in enumerate(extra.items()):
            names[f"#m{i}"], values[f":m{i}"] = name, value
            # Only when absent: records leave the step timestamps out until they are reached.
            assignments.append(f"#m{i} = if_not_exists(#m{i}, :m{i})")
        self.table.update_item(
            Key={"upload_id": upload_id},
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression="attribute_exists(upload_id)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    @_aws_call("DynamoDB")
    def received_before(self, cutoff_iso: str) -> list[tuple[str, str]]:
        """(upload_id, received_at) of the records still ``received`` before ``cutoff_iso``.

        A Scan: the check runs every 15 minutes and reads each record once per run
        (~1 KB each: 15,000 station-years cost ~2,000 read units a run); an index on status
        would cost a write on every status change instead."""
        found: list[tuple[str, str]] = []
        kwargs: dict[str, Any] = {
            "FilterExpression": "#s = :received AND received_at < :cutoff",
            "ProjectionExpression": "upload_id, received_at",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":received": UploadStatus.RECEIVED,
                ":cutoff": cutoff_iso,
            },
        }
        while True:
            page = self.table.scan(**kwargs)
            found.extend((str(i["upload_id"]), str(i["received_at"])) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @_aws_call("DynamoDB")
    def ping(self) -> None:
        self.table.load()
