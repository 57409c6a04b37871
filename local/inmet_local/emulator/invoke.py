"""`inmet local invoke FUNCTION -e EVENT`: what `sam local invoke` does, without Docker.

The handler named by template.yaml runs in a child Python process with the function's
environment and the event, against the running local stack (`inmet local up`), and its return
value is printed as JSON; the function's own log lines go to stderr, as they go to CloudWatch.

Two ways to load the code:
- **source** (default): the project's packages as installed in this virtualenv — for quick
  iterations while editing.
- **built** (`--built`): what `sam build` wrote to .aws-sam/build, loaded like Lambda does: the
  runtime's Python (python3.12) started with ``-I -S`` (no site-packages, no PYTHONPATH) and a
  path of exactly the function's folder (/var/task), its layers' ``python/`` folders in template
  order (/opt/python), and a folder with boto3 standing in for what the Lambda runtime
  provides (/var/runtime). An import that works here works in Lambda.

The environment is, in increasing precedence: the template's (Globals and the function's
``Environment``, with ``!Ref``s resolved to the local stack's names and the parameters'
defaults), the running stack's (endpoints of moto and fakesnow, credentials, names), and
``env.json`` — the same file `sam local invoke --env-vars env.json` takes ("Parameters" for every
function, then the function's own entry). Unlike `sam local invoke`, a variable that the
template does not declare is passed too (the endpoints must be).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inmet_local.workspace.discovery import STATE_FILE as STATE_FILE  # re-exported
from inmet_local.workspace.discovery import StackNotFound, read_stack
from inmet_local.workspace.template import REPO_ROOT, load_template

BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
ENV_JSON = REPO_ROOT / "env.json"
RUNTIME_PYTHON = "3.12"  # template.yaml Globals.Function.Runtime


class InvokeError(RuntimeError):
    """The invocation cannot start (unknown function, no stack, no build); says what to do."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str
    handler: str  # "package.module.attribute"
    code_uri: str  # relative to the repository, e.g. "functions/upload_api/"
    layers: tuple[str, ...]  # logical ids, in the template's order
    environment: dict[str, str]


def functions(template: Mapping[str, Any] | None = None) -> dict[str, Mapping[str, Any]]:
    template = template or load_template()
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def function_spec(
    logical_id: str,
    template: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> FunctionSpec:
    """The function as template.yaml declares it. ``names`` maps resource logical ids to local
    physical names (DataBucket -> the local bucket); other ``!Ref``s of resources become the
    logical id, parameters their default."""
    template = template or load_template()
    found = functions(template)
    if logical_id not in found:
        raise InvokeError(
            f"no function {logical_id!r} in template.yaml; functions: {', '.join(sorted(found))}"
        )
    props = found[logical_id]["Properties"]
    glob = template.get("Globals", {}).get("Function", {})
    variables = {
        **glob.get("Environment", {}).get("Variables", {}),
        **props.get("Environment", {}).get("Variables", {}),
    }
    env: dict[str, str] = {}
    for key, value in variables.items():
        resolved = _resolve(value, template, names or {})
        if resolved is not None:
            env[key] = resolved
    layers = tuple(layer["Ref"] for layer in props.get("Layers", []) if isinstance(layer, dict))
    return FunctionSpec(
        logical_id, props.get("Handler") or glob["Handler"], props["CodeUri"], layers, env
    )


def sns_subscriptions(template: Mapping[str, Any] | None = None) -> dict[str, FunctionSpec]:
    """Each SNS topic's subscribed function, as template.yaml wires them: the topic's logical id
    (an ``Events`` entry of ``Type: SNS`` whose ``Topic`` is ``!Ref`` it) to the function."""
    template = template or load_template()
    wired: dict[str, FunctionSpec] = {}
    for name, resource in functions(template).items():
        for event in resource["Properties"].get("Events", {}).values():
            topic = event.get("Properties", {}).get("Topic")
            if event.get("Type") == "SNS" and isinstance(topic, dict) and "Ref" in topic:
                wired[topic["Ref"]] = function_spec(name, template)
    return wired


def _resolve(value: Any, template: Mapping[str, Any], names: Mapping[str, str]) -> str | None:
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        if ref in template.get("Parameters", {}):
            default = template["Parameters"][ref].get("Default")
            return None if default in (None, "") else str(default)
        return names.get(ref, ref)
    return None  # !Sub, !GetAtt …: left to the stack's or env.json's values


def stack_state(data_dir: Path) -> dict[str, Any]:
    """What the running `inmet local up --data-dir DATA_DIR` wrote about itself (found the
    way every command finds it: discovery.read_stack)."""
    try:
        stack = read_stack(data_dir)
    except StackNotFound as exc:
        raise InvokeError(str(exc)) from None
    return {"pid": stack.pid, "api_url": stack.api_url, "env": stack.env, "names": stack.names}


def env_json_values(logical_id: str, path: Path = ENV_JSON) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvokeError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvokeError(f"{path} must hold an object of function names")
    values: dict[str, str] = {}
    for section in ("Parameters", logical_id):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise InvokeError(f"{path}: {section!r} must be an object of NAME: value")
        values.update({str(k): str(v) for k, v in entries.items()})
    return values


def invocation_env(
    spec: FunctionSpec, stack_env: Mapping[str, str], env_file: Path = ENV_JSON
) -> dict[str, str]:
    return {**spec.environment, **stack_env, **env_json_values(spec.logical_id, env_file)}


def runtime_python() -> str:
    """The Lambda runtime's Python: $INMET_LAMBDA_PYTHON, else a pyenv 3.12, else python3.12 on
    PATH — the first that really runs 3.12 (pyenv's shims exist but may refuse to)."""
    explicit = os.environ.get("INMET_LAMBDA_PYTHON")
    candidates: list[str | None] = [explicit] if explicit else []
    candidates += [
        str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{RUNTIME_PYTHON}.*/bin/python3"))
    ]
    candidates.append(shutil.which(f"python{RUNTIME_PYTHON}"))
    for candidate in candidates:
        if candidate and _is_runtime_python(candidate):
            return candidate
    raise InvokeError(
        f"Python {RUNTIME_PYTHON} (the functions' runtime) was not found; install it or set "
        "INMET_LAMBDA_PYTHON to its path"
    )


def _is_runtime_python(candidate: str) -> bool:
    try:
        out = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return out.returncode == 0 and out.stdout.strip() == RUNTIME_PYTHON


def runtime_dir(python: str, build_dir: Path = BUILD_DIR) -> Path:
    """A folder with what the Lambda Python runtime provides besides the standard library
    (boto3 and its dependencies), installed once beside the build."""
    target = build_dir.parent / "runtime" / f"python{RUNTIME_PYTHON}"
    marker = target / ".installed"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(target),
                "boto3",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise InvokeError(f"could not install boto3 into {target}: {result.stderr[-500:]}")
        marker.touch()
    return target


def local_adapter_dir(build_dir: Path = BUILD_DIR) -> Path:
    """A folder with the local warehouse adapter alone (``inmet_local.emulator.local_adapter``),
    for a built function invoked against the local stack.

    The Lambda layer does not carry it (issue 16; docs/local-runtime.md): a built ExportFunction
    reaches the local warehouse only through the adapter INMET_WAREHOUSE_ADAPTER names. Like
    boto3 in ``runtime_dir``, it is what the environment provides, not the function: it sits
    beside the runtime's folder, and only its two files are copied (fresh each time), so every
    other import still comes from the build."""
    import inmet_local
    import inmet_local.emulator
    import inmet_local.emulator.local_adapter

    target = build_dir.parent / "runtime" / "local-adapter"
    for module, folder in (
        (inmet_local, "inmet_local"),
        (inmet_local.emulator, "inmet_local/emulator"),
        (inmet_local.emulator.local_adapter, "inmet_local/emulator"),
    ):
        assert module.__file__ is not None
        (target / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(module.__file__, target / folder / Path(module.__file__).name)
    return target


def built_paths(spec: FunctionSpec, build_dir: Path = BUILD_DIR) -> list[Path]:
    """/var/task then each layer's /opt/python, as Lambda orders them."""
    task = build_dir / spec.logical_id
    if not (build_dir / "template.yaml").exists() or not task.is_dir():
        raise InvokeError(f"{task} does not exist: run `make build` (sam build) first")
    paths = [task]
    for layer in spec.layers:
        folder = build_dir / layer / "python"
        if not folder.is_dir():
            raise InvokeError(f"layer {layer} is not built ({folder}): run `make build`")
        paths.append(folder)
    return paths


_DRIVER = r"""
import importlib, json, sys, traceback, uuid
paths, handler_name, event_path, result_path, function_name = sys.argv[1:6]
sys.path[:0] = json.loads(paths)

class Context:
    function_name = function_name
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "local"
    aws_request_id = str(uuid.uuid4())
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + function_name
    def get_remaining_time_in_millis(self):
        return 300000

with open(event_path, encoding="utf-8") as fh:
    event = json.load(fh)
module_name, attr = handler_name.rsplit(".", 1)
try:
    handler = getattr(importlib.import_module(module_name), attr)
    out = {"result": handler(event, Context())}
    code = 0
except Exception as exc:
    traceback.print_exc()
    out = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    code = 1
out["modules"] = sorted({m.__file__ for m in list(sys.modules.values())
                         if getattr(m, "__file__", None)})
with open(result_path, "w", encoding="utf-8") as fh:
    json.dump(out, fh, default=str)
sys.exit(code)
"""


@dataclass(frozen=True, slots=True)
class Invocation:
    ok: bool
    result: Any  # the handler's return value, or Lambda's error object
    modules: list[str]  # files of every module the child imported (for path checks)
    logs: str  # what the function wrote to stdout and stderr


def invoke(
    logical_id: str,
    event: Mapping[str, Any] | Path,
    env: Mapping[str, str],
    *,
    built: bool = False,
    build_dir: Path = BUILD_DIR,
    template: Mapping[str, Any] | None = None,
    stream_logs: bool = False,
    timeout: float = 300,
) -> Invocation:
    """Run the function's handler once in a child process (see the module docstring)."""
    spec = function_spec(logical_id, template)
    if built:
        python = runtime_python()
        paths = [*built_paths(spec, build_dir), runtime_dir(python, build_dir)]
        if env.get("INMET_WAREHOUSE_ADAPTER"):
            paths.append(local_adapter_dir(build_dir))
        # -B: Lambda's /var/task and /opt are read-only, no .pyc is ever written there.
        argv = [python, "-I", "-S", "-B"]
    else:
        python = sys.executable
        paths = []
        argv = [python, "-I"]
    base = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR", "LANG") if k in os.environ}
    child_env = {
        **base,
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{RUNTIME_PYTHON}",
        "_HANDLER": spec.handler,
        "TZ": ":UTC",
        **env,
    }
    with tempfile.TemporaryDirectory(prefix="inmet-invoke-") as tmp:
        event_path = Path(tmp) / "event.json"
        if isinstance(event, Path):
            try:
                text = event.read_text(encoding="utf-8")
                json.loads(text)
                event_path.write_text(text, encoding="utf-8")
            except (OSError, ValueError) as exc:
                raise InvokeError(f"cannot read the event {event}: {exc}") from exc
        else:
            event_path.write_text(json.dumps(event), encoding="utf-8")
        result_path = Path(tmp) / "result.json"
        command = [
            *argv, "-c", _DRIVER,
            json.dumps([str(p) for p in paths]), spec.handler, str(event_path),
            str(result_path), logical_id,
        ]  # fmt: skip
        try:
            process = subprocess.run(
                command,
                env=child_env,
                cwd=tmp,  # nothing of the repository is importable from the working folder
                # Logs go to stderr when streamed: stdout is for the result.
                stdout=sys.stderr if stream_logs else subprocess.PIPE,
                stderr=None if stream_logs else subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise InvokeError(f"{logical_id} did not return within {timeout:.0f} s") from exc
        if not result_path.exists():
            raise InvokeError(
                f"{logical_id} crashed before returning (exit code {process.returncode})"
                + (f":\n{process.stdout[-2000:]}" if process.stdout else "")
            )
        out = json.loads(result_path.read_text(encoding="utf-8"))
    modules = out.pop("modules", [])
    ok = "result" in out
    return Invocation(ok, out["result"] if ok else out, modules, process.stdout or "")
