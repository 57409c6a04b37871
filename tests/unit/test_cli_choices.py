"""Options with fixed choices are StrEnums: `--help` lists them, Typer refuses any other value
with the project's message, case does not matter, and the choices follow what they name."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.cli.options import (
    AuthMode,
    ComposeService,
    FetchSource,
    Layout,
    choice_text,
    parse_choice,
)

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_a_choice_is_matched_whatever_its_case() -> None:
    assert parse_choice(Layout, "--layout", "b") is Layout.B
    assert parse_choice(AuthMode, "--auth", "IAM") is AuthMode.IAM
    assert parse_choice(FetchSource, "--from", FetchSource.SNOWFLAKE) is FetchSource.SNOWFLAKE


def test_another_value_is_refused_naming_the_choices() -> None:
    with pytest.raises(typer.BadParameter, match=r"--from must be s3 or snowflake, not 'x'"):
        parse_choice(FetchSource, "--from", "x")
    assert choice_text(ComposeService) == "mlflow, mysql, minio, create-bucket or jupyter"


@pytest.mark.parametrize(
    ("args", "listed"),
    [
        (["synth", "--help"], "A|B"),
        (["upload", "--help"], "key|iam"),
        (["fetch", "--help"], "s3|snowflake"),
    ],
)
def test_help_lists_the_choices(args: list[str], listed: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert listed in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fetch", "--from", "ftp"], "--from must be s3 or snowflake, not 'ftp'"),
        (["upload", "--auth", "basic", "x.csv"], "--auth must be key or iam, not 'basic'"),
        (["local", "compose", "logs", "redis"], "SERVICE must be mlflow"),
    ],
)
def test_typer_refuses_another_value_before_the_command_runs(args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_an_auth_mode_from_dotenv_is_checked_as_the_option_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / "settings.env"
    env.write_text("INMET_API_URL=http://127.0.0.1:1\nINMET_API_AUTH=basic\n")
    monkeypatch.delenv("INMET_API_AUTH", raising=False)
    monkeypatch.delenv("INMET_API_URL", raising=False)
    monkeypatch.setenv("INMET_ENV_FILE", str(env))
    result = runner.invoke(app, ["status", "abcd1234"])
    assert result.exit_code == 2
    assert "error: --auth must be key or iam, not 'basic'" in result.output


def test_the_compose_services_are_those_of_compose_yml() -> None:
    compose = yaml.safe_load((ROOT / "local" / "compose.yml").read_text(encoding="utf-8"))
    assert {s.value for s in ComposeService} == set(compose["services"])
