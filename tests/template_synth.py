"""The synthesised template as CloudFormation receives it for one set of parameter values.

``synthesise(params)`` runs the SAM transform (as ``sam package`` would have replaced the code
folders by S3 locations) and then resolves what CloudFormation resolves from the parameters:
the Conditions, every ``Fn::If``, and resources whose Condition is false are dropped. Other
intrinsics (Ref, GetAtt, Sub) stay as they are, to be checked as references.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from inmet_local.workspace.template import load_template


class _NoManagedPolicyLookup:
    """The transform asks IAM for managed policy names only when a template uses them by
    name; this one does not, so no AWS call is needed."""

    def load(self) -> dict[str, str]:
        return {}


def _parameter_values(template: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    values = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    values.update(params)
    return values


def _condition(expr: Any, values: dict[str, Any], conditions: dict[str, Any]) -> Any:
    if isinstance(expr, dict) and len(expr) == 1:
        ((op, arg),) = expr.items()
        if op == "Ref":
            return values[arg]
        if op == "Condition":
            return _condition(conditions[arg], values, conditions)
        if op == "Fn::Equals":
            a, b = (_condition(x, values, conditions) for x in arg)
            return str(a) == str(b)
        if op == "Fn::Not":
            return not _condition(arg[0], values, conditions)
        if op == "Fn::And":
            return all(_condition(x, values, conditions) for x in arg)
        if op == "Fn::Or":
            return any(_condition(x, values, conditions) for x in arg)
    return expr


_NO_VALUE = object()


def _resolve_ifs(node: Any, truth: dict[str, bool]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return _resolve_ifs(yes if truth[name] else no, truth)
        if node == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        out = {}
        for k, v in node.items():
            r = _resolve_ifs(v, truth)
            if r is not _NO_VALUE:
                out[k] = r
        return out
    if isinstance(node, list):
        return [r for r in (_resolve_ifs(v, truth) for v in node) if r is not _NO_VALUE]
    return node


@functools.cache
def _synthesise(frozen: str) -> str:
    from samtranslator.translator.transform import transform

    params: dict[str, str] = json.loads(frozen)
    template = load_template()
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in props:
                props[key] = f"s3://artifacts/{name}.zip"
    values = _parameter_values(template, params)
    result: dict[str, Any] = transform(template, values, _NoManagedPolicyLookup())
    conditions = result.get("Conditions", {})
    truth = {name: bool(_condition(expr, values, conditions)) for name, expr in conditions.items()}
    resources = {
        name: res
        for name, res in result["Resources"].items()
        if "Condition" not in res or truth[res["Condition"]]
    }
    resolved = _resolve_ifs({**result, "Resources": resources}, truth)
    resolved["ResolvedParameters"] = values
    return json.dumps(resolved)


def synthesise(**params: str) -> dict[str, Any]:
    """The whole resolved template (a fresh copy: tests may change it)."""
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "sa-east-1")
    return copy.deepcopy(json.loads(_synthesise(json.dumps(params, sort_keys=True))))


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}
