"""`inmet local invoke`: the function's spec from template.yaml, its environment's precedence,
and clear errors when the function, the stack or the event is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.emulator.invoke import (
    InvokeError,
    env_json_values,
    function_spec,
    invocation_env,
    invoke,
    stack_state,
)
from tests.events import EVENTS_DIR

pytestmark = [pytest.mark.unit]


def test_unknown_function_lists_the_template_functions() -> None:
    with pytest.raises(InvokeError, match="ExportFunction, StuckUploadsFunction, UploadFunction"):
        function_spec("Nope")


def test_spec_follows_the_template() -> None:
    spec = function_spec("ExportFunction", names={"DataBucket": "bkt"})
    assert spec.handler == "export_clean.app.handler"
    assert spec.code_uri == "functions/export_clean/"
    assert spec.layers == ("CommonLayer", "SnowflakeLayer")
    assert spec.environment["S3_BUCKET"] == "bkt"  # Globals, !Ref resolved to the local name
    assert spec.environment["SNOWFLAKE_DATABASE"] == "INMET"  # a parameter's default
    assert "SNOWFLAKE_ACCOUNT" not in spec.environment  # empty default: not set


def test_no_running_stack_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(InvokeError, match="inmet local up"):
        stack_state(tmp_path)
    (tmp_path / "stack.json").write_text(json.dumps({"pid": 2**22 + 12345, "env": {}}))
    with pytest.raises(InvokeError, match="is not running"):
        stack_state(tmp_path)
    (tmp_path / "stack.json").write_text(json.dumps({"pid": os.getpid(), "env": {"A": "1"}}))
    assert stack_state(tmp_path)["env"] == {"A": "1"}


def test_env_json_precedence_and_errors(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(
        json.dumps(
            {
                "Parameters": {"LEVEL": "DEBUG", "S3_BUCKET": "from-parameters"},
                "UploadFunction": {"S3_BUCKET": "from-function"},
            }
        )
    )
    assert env_json_values("UploadFunction", env_file) == {
        "LEVEL": "DEBUG",
        "S3_BUCKET": "from-function",
    }
    spec = function_spec("UploadFunction", names={"DataBucket": "from-template"})
    env = invocation_env(spec, {"AWS_ENDPOINT_URL": "http://x", "S3_BUCKET": "stack"}, env_file)
    assert env["S3_BUCKET"] == "from-function"  # env.json wins over the stack and template
    assert env["AWS_ENDPOINT_URL"] == "http://x"
    assert env["INMET_STATUS_TABLE"] == "UploadsTable"  # no local name given: the logical id
    assert env_json_values("UploadFunction", tmp_path / "absent.json") == {}
    env_file.write_text("{not json")
    with pytest.raises(InvokeError, match="not valid JSON"):
        env_json_values("UploadFunction", env_file)
    env_file.write_text(json.dumps({"UploadFunction": ["A=1"]}))
    with pytest.raises(InvokeError, match="must be an object"):
        env_json_values("UploadFunction", env_file)


def test_a_raising_handler_gives_lambdas_error_object() -> None:
    """An SNS event given to the API function: Mangum cannot handle it; the error comes back
    as Lambda reports it, with the traceback in the logs."""
    result = invoke(
        "UploadFunction",
        json.loads((EVENTS_DIR / "snowflake_error.json").read_text()),
        {"S3_BUCKET": "b", "INMET_ENV_FILE": "/dev/null", "POWERTOOLS_TRACE_DISABLED": "true"},
    )
    assert not result.ok
    assert result.result["errorType"]
    assert "Traceback" in result.logs


def test_cli_without_a_stack_exits_2_with_the_reason(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "local",
            "invoke",
            "UploadFunction",
            "-e",
            str(EVENTS_DIR / "upload_raw.json"),
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert out.exit_code == 2
    assert "no local stack is running" in out.output
    missing = runner.invoke(app, ["local", "invoke", "UploadFunction", "-e", "nope.json"])
    assert missing.exit_code == 2
    assert "nope.json" in missing.output


def test_the_runtime_python_is_the_templates_runtime() -> None:
    """RUNTIME_PYTHON picks the interpreter for --built and the build; the template decides."""
    from inmet_local.emulator.invoke import RUNTIME_PYTHON
    from inmet_local.workspace.template import load_template

    template = load_template()
    assert template["Globals"]["Function"]["Runtime"] == f"python{RUNTIME_PYTHON}"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            assert resource["Properties"]["CompatibleRuntimes"] == [f"python{RUNTIME_PYTHON}"]


def test_a_handler_that_answers_an_error_is_a_failure() -> None:
    from inmet_local.cli.local import handler_failure as _handler_failure

    # Mangum turns an exception in the app into a 500 answer: `inmet local invoke` exits 1.
    assert _handler_failure({"statusCode": 500, "body": '{"error": "x"}'}) == (
        'HTTP 500: {"error": "x"}'
    )
    assert _handler_failure({"batchItemFailures": [{"itemIdentifier": "1"}]}) == (
        "1 failed record(s)"
    )
    assert _handler_failure({"statusCode": 422, "body": "bad file"}) is None  # a client error
    assert _handler_failure({"statusCode": 201}) is None
    assert _handler_failure({"failed_uploads": []}) is None
    assert _handler_failure(None) is None


def test_sns_subscriptions_follow_the_template() -> None:
    """The local stack's SNS wiring is template.yaml's Events (Type: SNS), not a copy of it."""
    from inmet_local.emulator.invoke import sns_subscriptions

    wired = {topic: spec.logical_id for topic, spec in sns_subscriptions().items()}
    assert wired == {
        "LoadNotificationTopic": "ExportFunction",
        "ErrorNotificationTopic": "ErrorNotificationFunction",
    }
    template = {
        "Resources": {
            "F": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "m.h",
                    "CodeUri": "f/",
                    "Events": {
                        "A": {"Type": "SNS", "Properties": {"Topic": {"Ref": "T"}}},
                        "B": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}},
                    },
                },
            }
        }
    }
    assert {t: s.handler for t, s in sns_subscriptions(template).items()} == {"T": "m.h"}


def test_a_built_function_gets_the_local_warehouse_adapter_alone(tmp_path: Path) -> None:
    """The layer carries no local code: a built function invoked against the local stack gets
    inmet_local.emulator.local_adapter (and nothing else of inmet_local) beside the runtime's
    folder."""
    from inmet_local.emulator.invoke import local_adapter_dir

    folder = local_adapter_dir(tmp_path / "build")
    assert folder.parent == tmp_path / "runtime"
    assert sorted(p.name for p in (folder / "inmet_local").iterdir()) == ["__init__.py", "emulator"]
    assert sorted(p.name for p in (folder / "inmet_local" / "emulator").iterdir()) == [
        "__init__.py",
        "local_adapter.py",
    ]
