"""The export's Snowflake connection settings: key-pair auth from Secrets Manager (Powertools
Parameters, cached) or a file, timeouts, the local fakesnow mode; nothing connects here."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from inmet_pipeline.adapters.snowflake import SnowflakeSettings, connect_kwargs
from inmet_pipeline.settings import ConfigError

pytestmark = [pytest.mark.functional]


def _pem(passphrase: bytes | None = None) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@pytest.fixture(autouse=True)
def _aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_private_key_from_secrets_manager_is_read_once() -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        arn = secrets.create_secret(Name="inmet/key", SecretString=_pem().decode())["ARN"]
        settings = SnowflakeSettings(
            snowflake_account="org-acct",
            snowflake_user="SVC",
            snowflake_private_key_secret_arn=arn,
            snowflake_warehouse="WH",
            snowflake_role="INMET_EXPORT",
        )
        kwargs = connect_kwargs(settings)
        secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        again = connect_kwargs(settings)  # cached by Powertools: no second call
    assert kwargs["private_key"] == again["private_key"]
    assert serialization.load_der_private_key(kwargs["private_key"], password=None)
    assert (kwargs["account"], kwargs["user"], kwargs["warehouse"], kwargs["role"]) == (
        "org-acct",
        "SVC",
        "WH",
        "INMET_EXPORT",
    )
    assert "password" not in kwargs
    assert kwargs["login_timeout"] == 20
    assert kwargs["session_parameters"]["STATEMENT_TIMEOUT_IN_SECONDS"] == 600
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_encrypted_private_key_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "key.p8"
    path.write_bytes(_pem(b"s3cret"))
    settings = SnowflakeSettings(
        snowflake_account="a",
        snowflake_user="u",
        snowflake_private_key_path=str(path),
        snowflake_private_key_passphrase="s3cret",
    )
    assert serialization.load_der_private_key(connect_kwargs(settings)["private_key"], None)


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER"):
        connect_kwargs(SnowflakeSettings(_env_file=None))
    with pytest.raises(ConfigError, match="SNOWFLAKE_PRIVATE_KEY_SECRET_ARN"):
        connect_kwargs(SnowflakeSettings(snowflake_account="a", snowflake_user="u", _env_file=None))


def test_local_mode_points_at_fakesnow() -> None:
    from inmet_local.emulator.local_adapter import LocalSnowflakeSettings

    kwargs = connect_kwargs(LocalSnowflakeSettings(inmet_snowflake_local_url="http://127.0.0.1:9"))
    assert (kwargs["host"], kwargs["port"], kwargs["protocol"]) == ("127.0.0.1", 9, "http")
