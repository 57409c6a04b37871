"""`make test-aws`: deploy a throw-away stack, run the deployed-stack tests against it, delete it.

Without AWS credentials it prints one line saying it skipped and exits 0. With them:

1. picks a unique stack name (``inmet-test-<UTC time>-<random>``) in ``AWS_REGION`` (default
   sa-east-1, samconfig.toml's), and whether this stack may create the account's API Gateway
   CloudWatch role (only when the account has none yet: it is one per account and region);
2. ``make build`` and ``sam deploy`` (no changeset prompt, artifacts bucket resolved by SAM);
3. runs ``tests/integration/test_deployed.py`` with ``INMET_TEST_TARGET=aws``: the same test
   bodies that run against the local stack in the normal suite (upload a generated station file
   through the HTTPS endpoint with the key, or SigV4 when ``INMET_TEST_AWS_AUTH=Iam``; check the
   S3 objects and the status record);
4. always deletes the stack, then the bucket and the table the stack keeps on deletion
   (DeletionPolicy Retain): every object version, and the table after turning its deletion
   protection off. The API Gateway CloudWatch role, when this stack created it, is kept (the
   account's setting points at it; other APIs of the region log through it).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inmet_local.workspace.template import REPO_ROOT

SKIP_LINE = (
    "make test-aws: skipped, no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY); nothing was deployed."
)
DEPLOYED_TESTS = "tests/integration/test_deployed.py"


def credentials_available() -> bool:
    import botocore.session

    try:
        return botocore.session.Session().get_credentials() is not None
    except Exception:  # a broken profile means "no usable credentials" here
        return False


def stack_name(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"inmet-test-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO_ROOT, env=env)


def _outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _retained(cfn: Any, stack: str) -> dict[str, str]:
    """Physical names of the resources the stack keeps on deletion (DeletionPolicy Retain)."""
    from botocore.exceptions import ClientError

    try:
        resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    except ClientError:  # the stack was never created
        return {}
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r["LogicalResourceId"] in ("DataBucket", "UploadsTable") and r.get("PhysicalResourceId")
    }


def _delete_bucket(s3: Any, bucket: str) -> None:
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        items = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(items), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": items[start : start + 1000]})
    s3.delete_bucket(Bucket=bucket)


def _delete_table(dynamodb: Any, table: str) -> None:
    dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
    dynamodb.get_waiter("table_exists").wait(TableName=table)
    dynamodb.delete_table(TableName=table)


def main() -> int:
    if not credentials_available():
        print(SKIP_LINE)
        return 0
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "sa-east-1"
    auth = os.environ.get("INMET_TEST_AWS_AUTH", "ApiKey")
    session = boto3.Session(region_name=region)
    has_role = bool(session.client("apigateway").get_account().get("cloudwatchRoleArn"))
    stack = stack_name()
    sam = str(REPO_ROOT / ".tools/sam/bin/sam")
    cfn = session.client("cloudformation")
    print(f"make test-aws: deploying {stack} in {region} (ApiAuth={auth})", flush=True)
    try:
        _run(["make", "build"])
        _run(
            [
                sam, "deploy", "--stack-name", stack, "--region", region, "--resolve-s3",
                "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset",
                "--no-fail-on-empty-changeset", "--config-env", "default",
                "--parameter-overrides", "Stage=dev", "Architecture=x86_64", f"ApiAuth={auth}",
                f"CreateApiGatewayAccountRole={'false' if has_role else 'true'}",
            ]
        )  # fmt: skip
        outputs = _outputs(cfn, stack)
        env = {
            **os.environ,
            "AWS_REGION": region,
            "INMET_TEST_TARGET": "aws",
            "INMET_LIVE_API_URL": outputs["ApiUrl"],
            "INMET_LIVE_AUTH": "iam" if auth == "Iam" else "key",
            "INMET_LIVE_BUCKET": outputs["DataBucketName"],
            "INMET_LIVE_TABLE": outputs["UploadsTableName"],
        }
        if auth != "Iam":
            key = session.client("apigateway").get_api_key(
                apiKey=outputs["ApiKeyId"], includeValue=True
            )
            env["INMET_LIVE_API_KEY"] = key["value"]
        pytest = str(Path(sys.executable).with_name("pytest"))
        result = subprocess.run([pytest, DEPLOYED_TESTS, "-v"], cwd=REPO_ROOT, env=env, check=False)
        return result.returncode
    finally:
        print(f"make test-aws: deleting {stack}", flush=True)
        kept = _retained(cfn, stack)  # before the stack goes: a failed deploy has no outputs
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack)
        if kept.get("DataBucket"):
            _delete_bucket(session.client("s3"), kept["DataBucket"])
        if kept.get("UploadsTable"):
            _delete_table(session.client("dynamodb"), kept["UploadsTable"])


if __name__ == "__main__":
    raise SystemExit(main())
