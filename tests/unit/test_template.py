"""template.yaml: cfn-lint clean, and the security properties the deployment relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inmet_local.template import TEMPLATE_PATH, load_template

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


def test_every_api_method_requires_an_api_key() -> None:
    api = RESOURCES["UploadsApi"]["Properties"]
    assert api["Auth"]["ApiKeyRequired"] is True
    assert api["Auth"]["UsagePlan"]["Throttle"]["RateLimit"] > 0
    for function in _of_type("AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                assert event["Properties"].get("Auth", {}).get("ApiKeyRequired", True)


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
    [policy] = _of_type("AWS::SNS::TopicPolicy").values()
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"]["AWS"] == {"Fn::GetAtt": ["SnowflakeSnsRole", "Arn"]}
    for role in ("SnowflakeSnsRole", "SnowflakeStorageRole"):
        trust = RESOURCES[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        assert "sts:ExternalId" in trust["Condition"]["StringEquals"]
