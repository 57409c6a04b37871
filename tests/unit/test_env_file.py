"""One reader of `.env` for the commands (inmet_local.workspace.discovery): the environment wins, an
empty value is unset, names match whatever their case, and the file is read when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from inmet_local.workspace.discovery import configured, dotenv_settings, env_file, environment

pytestmark = [pytest.mark.unit]


@pytest.fixture
def dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "settings.env"
    monkeypatch.setenv("INMET_ENV_FILE", str(path))
    for name in ("S3_BUCKET", "SNOWFLAKE_ACCOUNT", "INMET_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_the_file_is_the_one_inmet_env_file_names_at_the_time(
    dotenv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert env_file() == dotenv
    assert configured("S3_BUCKET") is None  # no file yet
    dotenv.write_text("S3_BUCKET=from-file\n")
    assert configured("S3_BUCKET") == "from-file"  # read when asked, not cached
    monkeypatch.delenv("INMET_ENV_FILE")
    assert env_file() == Path(".env")


def test_the_environment_wins_and_an_empty_value_is_unset(
    dotenv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv.write_text("S3_BUCKET=from-file\nINMET_API_KEY=\nSNOWFLAKE_ACCOUNT=acct\n")
    monkeypatch.setenv("S3_BUCKET", "from-env")
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "")
    assert configured("S3_BUCKET") == "from-env"
    assert configured("INMET_API_KEY") is None
    assert configured("SNOWFLAKE_ACCOUNT") == "acct"  # empty in the environment: unset there
    values = environment()
    assert values["S3_BUCKET"] == "from-env"
    assert values["SNOWFLAKE_ACCOUNT"] == "acct"
    assert "INMET_API_KEY" not in values


def test_names_in_the_file_match_whatever_their_case(dotenv: Path) -> None:
    """As the settings (pydantic-settings, case_sensitive=False) read them."""
    dotenv.write_text("s3_bucket=lower\n")
    assert dotenv_settings() == {"S3_BUCKET": "lower"}
    assert configured("S3_BUCKET") == "lower"
    assert environment()["S3_BUCKET"] == "lower"
