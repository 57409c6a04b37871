"""Issue 14: what the first deploy in a fresh account needs, and what moto never checks.

Each test reads the synthesised template (after the SAM transform, conditions resolved for the
parameters given: tests/template_synth.py) and names the documentation page it rests on.

Why one module of ~460 lines (issue 16): every test reads the same synthesised template (one SAM
transform per parameter set, cached in the module); each test is one documented AWS rule.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from inmet_local.workspace.template import TEMPLATE_PATH, load_template
from inmet_pipeline.stuck import METRIC as STUCK_METRIC
from tests.template_synth import of_type, synthesise
from upload_api import metrics as app_metrics

pytestmark = [pytest.mark.unit]

FUNCTIONS = (
    "UploadFunction",
    "ExportFunction",
    "ErrorNotificationFunction",
    "StuckUploadsFunction",
)
ASYNC_FUNCTIONS = ("ExportFunction", "ErrorNotificationFunction", "StuckUploadsFunction")


def _resources(**params: str) -> dict[str, Any]:
    resources: dict[str, Any] = synthesise(**params)["Resources"]
    return resources


def _serverless_lint(path: Path) -> subprocess.CompletedProcess[str]:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run(
        [str(cfn_lint), str(path), "--append-rules", "cfn_lint_serverless.rules"],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


# -- the checks that would have caught these -------------------------------------------------


def test_serverless_rules_pass() -> None:
    """awslabs serverless-rules (cfn-lint-serverless); each suppression sits in the resource's
    Metadata with its reason."""
    result = _serverless_lint(TEMPLATE_PATH)
    assert result.returncode == 0, result.stdout + result.stderr


def test_serverless_rules_catch_what_the_old_template_did(tmp_path: Path) -> None:
    """Without the log groups and the error handler's on-failure destination (the template
    before issue 14) the rules fail with WS1004 and ES1007, as they did on commit 472b645."""
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    template = yaml.load(text, Loader=_KeepTags)  # noqa: S506 - a SafeLoader subclass
    resources = template["Resources"]
    for name in FUNCTIONS:
        del resources[f"{name}LogGroup"]
    del resources["ErrorNotificationFunction"]["Properties"]["EventInvokeConfig"]
    old = tmp_path / "template.yaml"
    old.write_text(yaml.dump(template, Dumper=_TagDumper, sort_keys=False), encoding="utf-8")
    result = _serverless_lint(old)
    assert result.returncode != 0
    for name in FUNCTIONS:
        assert re.search(rf"WS1004 Lambda function {name} does not have", result.stdout), name
    assert "ES1007 Lambda function event ErrorNotificationFunction/ErrorNotification" in (
        result.stdout
    )


class _Tagged:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class _KeepTags(yaml.SafeLoader):
    pass


def _keep(loader: _KeepTags, suffix: str, node: yaml.Node) -> _Tagged:
    if isinstance(node, yaml.ScalarNode):
        return _Tagged(suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return _Tagged(suffix, loader.construct_sequence(node, deep=True))
    assert isinstance(node, yaml.MappingNode)
    return _Tagged(suffix, loader.construct_mapping(node, deep=True))


_KeepTags.add_multi_constructor("!", _keep)


class _TagDumper(yaml.SafeDumper):
    pass


def _represent(dumper: _TagDumper, data: _Tagged) -> yaml.Node:
    tag = "!" + data.tag
    if isinstance(data.value, list):
        return dumper.represent_sequence(tag, data.value)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(tag, data.value)
    return dumper.represent_scalar(tag, data.value)


_TagDumper.add_representer(_Tagged, _represent)


# -- 1. the account's API Gateway CloudWatch role ------------------------------------------


def test_the_stack_sets_the_api_gateway_logging_role_before_the_stage() -> None:
    """The Set up CloudWatch logging for REST APIs in API Gateway": a role trusted by
    apigateway.amazonaws.com with AmazonAPIGatewayPushToCloudWatchLogs, set as the account's
    CloudWatchRoleArn ("AWS::ApiGateway::Account"), before a stage with access logs."""
    resources = _resources()
    account = resources["ApiGatewayAccount"]
    assert account["Properties"]["CloudWatchRoleArn"] == {
        "Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]
    }
    role = resources["ApiGatewayCloudWatchRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert any(
        "AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(a) for a in role["ManagedPolicyArns"]
    )
    # Kept on deletion: other APIs of the account and region log through the same setting.
    assert (
        account["DeletionPolicy"]
        == resources["ApiGatewayCloudWatchRole"]["DeletionPolicy"]
        == "Retain"
    )
    [stage] = of_type(resources, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"]
    # The stage references the account setting, so CloudFormation creates it after.
    assert {"Ref": "ApiGatewayAccount"} in [t["Value"] for t in stage["Properties"]["Tags"]]


def test_the_logging_role_can_be_left_to_another_stack() -> None:
    resources = _resources(CreateApiGatewayAccountRole="false")
    assert "ApiGatewayAccount" not in resources
    assert "ApiGatewayCloudWatchRole" not in resources
    [stage] = of_type(resources, "AWS::ApiGateway::Stage").values()
    assert "ApiGatewayAccount" not in json.dumps(stage)
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"]


# -- 2. alarms reach a person --------------------------------------------------------------


def test_alarms_publish_to_a_topic_whose_key_cloudwatch_may_use() -> None:
    """Amazon SNS "Key management", "Enable compatibility between event sources from AWS
    services and encrypted topics": CloudWatch needs kms:Decrypt and kms:GenerateDataKey* on the
    topic's key, which the AWS-managed alias/aws/sns key's policy cannot grant."""
    resources = _resources()
    topic = resources["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmKey"}
    key = resources["AlarmKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    grants = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert grants
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= {a for s in grants for a in s["Action"]}
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


# -- 3. the 5xx alarm and the app's own metrics -------------------------------------------


def test_api_5xx_alarm_watches_the_apis_real_name() -> None:
    """The Amazon API Gateway dimensions and metrics": 5XXError by ApiName and Stage; the API's
    name is its Name property (SAM names an unnamed API after the stack)."""
    resources = _resources()
    [api] = of_type(resources, "AWS::ApiGateway::RestApi").values()
    [stage] = of_type(resources, "AWS::ApiGateway::Stage").values()
    dims = {d["Name"]: d["Value"] for d in resources["Api5xxAlarm"]["Properties"]["Dimensions"]}
    assert dims["ApiName"] == api["Properties"]["Name"]
    assert dims["Stage"] == stage["Properties"]["StageName"]


def _emitted(record: Any) -> list[dict[str, Any]]:
    """The EMF blobs the app's Metrics object would print after ``record()``."""
    app_metrics.metrics.clear_metrics()
    try:
        record()
        blob: dict[str, Any] = dict(app_metrics.metrics.serialize_metric_set())
    finally:
        app_metrics.metrics.clear_metrics()
    return [blob]


def _watched_by(alarm: dict[str, Any], blobs: list[dict[str, Any]]) -> bool:
    props = alarm["Properties"]
    want = {d["Name"]: d["Value"] for d in props["Dimensions"]}
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names = {m["Name"] for m in directive["Metrics"]}
            for dimension_set in directive["Dimensions"]:
                got = {d: blob[d] for d in dimension_set}
                if (
                    directive["Namespace"] == props["Namespace"]
                    and props["MetricName"] in names
                    and got == want
                ):
                    return True
    return False


def test_app_failure_and_rejection_alarms_watch_what_the_app_emits() -> None:
    """The Metrics - Powertools for AWS Lambda (Python)": EMF with the default dimension service.
    The alarms' namespace, name and dimensions equal what the app's Metrics object prints, with
    the service name the template gives the functions."""
    template = load_template()
    service = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    assert app_metrics.metrics.service == service
    resources = _resources()
    assert _watched_by(resources["UploadFailuresAlarm"], _emitted(app_metrics.record_failure))
    assert _watched_by(
        resources["UploadRejectionsAlarm"],
        _emitted(lambda: app_metrics.record_rejection("bad_hour")),
    )
    # and not by accident: a metric the app does not emit is not matched
    assert not _watched_by(
        resources["UploadFailuresAlarm"],
        _emitted(lambda: app_metrics.record_outcome("UploadAccepted")),
    )


# -- 4. timeouts (the budget itself: tests/unit/test_budget.py) ----------------------------


def test_function_timeouts_are_the_budgets() -> None:
    from inmet_pipeline.budget import (
        API_GATEWAY_INTEGRATION_TIMEOUT_S,
        EXPORT_FUNCTION_TIMEOUT_S,
        UPLOAD_FUNCTION_TIMEOUT_S,
    )

    functions = of_type(_resources(), "AWS::Lambda::Function")
    assert functions["UploadFunction"]["Properties"]["Timeout"] == UPLOAD_FUNCTION_TIMEOUT_S
    assert UPLOAD_FUNCTION_TIMEOUT_S < API_GATEWAY_INTEGRATION_TIMEOUT_S
    assert functions["ExportFunction"]["Properties"]["Timeout"] == EXPORT_FUNCTION_TIMEOUT_S == 900


# -- 5. one failure path -------------------------------------------------------------------


def test_each_async_function_has_one_failure_path_to_the_queue() -> None:
    """The Capturing records of Lambda asynchronous invocations": an on-failure destination gets
    the invocation record; a DeadLetterQueue as well sent each failure twice."""
    resources = _resources()
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        assert "DeadLetterConfig" not in function["Properties"], name
    configs = {
        v["Properties"]["FunctionName"]["Ref"]: v["Properties"]
        for v in of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
    }
    assert set(configs) == set(ASYNC_FUNCTIONS)
    for name, config in configs.items():
        on_failure = config["DestinationConfig"]["OnFailure"]["Destination"]
        assert on_failure == {"Fn::GetAtt": ["ExportDeadLetterQueue", "Arn"]}, name
        assert config["Qualifier"] == "live"  # the alias the events invoke


# -- 6. logs expire ------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "days"), [("dev", 30), ("prod", 365)])
def test_every_function_log_group_expires_with_the_stage(stage: str, days: int) -> None:
    template = synthesise(Stage=stage)
    mapping = template["Mappings"]["StageSettings"]
    groups = of_type(template["Resources"], "AWS::Logs::LogGroup")
    named = {}
    for group in groups.values():
        props = group["Properties"]
        retention = props["RetentionInDays"]
        assert retention == {
            "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]
        }
        assert mapping[stage]["LogRetentionDays"] == days
        name = props.get("LogGroupName", {}).get("Fn::Sub", "")
        if name.startswith("/aws/lambda/"):
            named[name.removeprefix("/aws/lambda/${").removesuffix("}")] = group
    assert set(named) == set(FUNCTIONS)
    assert "ApiAccessLogs" in groups


# -- 7. data survives the stack ------------------------------------------------------------


def test_bucket_and_table_survive_the_stack() -> None:
    """CloudFormation "DeletionPolicy attribute" and "UpdateReplacePolicy attribute";
    "AWS::DynamoDB::Table" DeletionProtectionEnabled."""
    resources = _resources()
    for name in ("DataBucket", "UploadsTable"):
        assert resources[name]["DeletionPolicy"] == "Retain", name
        assert resources[name]["UpdateReplacePolicy"] == "Retain", name
    assert resources["UploadsTable"]["Properties"]["DeletionProtectionEnabled"] is True


# -- 8. gradual deploys --------------------------------------------------------------------


def test_functions_deploy_gradually_and_roll_back_on_their_alarms() -> None:
    """The Deploying serverless applications gradually with AWS SAM" / "DeploymentPreference":
    AutoPublishAlias + a canary, rolled back when the named alarms fire."""
    resources = _resources()
    expected = {
        "UploadFunction": {"UploadErrorsAlarm", "UploadFailuresAlarm", "Api5xxAlarm"},
        "ExportFunction": {"ExportErrorsAlarm"},
        "ErrorNotificationFunction": {"ErrorHandlerErrorsAlarm"},
        "StuckUploadsFunction": {"StuckCheckErrorsAlarm"},
    }
    for name, alarms in expected.items():
        alias = resources[f"{name}Aliaslive"]
        assert alias["Properties"]["Name"] == "live"
        group_ref = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"]
        group = resources[group_ref["Ref"]]["Properties"]
        assert "Canary10Percent5Minutes" in json.dumps(group["DeploymentConfigName"])
        assert {a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]} == alarms
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        for alarm in alarms:
            assert alarm in resources
    # the API and the SNS subscriptions invoke the alias, so traffic follows the shift
    [api] = of_type(resources, "AWS::ApiGateway::RestApi").values()
    uri = json.dumps(api["Properties"]["Body"]["paths"]["/uploads"]["post"])
    assert "UploadFunctionAliaslive" in uri


# -- 10. no stage named "Stage" -----------------------------------------------------------


def test_only_the_stage_parameters_stage_exists() -> None:
    """The AWS::Serverless::Api" OpenApiVersion: without it SAM also creates a stage "Stage"."""
    stages = of_type(_resources(), "AWS::ApiGateway::Stage")
    assert [s["Properties"]["StageName"] for s in stages.values()] == [{"Ref": "Stage"}]
    assert load_template()["Resources"]["UploadsApi"]["Properties"]["OpenApiVersion"]


# -- 11. operability -----------------------------------------------------------------------


def _dims(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Properties"].get("Dimensions", [])}


def test_error_handler_throttles_and_stuck_uploads_alarm() -> None:
    """The Types of metrics for Lambda functions" (Errors, Throttles by FunctionName)."""
    resources = _resources()
    errors = resources["ErrorHandlerErrorsAlarm"]["Properties"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert _dims(resources["ErrorHandlerErrorsAlarm"]) == {
        "FunctionName": {"Ref": "ErrorNotificationFunction"}
    }
    throttles = resources["FunctionThrottlesAlarm"]["Properties"]["Metrics"]
    watched = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in throttles
        if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == "Throttles"
    }
    assert watched == set(FUNCTIONS)
    [total] = [m for m in throttles if m.get("ReturnData")]
    ids = {m["Id"] for m in throttles if "MetricStat" in m}
    assert set(re.findall(r"\b[a-z]+\b", total["Expression"])) == ids
    assert total["Expression"].count("FILL(") == len(ids)  # a quiet function does not hide others
    stuck = resources["StuckUploadsAlarm"]["Properties"]
    assert (stuck["Namespace"], stuck["MetricName"]) == (app_metrics.NAMESPACE, STUCK_METRIC)
    assert _dims(resources["StuckUploadsAlarm"]) == {"service": app_metrics.metrics.service}
    # the check runs on a schedule and may read the table
    rule = next(iter(of_type(resources, "AWS::Events::Rule").values()))
    assert rule["Properties"]["ScheduleExpression"] == "rate(15 minutes)"
    env = resources["StuckUploadsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["INMET_STUCK_AFTER_MINUTES"] == {"Ref": "StuckUploadMinutes"}


def _dashboard(resources: dict[str, Any]) -> dict[str, Any]:
    template = resources["PipelineDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # ${!X} is a literal ${X} for CloudWatch (the SEARCH label); every other ${…} a reference.
    body = re.sub(r"\$\{!([^}]*)\}", r"<literal \1>", template)
    body = re.sub(r"\$\{[^}]*\}", "X", body)
    return json.loads(body)  # type: ignore[no-any-return]


def test_one_dashboard_shows_uploads_rejections_export_latency_and_dlq_depth() -> None:
    """The CloudWatch dashboard body structure and syntax": the body parses, and its metrics are
    the ones the code emits."""
    resources = _resources()
    body = _dashboard(resources)
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"]]
    ours = {m[1] for m in metrics if isinstance(m[0], str) and m[0] == app_metrics.NAMESPACE}
    emitted = {
        app_metrics.ACCEPTED,
        app_metrics.DUPLICATE,
        app_metrics.REJECTED,
        app_metrics.FAILED,
        STUCK_METRIC,
        "UploadsExported",  # export_clean/app.py
        "PartitionsExported",
        "UploadsFailed",
    }
    assert {app_metrics.ACCEPTED, app_metrics.REJECTED, STUCK_METRIC} <= ours <= emitted
    assert any("SEARCH(" in json.dumps(m) and "code" in json.dumps(m) for m in metrics)
    assert ["AWS/Lambda", "Duration", "FunctionName", "X"] in [m[:4] for m in metrics]
    assert ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "X"] in metrics
    source = resources["PipelineDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert "${ExportFunction}" in source
    assert "${ExportDeadLetterQueue.QueueName}" in source


# -- 12. API key or IAM --------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "scheme"), [("ApiKey", "api_key"), ("Iam", "sigv4")])
def test_api_auth_parameter_selects_the_scheme_of_every_method(mode: str, scheme: str) -> None:
    """The x-amazon-apigateway-authtype property": awsSigv4 on an apiKey-type scheme named
    Authorization is IAM authorization; "Usage plans and API keys": don't rely on API keys as
    the only means of authentication."""
    resources = _resources(ApiAuth=mode)
    [api] = of_type(resources, "AWS::ApiGateway::RestApi").values()
    body = api["Properties"]["Body"]
    methods = [(p, m, op) for p, ops in body["paths"].items() for m, op in ops.items()]
    assert len(methods) == 3
    for path, method, op in methods:
        assert op["security"] == [{scheme: []}], (path, method)
        assert op["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    assert body["securityDefinitions"]["sigv4"] == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
    policy = resources.get("UploadsApiInvokePolicy")
    if mode == "Iam":
        assert policy is not None
        [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == "execute-api:Invoke"
        assert "${UploadsApi}/${Stage}/*/*" in statement["Resource"]["Fn::Sub"]
    else:
        assert policy is None
