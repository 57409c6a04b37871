"""What `sam build` wrote, loaded the way Lambda loads it, gives the same results as the source.

Each function in .aws-sam/build is imported by the runtime's Python (3.12) started with
``-I -S -B``, with only its folder (/var/task), its layers' ``python/`` (/opt/python) and boto3
(what the Lambda runtime provides) on the path, and invoked with its events/ JSON against moto
server and the fakesnow server. The same invocations run from the source (this virtualenv) on
a twin set of resources, and the two results must agree.

`make test` runs `make build` first and sets INMET_REQUIRE_SAM_BUILD=1, which turns a missing or
stale build into a failure; elsewhere these tests skip with the reason.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from inmet_local.emulator.invoke import (
    BUILD_DIR,
    Invocation,
    function_spec,
    functions,
    invocation_env,
    invoke,
    runtime_python,
)
from inmet_local.emulator.servers import (
    ManagedProcess,
    aws_env,
    fakesnow_client_env,
    fakesnow_server_kwargs,
    moto_client_kwargs,
)
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables
from inmet_local.workspace.template import REPO_ROOT, LocalNames, provision
from inmet_pipeline.upload_objects import SEQUENCE_PATTERN
from tests.events import load_event

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOURCES = ["template.yaml", "functions", "layers"]


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        root = REPO_ROOT / name
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            if "__pycache__" not in path.parts:
                newest = max(newest, path.stat().st_mtime)
    return newest


@pytest.fixture(scope="module")
def build_dir() -> Path:
    built = BUILD_DIR / "template.yaml"
    problem = None
    if not built.exists():
        problem = f"no sam build output ({built}): run `make build`"
    elif built.stat().st_mtime < _newest_source():
        problem = f"{BUILD_DIR} is older than template.yaml/functions/layers: run `make build`"
    if problem:
        if os.environ.get("INMET_REQUIRE_SAM_BUILD") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    return BUILD_DIR


@dataclass
class Twin:
    """One set of resources (bucket, table, warehouse database) and the functions' env."""

    names: LocalNames
    database: str
    warehouse: LocalWarehouse
    env: dict[str, dict[str, str]]  # function -> environment
    s3: Any

    def objects(self) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=self.names.bucket).get("Contents", [])
        return {
            o["Key"]: self.s3.get_object(Bucket=self.names.bucket, Key=o["Key"])["Body"].read()
            for o in listed
        }

    def status(self, upload_id: str) -> dict[str, Any]:
        dynamodb: Any = boto3.resource("dynamodb", **self._kwargs())
        table = dynamodb.Table(self.names.table)
        item: dict[str, Any] = table.get_item(Key={"upload_id": upload_id})["Item"]
        return item

    def _kwargs(self) -> dict[str, Any]:
        env = self.env["UploadFunction"]
        return dict(moto_client_kwargs(env["AWS_ENDPOINT_URL"], env["AWS_REGION"]))


@pytest.fixture
def twins(
    moto: ManagedProcess, fakesnow: ManagedProcess, tmp_path: Path
) -> Iterator[dict[str, Twin]]:
    """Two identical, separate sets of resources: one for the source, one for the build."""
    kwargs: dict[str, Any] = moto_client_kwargs(moto.url)
    s3 = boto3.client("s3", **kwargs)
    made: dict[str, Twin] = {}
    try:
        for mode in ("source", "built"):
            suffix = uuid.uuid4().hex[:8]
            names = LocalNames(bucket=f"sam-{mode}-{suffix}", table=f"sam-{mode}-{suffix}")
            provision(kwargs, names)
            database = f"S{suffix.upper()}"
            wh = LocalWarehouse(
                fakesnow_server_kwargs(fakesnow),
                values=variables({"database": database, "bucket": names.bucket}),
                work_dir=tmp_path / mode,
            )
            wh.deploy()
            stack_env = {
                **aws_env(moto.url),
                **fakesnow_client_env(fakesnow),
                "SNOWFLAKE_DATABASE": database,
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "INMET_ENV_FILE": "/dev/null",
            }
            refs = {"DataBucket": names.bucket, "UploadsTable": names.table}
            env = {
                name: invocation_env(function_spec(name, names=refs), stack_env, Path("/none"))
                for name in functions()
            }
            made[mode] = Twin(names, database, wh, env, s3)
        yield made
    finally:
        for twin in made.values():
            twin.warehouse.close()


def _run(twin: Twin, function: str, event: dict[str, Any], built: bool) -> Invocation:
    result = invoke(function, event, twin.env[function], built=built)
    assert result.ok, result.logs[-3000:]
    if built:
        _assert_lambda_paths_only(function, result)
    return result


def _assert_lambda_paths_only(function: str, result: Invocation) -> None:
    """The child imported only from /var/task, /opt/python, the runtime's boto3 and the
    runtime Python's own standard library — nothing of the repository or this virtualenv."""
    prefix = str(Path(runtime_python()).resolve().parents[1])  # the runtime Python's install
    allowed = [str(BUILD_DIR / function), str(BUILD_DIR.parent / "runtime"), prefix]
    allowed += [str(BUILD_DIR / layer) for layer in function_spec(function).layers]
    outside = [m for m in result.modules if not any(m.startswith(a) for a in allowed)]
    assert outside == [], f"{function} imported from outside its Lambda paths: {outside[:5]}"
    handler_module = function_spec(function).handler.rsplit(".", 1)[0].replace(".", "/")
    assert any(m.startswith(str(BUILD_DIR / function / handler_module)) for m in result.modules)
    assert any("/inmet_pipeline/" in m and "CommonLayer" in m for m in result.modules)


def _unsequenced(text: str) -> str:
    """``text`` with the upload sequence of a raw key (the time the service accepted the file,
    which differs between any two runs) replaced by a placeholder."""
    return re.sub(SEQUENCE_PATTERN + "-", "<sequence>-", text)


def _stable(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the fields that differ between any two runs (times, ids of the
    request, the raw key's upload sequence) or between the twins (their bucket)."""
    volatile = {"received_at", "updated_at", "request_id", "claimed_at", "bucket"}
    return {
        k: _unsequenced(v) if isinstance(v, str) else v
        for k, v in document.items()
        if k not in volatile and not k.endswith("_at")
    }


def test_the_template_environment_resolves_to_the_local_names() -> None:
    spec = function_spec("UploadFunction", names={"DataBucket": "b", "UploadsTable": "t"})
    assert spec.environment["S3_BUCKET"] == "b"
    assert spec.environment["INMET_STATUS_TABLE"] == "t"
    assert spec.layers == ("CommonLayer",)
    assert function_spec("ExportFunction").layers == ("CommonLayer", "SnowflakeLayer")
    assert function_spec("StuckUploadsFunction").layers == ("CommonLayer",)
    assert function_spec("StuckUploadsFunction").environment["INMET_STUCK_AFTER_MINUTES"] == "60"


def test_upload_function_built_and_source_agree_on_both_events(
    build_dir: Path, twins: dict[str, Twin]
) -> None:
    codes = []
    for event_name in ("upload_raw.json", "upload_multipart.json"):
        answers = {}
        for mode, twin in twins.items():
            out = _run(twin, "UploadFunction", load_event(event_name), mode == "built").result
            answers[mode] = (out["statusCode"], _stable(json.loads(out["body"])))
        assert answers["built"] == answers["source"], event_name
        codes.append(answers["built"][0])
    assert codes == [201, 200]  # the multipart event carries the same file: a duplicate
    # Same objects (byte for byte, ISO-8859-1 content normalised) and the same status records.
    source, built = twins["source"], twins["built"]
    assert {_unsequenced(k): v for k, v in built.objects().items()} == {
        _unsequenced(k): v for k, v in source.objects().items()
    }
    assert sorted(k.split("/")[0] for k in built.objects()) == ["landing", "raw"]
    upload_id = answers["built"][1]["upload_id"]
    assert _stable(source.status(upload_id)) == _stable(built.status(upload_id))


def test_export_and_error_functions_built_and_source_agree(
    build_dir: Path, twins: dict[str, Twin]
) -> None:
    """upload_raw.json → RAW → task → export_notification.json (with the batch's own message)
    → exported; then snowflake_error.json marks the same upload failed."""
    results: dict[str, dict[str, Any]] = {}
    for mode, twin in twins.items():
        built = mode == "built"
        upload = _run(twin, "UploadFunction", load_event("upload_raw.json"), built).result
        body = json.loads(upload["body"])
        raw = twin.objects()[body["raw_key"]]
        twin.warehouse.load_objects([(body["raw_key"], raw)])
        assert twin.warehouse.run_task() is not None
        sent: list[str] = []
        twin.warehouse.send_notifications(sent.append)
        event = load_event("export_notification.json")
        event["Records"][0]["Sns"]["Message"] = sent[0]
        exported = _run(twin, "ExportFunction", event, built).result
        assert exported["batches"][0]["uploads"] == [body["upload_id"]]
        assert twin.status(body["upload_id"])["status"] == "exported"
        partitions = {k: v for k, v in twin.objects().items() if k.startswith("processed/")}
        assert partitions, mode
        failed = _run(
            twin, "ErrorNotificationFunction", load_event("snowflake_error.json"), built
        ).result
        assert failed["failed_uploads"] == [body["upload_id"]]
        assert twin.status(body["upload_id"])["status"] == "failed"
        results[mode] = {
            "partitions": partitions,
            "rows": exported["batches"][0].get("partitions"),
            "failed": failed["failed_uploads"],
        }
    assert results["built"] == results["source"]


def test_stuck_uploads_function_built_and_source_agree(
    build_dir: Path, twins: dict[str, Twin]
) -> None:
    """StuckUploadsFunction runs with CommonLayer only (no Snowflake layer) and counts an
    upload left `received` for two hours as stuck (issue 14 point 11)."""
    answers = {}
    for mode, twin in twins.items():
        built = mode == "built"
        upload = _run(twin, "UploadFunction", load_event("upload_raw.json"), built).result
        upload_id = json.loads(upload["body"])["upload_id"]
        dynamodb: Any = boto3.resource("dynamodb", **twin._kwargs())
        dynamodb.Table(twin.names.table).update_item(
            Key={"upload_id": upload_id},
            UpdateExpression="SET received_at = :old",
            ExpressionAttributeValues={":old": "2020-01-01T00:00:00Z"},
        )
        result = _run(twin, "StuckUploadsFunction", load_event("stuck_schedule.json"), built).result
        assert result["stuck"] == 1, mode
        assert result["oldest"] == [["2020-01-01T00:00:00Z", upload_id]]
        answers[mode] = {k: v for k, v in result.items() if k != "cutoff"}
    assert answers["built"] == answers["source"]
