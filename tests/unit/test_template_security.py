"""What the first deploy and least privilege need of template.yaml, where moto and the linters
accept anything: one SNS policy per topic, the API Gateway account after the REST API, the
secret's full ARN and its KMS key, the export's concurrency, the upload's S3 and DynamoDB
grants, the binary media types. Each test names the AWS page it rests on (the template cites
the same page beside the resource); docs/aws-security.md explains them to an operator.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from inmet_local.workspace.template import TEMPLATE_PATH, load_template
from inmet_pipeline.adapters import aws as aws_adapters
from inmet_pipeline.upload_objects import MIN_ID_PREFIX
from tests.template_synth import of_type, synthesise
from upload_api import routes

pytestmark = [pytest.mark.unit]

FULL_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:inmet/export-key-AbC123"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _resources(**params: str) -> dict[str, Any]:
    resources: dict[str, Any] = synthesise(**params)["Resources"]
    return resources


def _statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_of(resources: dict[str, Any], function: str) -> dict[str, Any]:
    role: dict[str, Any] = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]
    return role


# -- 1. one topic per SNS access policy ----------------------------------------------------


def test_each_sns_topic_policy_covers_only_its_own_topic() -> None:
    """ "Amazon SNS API permissions: Actions and resources reference": "Each policy must cover
    only a single topic", and a statement's Resource is 1 value that "must match the ARN of the
    policy's topic"; each policy has a unique Id, each statement a unique Sid."""
    resources = _resources()
    policies = of_type(resources, "AWS::SNS::TopicPolicy")
    covered = []
    for name, policy in policies.items():
        props = policy["Properties"]
        [topic] = props["Topics"]  # one topic per policy
        covered.append(topic)
        document = props["PolicyDocument"]
        assert document.get("Id"), name
        for statement in document["Statement"]:
            assert statement["Resource"] == topic, name  # one value: that topic's ARN
    ids = [p["Properties"]["PolicyDocument"]["Id"] for p in policies.values()]
    sids = [
        s["Sid"] for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert len(set(ids)) == len(ids)
    assert len(set(sids)) == len(sids)
    # Both topics Snowflake publishes to keep a policy of their own.
    assert sorted(t["Ref"] for t in covered) == ["ErrorNotificationTopic", "LoadNotificationTopic"]


# -- 6. the API Gateway account setting after the REST API, without a cycle ----------------


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield (value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                yield from (m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if isinstance(value, list):
                    yield from _references(value[1])
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _dependencies(resources: dict[str, Any]) -> dict[str, set[str]]:
    graph = {}
    for name, resource in resources.items():
        found = set(_references(resource.get("Properties", {})))
        found.update(_listed(resource.get("DependsOn", [])))
        graph[name] = {r for r in found if r in resources}
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


def test_the_api_gateway_account_setting_waits_for_the_rest_api() -> None:
    """AWS CDK issue 2194: in an account that never used API Gateway, AWS::ApiGateway::Account
    created before any REST API failed ("The role ARN does not have required permissions set
    to API Gateway"); the fix is a dependency on the RestApi. The Stage still waits for the
    Account (its access logs need the role), so the order is RestApi -> Account -> Stage."""
    resources = _resources()
    [api] = of_type(resources, "AWS::ApiGateway::RestApi")
    [stage] = of_type(resources, "AWS::ApiGateway::Stage")
    assert api in _listed(resources["ApiGatewayAccount"].get("DependsOn", []))
    graph = _dependencies(resources)
    assert _reaches(graph, "ApiGatewayAccount", api)
    assert _reaches(graph, stage, "ApiGatewayAccount")
    assert not _reaches(graph, api, "ApiGatewayAccount")  # no cycle
    # CloudFormation refuses any cycle: check the whole graph.
    for name in graph:
        for dependency in graph[name]:
            assert not _reaches(graph, dependency, name), (name, dependency)


# -- 7. secrets: the full ARN, and the key that encrypts it ---------------------------------


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (FULL_ARN, True),
        ("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:k-AbC123", True),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:inmet/export-key", False),
        ("inmet/export-key", False),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:*", False),
    ],
)
def test_the_secret_parameter_takes_only_a_full_arn(value: str, accepted: bool) -> None:
    """The grant names the parameter's ARN; a partial ARN (without the six characters Secrets
    Manager appends, "Finding a secret from a partial ARN", AWS Secrets Manager User Guide)
    would make it name no secret, and GetSecretValue would be denied at run time."""
    parameter = load_template()["Parameters"]["SnowflakePrivateKeySecretArn"]
    # CloudFormation matches AllowedPattern against the whole value (Java regex).
    assert bool(re.fullmatch(parameter["AllowedPattern"], value)) is accepted


def test_a_customer_managed_key_is_granted_decrypt_through_secrets_manager_only() -> None:
    """ "Secret encryption and decryption in AWS Secrets Manager", permissions for the KMS
    key: reading a secret encrypted with a customer-managed key needs kms:Decrypt on it."""
    for function in ("ExportFunction", "ErrorNotificationFunction"):
        plain = _resources(SnowflakePrivateKeySecretArn=FULL_ARN)
        assert not [
            s for s in _statements(_role_of(plain, function)) if "kms:Decrypt" in s["Action"]
        ]
        keyed = _resources(
            SnowflakePrivateKeySecretArn=FULL_ARN, SnowflakePrivateKeyKmsKeyArn=KMS_KEY
        )
        [grant] = [
            s for s in _statements(_role_of(keyed, function)) if "kms:Decrypt" in s["Action"]
        ]
        assert grant["Action"] == ["kms:Decrypt"]
        assert grant["Resource"] == {"Ref": "SnowflakePrivateKeyKmsKeyArn"}
        condition = grant["Condition"]["StringEquals"]
        assert "secretsmanager" in json.dumps(condition["kms:ViaService"])
        assert condition["kms:EncryptionContext:SecretARN"] == {
            "Ref": "SnowflakePrivateKeySecretArn"
        }


def test_private_keys_never_enter_git() -> None:
    """The key-pair steps (docs/aws-security.md) write a .p8 file; git must ignore it wherever
    it is written."""
    root = TEMPLATE_PATH.parent
    for path in ("export_key.p8", "snowflake_sql/rsa_key.p8", "keys/export_key.pem"):
        result = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path],
            cwd=root,
            check=False,
        )
        assert result.returncode == 0, f"{path} is not ignored by .gitignore"


# -- 2. the export cannot take the account's whole concurrency --------------------------------


def test_export_concurrency_is_reserved_only_when_asked() -> None:
    """ "Configuring reserved concurrency for a function" (AWS Lambda Developer Guide): at most
    the unreserved concurrency minus 100 may be reserved, so a reservation fails a new
    account's first deploy; it is a parameter, off by default."""
    functions = of_type(_resources(), "AWS::Lambda::Function")
    for name, function in functions.items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], name
    capped = of_type(_resources(ExportReservedConcurrency="4"), "AWS::Lambda::Function")
    assert capped["ExportFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Ref": "ExportReservedConcurrency"
    }
    assert "ReservedConcurrentExecutions" not in capped["UploadFunction"]["Properties"]
    parameter = load_template()["Parameters"]["ExportReservedConcurrency"]
    assert parameter["Default"] == 0


# -- 10. least privilege: nothing reads landing/ ---------------------------------------------


def _s3_grants(resources: dict[str, Any], function: str) -> dict[str, set[str]]:
    by_prefix: dict[str, set[str]] = {}
    for statement in _statements(_role_of(resources, function)):
        for resource in _listed(statement["Resource"]):
            text = json.dumps(resource)
            match = re.search(r"/(\w+)/\*", text)
            if match and "DataBucket" in text:
                by_prefix.setdefault(match.group(1), set()).update(_listed(statement["Action"]))
    return by_prefix


def test_the_upload_may_write_landing_but_not_read_it() -> None:
    """The upload writes landing/ and raw/, and looks up (HeadObject, which needs s3:GetObject:
    Amazon S3 API Reference, HeadObject) only a raw/ object whose write answer was lost."""
    grants = _s3_grants(_resources(), "UploadFunction")
    assert grants == {"landing": {"s3:PutObject"}, "raw": {"s3:PutObject", "s3:GetObject"}}


# -- 5. short ids: a Query of an index, never a Scan -------------------------------------------


def test_short_ids_are_a_query_of_the_id_prefix_index() -> None:
    """ "Scan" (Amazon DynamoDB Developer Guide): a filter is applied after the items are read,
    and the read capacity of every item read is consumed. The index names in the template are
    the adapter's, and the upload may Query that index and Scan nothing."""
    resources = _resources()
    table = resources["UploadsTable"]["Properties"]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == aws_adapters.ID_PREFIX_INDEX
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        (aws_adapters.ID_HEAD_ATTRIBUTE, "HASH"),
        ("upload_id", "RANGE"),
    ]
    assert {"status", "filename", "station_id"} <= set(index["Projection"]["NonKeyAttributes"])
    assert aws_adapters.ID_HEAD_CHARS == MIN_ID_PREFIX  # every accepted prefix fills id_head
    actions = {
        (action, json.dumps(resource))
        for statement in _statements(_role_of(resources, "UploadFunction"))
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
        if action.startswith("dynamodb:")
    }
    assert not [a for a, _ in actions if a == "dynamodb:Scan"]
    [query] = [r for a, r in actions if a == "dynamodb:Query"]
    assert f"/index/{aws_adapters.ID_PREFIX_INDEX}" in query


# -- 8. the binary media types are the types the app accepts -----------------------------------


def test_the_app_accepts_exactly_the_apis_binary_media_types() -> None:
    """ "Binary media types for REST APIs in API Gateway": only a body whose Content-Type is
    listed arrives base64-encoded (byte-exact); the app refuses every other type, a missing
    Content-Type included (tests/functional/test_upload_security.py)."""
    api = load_template()["Resources"]["UploadsApi"]["Properties"]
    declared = {t.replace("~1", "/") for t in api["BinaryMediaTypes"]}
    assert declared == set(routes.MEDIA_TYPES)


# -- 4. one key per client -------------------------------------------------------------------


def test_the_usage_plan_each_clients_key_joins_is_an_output() -> None:
    """docs/aws-security.md §1 adds one API key per client to this usage plan."""
    template = synthesise()
    ref = template["Outputs"]["UsagePlanId"]["Value"]["Ref"]
    assert template["Resources"][ref]["Type"] == "AWS::ApiGateway::UsagePlan"
