"""The upload API: a FastAPI app, and the Lambda handler (Mangum) that serves it.

Locally: ``uvicorn upload_api.app:app``. In AWS: UploadFunction's handler is
``upload_api.app.handler`` behind an API Gateway REST API (binary media types set so that
multipart and CSV bodies arrive base64-encoded and byte-exact).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from inmet_pipeline import __version__
from inmet_pipeline.errors import DependencyUnavailable, UploadRejected
from inmet_pipeline.settings import ConfigError, upload_settings
from inmet_pipeline.uploads import IDENTICAL_UPLOAD_IN_FLIGHT
from upload_api.metrics import metrics, record_failure, record_rejection
from upload_api.routes import router

logger = Logger()
tracer = Tracer()


def _error(
    status: int,
    code: str,
    message: str,
    line: int | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "line": line}
    body.update({k: v for k, v in extra.items() if v})
    return JSONResponse(status_code=status, content={"error": body}, headers=headers)


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Under uvicorn a missing setting stops start-up here, with its name. (Mangum runs with
    # lifespan="off"; in Lambda the first request reports it.)
    upload_settings()
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="INMET upload API",
        version=__version__,
        description="Upload INMET hourly weather-station files; they are validated, stored in S3 "
        "and loaded into Snowflake.",
        lifespan=_lifespan,
    )
    app.include_router(router)

    @app.exception_handler(UploadRejected)
    async def rejected(_request: Request, exc: UploadRejected) -> JSONResponse:
        logger.info(
            "upload rejected", extra={"code": exc.code, "status": exc.status, "line": exc.line}
        )
        if exc.status != 401:
            record_rejection(exc.code)
        return _error(exc.status, exc.code, exc.message, exc.line, details=exc.details)

    @app.exception_handler(DependencyUnavailable)
    async def unavailable(_request: Request, exc: DependencyUnavailable) -> JSONResponse:
        logger.error(
            "dependency unavailable", extra={"dependency": exc.dependency, "detail": exc.detail}
        )
        if exc.dependency != IDENTICAL_UPLOAD_IN_FLIGHT:  # not a failure of S3 or DynamoDB
            record_failure()
        return _error(
            503,
            "service_unavailable",
            f"{exc.dependency} is unavailable; nothing was stored. Retry in {exc.retry_after} s.",
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(ConfigError)
    async def misconfigured(_request: Request, exc: ConfigError) -> JSONResponse:
        logger.error("configuration error", extra={"detail": str(exc)})
        record_failure()
        return _error(500, "configuration_error", str(exc))

    @app.exception_handler(ClientDisconnect)
    async def client_gone(_request: Request, _exc: ClientDisconnect) -> JSONResponse:
        # The client went away before its body arrived: its own doing, not a fault of the
        # API. Logged at INFO, counted in no failure metric; the answer (which nobody reads)
        # is a 400, so the API's 5xx count does not see it either.
        logger.info("client disconnected before the request body was complete")
        return _error(400, "client_disconnected", "The request body was not received whole.")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        record_failure()
        return _error(500, "internal_error", "Unexpected server error; it has been logged.")

    return app


app = create_app()
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Mangum types the context with its own protocol; Powertools' LambdaContext is the same
    # object at run time.
    return _asgi(event, cast(Any, context))
