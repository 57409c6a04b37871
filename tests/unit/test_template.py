"""template.yaml: cfn-lint clean, and the security properties the deployment relies on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inmet_local.workspace.template import TEMPLATE_PATH, load_template
from tests.template_synth import synthesise

pytestmark = [pytest.mark.unit]

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def _of_type(kind: str) -> dict[str, Any]:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == kind}


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_logical_ids_that_tools_and_docs_rely_on() -> None:
    assert {
        "UploadFunction",
        "ExportFunction",
        "CommonLayer",
        "SnowflakeLayer",
        "UploadsApi",
        "DataBucket",
    } <= set(RESOURCES)


def test_every_api_method_requires_authentication() -> None:
    """Each method of the body names a security scheme (the key or SigV4, per ApiAuth: both
    resolved in tests/unit/test_template_aws.py); no event switches it off."""
    api = RESOURCES["UploadsApi"]["Properties"]
    assert api["Auth"]["UsagePlan"]["Throttle"]["RateLimit"] > 0
    for path, methods in api["DefinitionBody"]["paths"].items():
        for method, op in methods.items():
            assert op["security"] == {
                "Fn::If": ["UseIamAuth", [{"sigv4": []}], [{"api_key": []}]]
            }, (path, method)
    for function in _of_type("AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                assert "Auth" not in event["Properties"]


def test_bucket_is_private_encrypted_versioned_and_tls_only() -> None:
    bucket = RESOURCES["DataBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    [policy] = _of_type("AWS::S3::BucketPolicy").values()
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_function_policies_name_their_resources() -> None:
    for name, function in _of_type("AWS::Serverless::Function").items():
        for policy in function["Properties"].get("Policies", []):
            statements = policy.get("Statement") if isinstance(policy, dict) else None
            for statement in statements or []:
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                assert "*" not in resources, name


def test_only_snowflakes_role_may_publish_to_the_topics() -> None:
    policies = _of_type("AWS::SNS::TopicPolicy").values()
    assert len(policies) == 2  # one per topic (tests/unit/test_template_security.py)
    for policy in policies:
        [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Principal"]["AWS"] == {"Fn::GetAtt": ["SnowflakeSnsRole", "Arn"]}
    for role in ("SnowflakeSnsRole", "SnowflakeStorageRole"):
        trust = RESOURCES[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        assert "sts:ExternalId" in trust["Condition"]["StringEquals"]


# -- the synthesised template: what CloudFormation receives after the SAM transform ----------

# AWS managed policies SAM attaches, and why each may name "*": CloudWatch Logs groups are
# created by Lambda on first use and X-Ray's PutTraceSegments has no resource-level permission.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


@pytest.fixture(scope="module")
def synthesised() -> dict[str, Any]:
    """The synthesised template with the default parameters (ApiAuth=ApiKey), conditions
    resolved (tests/template_synth.py)."""
    resources: dict[str, Any] = synthesise()["Resources"]
    return resources


def _synth_of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def test_synthesised_api_requires_the_key_on_every_method(synthesised: dict[str, Any]) -> None:
    [api] = _synth_of_type(synthesised, "AWS::ApiGateway::RestApi").values()
    body = api["Properties"]["Body"]
    assert body["securityDefinitions"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    methods = [(path, m, op) for path, ops in body["paths"].items() for m, op in ops.items()]
    assert {(p, m) for p, m, _ in methods} == {
        ("/uploads", "post"),
        ("/uploads/{upload_id}", "get"),
        ("/health", "get"),
    }
    for path, method, op in methods:
        assert op["security"] == [{"api_key": []}], (path, method)
    [plan] = _synth_of_type(synthesised, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"]["RateLimit"] > 0
    assert plan["Properties"]["Quota"]["Limit"] > 0
    assert _synth_of_type(synthesised, "AWS::ApiGateway::UsagePlanKey")
    assert set(body["x-amazon-apigateway-binary-media-types"]) >= {
        "multipart/form-data",
        "text/csv",
    }


def test_synthesised_bucket_is_not_public_and_tls_only(synthesised: dict[str, Any]) -> None:
    [bucket] = _synth_of_type(synthesised, "AWS::S3::Bucket").values()
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "AccessControl" not in bucket["Properties"]
    [policy] = _synth_of_type(synthesised, "AWS::S3::BucketPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert not [s for s in statements if s["Effect"] == "Allow"]  # nobody is granted anything
    [deny] = statements
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in role["Properties"].get("Policies", []):
        if "Fn::If" in policy:  # a conditional policy: check both branches
            branches = [
                b for b in policy["Fn::If"][1:] if isinstance(b, dict) and "PolicyName" in b
            ]
        else:
            branches = [policy]
        for branch in branches:
            found.extend(branch["PolicyDocument"]["Statement"])
    return found


def test_synthesised_function_roles_name_their_resources(synthesised: dict[str, Any]) -> None:
    functions = _synth_of_type(synthesised, "AWS::Lambda::Function")
    assert set(functions) == {
        "UploadFunction",
        "ExportFunction",
        "ErrorNotificationFunction",
        "StuckUploadsFunction",
    }
    for name, function in functions.items():
        role_name = function["Properties"]["Role"]["Fn::GetAtt"][0]
        role = synthesised[role_name]
        assert set(role["Properties"].get("ManagedPolicyArns", [])) <= ALLOWED_MANAGED_POLICIES
        statements = _statements(role)
        assert statements, name
        for statement in statements:
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            assert "*" not in resources, (name, statement)
            actions = statement["Action"]
            actions = actions if isinstance(actions, list) else [actions]
            assert not [a for a in actions if a.endswith(":*") or a == "*"], (name, statement)


def test_synthesised_permissions_name_their_sources(synthesised: dict[str, Any]) -> None:
    permissions = _synth_of_type(synthesised, "AWS::Lambda::Permission")
    assert permissions
    for name, permission in permissions.items():
        props = permission["Properties"]
        assert props["Principal"] in {
            "sns.amazonaws.com",
            "apigateway.amazonaws.com",
            "events.amazonaws.com",  # StuckUploadsFunction's schedule
        }, name
        assert props.get("SourceArn"), f"{name} lets any {props['Principal']} source invoke"
    sns = [
        p["Properties"]
        for p in permissions.values()
        if p["Properties"]["Principal"] == "sns.amazonaws.com"
    ]
    assert {p["SourceArn"]["Ref"] for p in sns} == {
        "LoadNotificationTopic",
        "ErrorNotificationTopic",
    }


# The IAM action each S3 operation of the upload adapter needs ("Actions, resources, and
# condition keys for Amazon S3"; HeadObject: "you must have the s3:GetObject permission").
S3_ACTIONS = {
    "put_object": "s3:PutObject",
    "head_object": "s3:GetObject",
    "get_object": "s3:GetObject",
    "delete_object": "s3:DeleteObject",
    "head_bucket": "s3:ListBucket",
    "list_objects_v2": "s3:ListBucket",
}


def test_the_upload_role_allows_every_s3_call_the_upload_makes(
    synthesised: dict[str, Any],
) -> None:
    """moto enforces no IAM: the S3 calls are read from the adapter's source and each must be
    granted to UploadFunction's role (a HeadObject without GetObject is a 403 in AWS)."""
    import inspect

    from inmet_pipeline.adapters.aws import S3ObjectStore

    calls = set(re.findall(r"self\.client\.(\w+)\(", inspect.getsource(S3ObjectStore)))
    assert calls, "no S3 call found in S3ObjectStore"
    unknown = calls - set(S3_ACTIONS)
    assert not unknown, f"map these S3 operations to their IAM action: {unknown}"
    role_name = synthesised["UploadFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    granted: set[str] = set()
    for statement in _statements(synthesised[role_name]):
        actions = statement["Action"]
        granted.update([actions] if isinstance(actions, str) else actions)
    missing = {S3_ACTIONS[c] for c in calls} - granted
    assert not missing, f"UploadFunction's role lacks {missing}"
