"""Dependency providers: settings, the upload service with its adapters, the API key check.

Tests override these with ``app.dependency_overrides``; nothing here runs at import time.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header

from inmet_pipeline.adapters.aws import DynamoStatusStore, S3ObjectStore
from inmet_pipeline.budget import request_budgets
from inmet_pipeline.errors import UploadRejected
from inmet_pipeline.settings import UploadSettings, upload_settings
from inmet_pipeline.uploads import UploadService


def get_settings() -> UploadSettings:
    return upload_settings()


# One service (and so one pair of boto3 clients) per settings object, i.e. per warm Lambda
# container or uvicorn process. Keyed by identity: settings objects are not hashable.
_services: dict[int, tuple[UploadSettings, UploadService]] = {}


def _service(settings: UploadSettings) -> UploadService:
    cached = _services.get(id(settings))
    if cached is None or cached[0] is not settings:
        # The request path's timeouts fit under API Gateway's 29 s (inmet_pipeline.budget).
        budgets = request_budgets(settings.aws_endpoint_url)
        service = UploadService(
            S3ObjectStore(settings.s3_bucket, settings, budgets["s3"]),
            DynamoStatusStore(settings.inmet_status_table, settings, budgets["dynamodb"]),
            raw_prefix=settings.s3_path,
            max_upload_bytes=settings.inmet_max_upload_bytes,
        )
        cached = _services[id(settings)] = (settings, service)
    return cached[1]


SettingsDep = Annotated[UploadSettings, Depends(get_settings)]


def get_service(settings: SettingsDep) -> UploadService:
    return _service(settings)


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
