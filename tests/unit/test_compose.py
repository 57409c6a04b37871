"""local/compose.yml: valid against the Compose Specification's schema, every variable it uses
documented in .env.example, secrets required, ports on 127.0.0.1 only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "local" / "compose.yml"
TEXT = COMPOSE.read_text(encoding="utf-8")
DATA = yaml.safe_load(TEXT)
VARIABLES = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", TEXT))


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(DATA)


def test_every_variable_is_documented_in_env_example() -> None:
    documented = set(
        re.findall(r"^([A-Z_][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), flags=re.M)
    )
    assert VARIABLES
    assert documented >= VARIABLES, VARIABLES - documented


def test_secrets_are_required_not_defaulted() -> None:
    for name in ("MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "MINIO_ROOT_PASSWORD"):
        uses = re.findall(r"(?<!\$)\$\{" + name + r"([^}]*)\}", TEXT)
        assert uses
        assert all(u.startswith(":?") for u in uses), (name, uses)


def test_ports_are_bound_to_localhost_and_services_are_checked() -> None:
    for name, service in DATA["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
        if name != "create-bucket":
            assert "healthcheck" in service or "build" in service, name
    assert DATA["services"]["mlflow"]["depends_on"]["mysql"]["condition"] == "service_healthy"
    assert set(DATA["volumes"]) == {"mysql-data", "minio-data"}


def test_mlflow_image_pins_the_version_the_project_runs() -> None:
    import mlflow

    dockerfile = (ROOT / "local" / "mlflow" / "Dockerfile").read_text()
    pinned = re.search(r'"mlflow==([\d.]+)"', dockerfile)
    assert pinned is not None
    assert pinned.group(1) == mlflow.__version__
    command = " ".join(DATA["services"]["mlflow"]["command"])
    assert "mysql+pymysql://" in command
    assert "--artifacts-destination s3://" in command
    assert DATA["services"]["mlflow"]["environment"]["MLFLOW_S3_ENDPOINT_URL"]


def test_mlflow_is_health_checked_and_jupyter_waits_for_it() -> None:
    services = DATA["services"]
    check = services["mlflow"]["healthcheck"]
    command = " ".join(check["test"])
    assert check["test"][0] == "CMD"
    assert "http://127.0.0.1:5000/health" in command  # MLflow's health endpoint, in-container
    assert "curl" not in command  # python:3.12-slim has no curl
    assert check["retries"] >= 3
    assert check["start_period"]
    assert services["jupyter"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    # Every service_healthy dependency is on a service with a healthcheck in this file.
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            if rule.get("condition") == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
