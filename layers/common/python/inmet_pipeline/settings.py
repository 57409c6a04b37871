"""Configuration, read once from the environment and `.env` (docs/contracts.md §5).

Each component reads only the settings it needs, so the upload function does not require the
Snowflake account and a notebook does not require the bucket. A missing required setting stops
start-up with a ``ConfigError`` that names the variable and says what it is for.

The seed's variable names stay valid: ``S3_BUCKET``, ``S3_PATH``, ``AWS_*``, ``SNOWFLAKE_*``,
``MINIO_*``, ``MYSQL_*``, ``MLFLOW_*`` (see .env.example for every variable).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from inmet_pipeline.limits import MAX_UPLOAD_BYTES

_ENV_FILE = os.environ.get("INMET_ENV_FILE", ".env")


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the environment variable."""


class _Base(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,  # `INMET_API_KEY=` in .env means "not set"
    )
    # What each required variable is for, for the error message.
    purposes: ClassVar[dict[str, str]] = {}


class AwsSettings(_Base):
    """Where AWS is: the real one, or moto server locally (AWS_ENDPOINT_URL)."""

    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"region_name": self.aws_region}
        if self.aws_endpoint_url:
            kwargs["endpoint_url"] = self.aws_endpoint_url
        return kwargs


class UploadSettings(AwsSettings):
    """The upload API (UploadFunction, or uvicorn locally)."""

    # Field names are the environment variables' names (case-insensitive).
    s3_bucket: str
    # The seed's S3_PATH: the prefix the pipe reads (docs/contracts.md §2: raw/inmet).
    s3_path: str = "raw/inmet"
    inmet_status_table: str = "inmet-uploads"
    inmet_api_key: SecretStr | None = None
    inmet_max_upload_bytes: int = Field(default=MAX_UPLOAD_BYTES, gt=0)
    purposes: ClassVar[dict[str, str]] = {
        "S3_BUCKET": "the bucket that receives uploads (landing/, raw/, processed/)",
    }


def load_settings[S: _Base](cls: type[S], **overrides: Any) -> S:
    """Build settings or raise ``ConfigError`` naming each missing or invalid variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            variable = name.upper()
            purpose = cls.purposes.get(variable)
            if error["type"] == "missing":
                problems.append(
                    f"missing setting {variable}" + (f" ({purpose})" if purpose else "")
                )
            else:
                problems.append(f"invalid setting {variable}: {error['msg']}")
        raise ConfigError(
            "; ".join(problems) + ". Set it in the environment or in .env (see .env.example)."
        ) from None


@lru_cache(maxsize=1)
def upload_settings() -> UploadSettings:
    """The upload API's settings, read once per process (cleared by tests)."""
    return load_settings(UploadSettings)
