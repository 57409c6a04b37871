"""HTTP routes: read the request, call the use case, translate the answer. Nothing else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from inmet_pipeline.errors import UploadRejected
from inmet_pipeline.upload_objects import uploader_of
from inmet_pipeline.uploads import AmbiguousUploadId, UploadService, not_found_message
from upload_api.deps import ServiceDep, require_api_key
from upload_api.metrics import ACCEPTED, DUPLICATE, record_outcome
from upload_api.schemas import ErrorBody, HealthBody, StatusDocument, UploadAnswer

router = APIRouter()

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong x-api-key."},
    413: {"model": ErrorBody, "description": "Over the 4 MB direct-upload limit."},
    415: {
        "model": ErrorBody,
        "description": "No Content-Type, one not accepted, or not a text file (zip, image, …).",
    },
    422: {
        "model": ErrorBody,
        "description": "Not a valid INMET station file: code, message, line.",
    },
    503: {
        "model": ErrorBody,
        "description": "S3 or DynamoDB unavailable; retry after Retry-After.",
    },
}
_BODY_TYPES = ("text/csv", "application/octet-stream", "text/plain")
# The types the REST API declares as BinaryMediaTypes (template.yaml; a test keeps them equal).
MEDIA_TYPES = ("multipart/form-data", *_BODY_TYPES)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            **{t: {"schema": {"type": "string", "format": "binary"}} for t in _BODY_TYPES},
        },
    },
    "parameters": [
        {
            "name": "X-Filename",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "The file's name, for a raw body (INMET_<REG>_<UF>_<WMO>_….CSV).",
        }
    ],
}


def _header_text(value: str | None) -> str | None:
    """HTTP headers arrive as latin-1; a client that sent a UTF-8 file name gets it back."""
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


async def _read_body(request: Request, service: UploadService) -> bytes:
    """The body, refused as soon as it passes the limit (never buffered past it)."""
    limit = service.max_upload_bytes
    # Multipart framing adds a few hundred bytes around the file.
    allowance = limit + 64 * 1024
    multipart = request.headers.get("content-type", "").lower().startswith("multipart/")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > allowance:
        raise service.too_large_error(int(declared), multipart=multipart)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > allowance:
            raise service.too_large_error(multipart=multipart)
        chunks.append(chunk)
    return b"".join(chunks)


async def _file_from_multipart(request: Request, body: bytes) -> tuple[bytes, str | None]:
    async def stream() -> Any:
        yield body

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=5).parse()
    except MultiPartException as exc:
        raise UploadRejected(
            422, "bad_multipart", f"The multipart body cannot be read: {exc}."
        ) from None
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise UploadRejected(
                422,
                "missing_file_field",
                "The multipart body has no file field named 'file' (curl -F file=@X.CSV).",
            )
        return await part.read(), part.filename
    finally:
        await form.close()


@router.post(
    "/uploads",
    status_code=201,
    response_model=UploadAnswer,
    summary="Upload one INMET station file",
    description=(
        "Send one INMET yearly-archive station file (INMET_<REG>_<UF>_<WMO>_….CSV), as a "
        "multipart field `file` or as the raw body. 201: accepted; 200: the identical bytes "
        "were uploaded before and nothing new was written."
    ),
    responses={
        200: {"model": UploadAnswer, "description": "Already uploaded."},
        **_ERROR_RESPONSES,
    },
    openapi_extra=_UPLOAD_BODY,
    dependencies=[Depends(require_api_key)],
)
async def create_upload(request: Request, service: ServiceDep, response: Response) -> Any:
    # No Content-Type is refused, not taken for binary: API Gateway base64-encodes (and so
    # passes byte-exact) only a body whose Content-Type matches the API's BinaryMediaTypes;
    # any other body reaches Lambda as text, and Latin-1 bytes may be altered on the way
    # ("Binary media types for REST APIs in API Gateway",
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html).
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        given = (
            f"Content-Type {media_type!r} is" if media_type else "A body without Content-Type is"
        )
        raise UploadRejected(
            415,
            "unsupported_media_type",
            f"{given} not accepted; send multipart/form-data (field 'file') or the raw file as "
            f"{', '.join(_BODY_TYPES)}.",
        )
    body = await _read_body(request, service)
    if media_type == "multipart/form-data":
        data, filename = await _file_from_multipart(request, body)
    else:
        data, filename = body, _header_text(request.headers.get("x-filename"))
    # The use case is blocking I/O (boto3): run it off the event loop.
    # The caller as API Gateway authenticated it (Mangum puts the Lambda event in the scope;
    # under uvicorn there is none).
    event = request.scope.get("aws.event") or {}
    uploaded_by = uploader_of(event.get("requestContext"))
    result = await run_in_threadpool(service.accept, data, filename, uploaded_by)
    record_outcome(ACCEPTED if result.created else DUPLICATE)
    response.status_code = 201 if result.created else 200
    return result.document


@router.get(
    "/uploads/{upload_id}",
    response_model=StatusDocument,
    summary="The status of an upload",
    description=(
        "upload_id is the full id (64 hex characters) or a unique prefix of at least 4, as git "
        "accepts short commit ids."
    ),
    responses={
        404: {"model": ErrorBody, "description": "Unknown upload id."},
        409: {
            "model": ErrorBody,
            "description": "A short id that several uploads start with; details lists them.",
        },
        **{k: v for k, v in _ERROR_RESPONSES.items() if k in (401, 503)},
    },
    dependencies=[Depends(require_api_key)],
)
def get_upload(upload_id: str, service: ServiceDep) -> Any:
    try:
        document = service.get(upload_id)
    except AmbiguousUploadId as exc:
        return JSONResponse(
            status_code=409,
            content={
                "error": {
                    "code": "ambiguous_id",
                    "message": str(exc),
                    "line": None,
                    "details": exc.candidates,
                }
            },
        )
    if document is None:
        return JSONResponse(
            status_code=404,
            content={
                "error": {
                    "code": "not_found",
                    "message": not_found_message(upload_id),
                    "line": None,
                }
            },
        )
    return document


@router.get(
    "/health",
    response_model=HealthBody,
    summary="Ready when the bucket and the status table answer",
    responses={503: {"model": ErrorBody, "description": "A dependency is unavailable."}},
)
def health(service: ServiceDep) -> dict[str, str]:
    service.objects.ping()
    service.statuses.ping()
    return {"status": "ok"}
