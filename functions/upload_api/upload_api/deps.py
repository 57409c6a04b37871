"""Dependency providers: settings, the upload service with its adapters, the API key check.

The same shape as export_clean.deps: ``build_upload_service`` makes the service from settings
(its boto3 clients are made on first use, inside the adapters), ``upload_service`` keeps one
per warm Lambda container or uvicorn process, built on the first request. Nothing here runs at
import time. Tests replace ``get_service`` or ``get_settings`` with FastAPI's
``app.dependency_overrides`` (fastapi.tiangolo.com/advanced/testing-dependencies/).
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header

from inmet_pipeline.adapters.aws import DynamoStatusStore, S3ObjectStore
from inmet_pipeline.budget import request_budgets
from inmet_pipeline.errors import UploadRejected
from inmet_pipeline.settings import UploadSettings, upload_settings
from inmet_pipeline.uploads import UploadService


def build_upload_service(settings: UploadSettings) -> UploadService:
    """The upload service for ``settings``; the request path's timeouts fit under API
    Gateway's 29 s (inmet_pipeline.budget)."""
    budgets = request_budgets(settings.aws_endpoint_url)
    return UploadService(
        S3ObjectStore(settings.s3_bucket, settings, budgets["s3"]),
        DynamoStatusStore(settings.inmet_status_table, settings, budgets["dynamodb"]),
        raw_prefix=settings.s3_path,
        max_upload_bytes=settings.inmet_max_upload_bytes,
    )


@lru_cache(maxsize=1)
def upload_service() -> UploadService:
    """One service (and so one pair of boto3 clients) per process, on first use."""
    return build_upload_service(upload_settings())


def get_settings() -> UploadSettings:
    return upload_settings()


def get_service() -> UploadService:
    return upload_service()


SettingsDep = Annotated[UploadSettings, Depends(get_settings)]
ServiceDep = Annotated[UploadService, Depends(get_service)]


class Unauthorized(UploadRejected):
    def __init__(self) -> None:
        super().__init__(401, "unauthorized", "A valid x-api-key header is required.")


def require_api_key(
    settings: SettingsDep,
    x_api_key: Annotated[str | None, Header(description="Required when the API has a key.")] = (
        None
    ),
) -> None:
    expected = settings.inmet_api_key
    if expected is None:
        return
    if x_api_key is None or not hmac.compare_digest(
        x_api_key.encode(), expected.get_secret_value().encode()
    ):
        raise Unauthorized
