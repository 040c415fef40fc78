"""``POST /v1/blobs`` (multipart upload) and ``GET /v1/blobs/{id}`` (and its thumbnail).

Reading stops at the size limit: a body longer than the limit (plus room for the multipart
framing) is refused with 413 before the rest of it is read. A blob the caller may not read
is a 404, exactly as one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.types import Message

from alliance.auth.principal import Principal
from alliance.auth.route_access import RouteAccess, declare
from alliance.blobs import service
from alliance.blobs.errors import too_large
from alliance.blobs.models import Blob, ThumbnailStatus
from alliance.db import commit
from alliance.errors import DomainError, InvalidInput, NotFound
from alliance.sharing.policy import Viewer, ViewerKind
from alliance.sharing.service import load_viewer

UPLOAD_SCOPE = "guides:write"
READ_SCOPES = ("guides:read", "guides:write", "guides:review", "guides:publish", "admin")
BLOBS_UPLOAD = RouteAccess(
    f"a bearer token with the {UPLOAD_SCOPE} scope, of a member organisation"
)
BLOBS_READ = RouteAccess(
    "a bearer token with a guides scope (or admin); the blob is served only to a viewer who may "
    "see an object referring to it, or to its owner while it is attached to nothing"
)
# Room for the multipart boundaries and part headers around the file.
MULTIPART_OVERHEAD = 64 * 1024
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


class BodyTooLarge(Exception):
    pass


def blob_json(blob: Blob) -> dict[str, Any]:
    return {
        "id": str(blob.id),
        "contentType": blob.content_type,
        "size": blob.size,
        "filename": blob.filename,
        "width": blob.width,
        "height": blob.height,
        "phash": blob.phash,
        "pdq": blob.pdq,
        "pdqQuality": blob.pdq_quality,
        "thumbnailStatus": blob.thumbnail_status.value,
    }


def error_response(status: int, exc: DomainError) -> JSONResponse:
    fields = (
        [{"path": list(p.path), "code": p.code, "message": p.message} for p in exc.problems]
        if isinstance(exc, InvalidInput)
        else []
    )
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message, "fields": fields}}, status_code=status
    )


def _limited(request: Request, limit: int) -> Request:
    """The same request, whose body raises :class:`BodyTooLarge` past ``limit`` bytes."""
    seen = 0
    receive = request.receive

    async def limited_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return Request(request.scope, limited_receive)


async def _member(request: Request, principal: Principal | None, scopes: tuple[str, ...]) -> Viewer:
    if principal is None:
        raise HTTPException(status_code=401, detail="authentication required")
    if not any(principal.has_scope(s) for s in scopes):
        raise HTTPException(
            status_code=403, detail=f"requires one of the scopes: {', '.join(scopes)}"
        )
    async with request.app.state.sessions() as session:
        return await load_viewer(session, principal)


def _disposition(blob: Blob, *, thumbnail: bool) -> str:
    name = blob.filename if not thumbnail else blob.filename.rsplit(".", 1)[0] + ".thumb.jpg"
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    kind = "attachment" if blob.content_type == "application/pdf" else "inline"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def blobs_router() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/blobs", include_in_schema=False, dependencies=declare(BLOBS_UPLOAD))
    async def upload(request: Request) -> JSONResponse:
        from alliance.app import authenticate

        settings = request.app.state.settings
        max_bytes = settings.blobs.max_bytes
        viewer = await _member(request, await authenticate(request), (UPLOAD_SCOPE,))
        if viewer.kind != ViewerKind.MEMBER or viewer.organisation_id is None:
            raise HTTPException(status_code=403, detail="only a member organisation may upload")
        declared = request.headers.get("content-length")
        limit = max_bytes + MULTIPART_OVERHEAD
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return error_response(413, too_large(max_bytes))
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error_response(
                415, service_refusal("the body must be multipart/form-data with a 'file' part")
            )
        try:
            form = await _limited(request, limit).form(max_files=1, max_fields=10)
        except BodyTooLarge:
            return error_response(413, too_large(max_bytes))
        try:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                return error_response(400, service_refusal("a 'file' part is required"))
            data = await part.read(max_bytes + 1)
            async with request.app.state.sessions() as session:
                try:
                    blob = await service.store_upload(
                        session,
                        settings=settings,
                        owner_org_id=viewer.organisation_id,
                        filename=part.filename,
                        data=data,
                    )
                except InvalidInput as exc:
                    await session.rollback()
                    status = 413 if exc.problems[0].code == "TOO_LARGE" else 422
                    return error_response(status, exc)
                await commit(session)
        finally:
            await form.close()
        return JSONResponse(blob_json(blob), status_code=201)

    async def serve(request: Request, blob_id: str, *, thumbnail: bool) -> Response:
        from alliance.app import authenticate

        principal = await authenticate(request)
        viewer = await _member(request, principal, READ_SCOPES)
        settings = request.app.state.settings
        try:
            raw = uuid.UUID(blob_id)
            async with request.app.state.sessions() as session:
                blob = await service.readable_blob(
                    session, viewer, raw, scopes=principal.scopes if principal else frozenset()
                )
        except (ValueError, NotFound):
            raise HTTPException(status_code=404, detail="no such blob") from None
        if thumbnail and blob.thumbnail_status != ThumbnailStatus.READY:
            headers = (
                {"Retry-After": "5"} if blob.thumbnail_status == ThumbnailStatus.PENDING else {}
            )
            raise HTTPException(
                status_code=404,
                detail=f"no thumbnail (status {blob.thumbnail_status.value})",
                headers=headers,
            )
        data = await service.content(settings, blob, thumbnail=thumbnail)
        if data is None:
            raise HTTPException(status_code=404, detail="the blob's content is missing")
        return Response(
            data,
            media_type="image/jpeg" if thumbnail else blob.content_type,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Content-Disposition": _disposition(blob, thumbnail=thumbnail),
                "Cache-Control": "private, max-age=300",
                "ETag": f'"{blob.sha256}{".thumb" if thumbnail else ""}"',
            },
        )

    @router.get("/v1/blobs/{blob_id}", include_in_schema=False, dependencies=declare(BLOBS_READ))
    async def get_blob(request: Request, blob_id: str) -> Response:
        return await serve(request, blob_id, thumbnail=False)

    @router.get(
        "/v1/blobs/{blob_id}/thumbnail", include_in_schema=False, dependencies=declare(BLOBS_READ)
    )
    async def get_thumbnail(request: Request, blob_id: str) -> Response:
        return await serve(request, blob_id, thumbnail=True)

    return router


def service_refusal(message: str) -> InvalidInput:
    from alliance.errors import FieldProblem

    return InvalidInput([FieldProblem(("file",), "MISSING_FILE", message)])
