"""``GET /guides/{id}/print?lang=&version=``: a published guide as one printable HTML page,
for the bearer of a token with a guides scope, cut to the tiers that caller may read.

``POST /v1/guides/{id}/photos`` (multipart: ``file``, ``featureId``, ``caption``): the REST
twin of ``addGuidePhoto``; the file goes through the blob store's checks, and a refused file
stores nothing (413 too large, 422 otherwise)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile

from alliance.auth.route_access import RouteAccess, declare
from alliance.db import commit
from alliance.errors import DomainError, FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.guides import service
from alliance.guides.exporting import print_page

GUIDES_READ = RouteAccess(
    "a bearer token with a guides scope (guides:read, :write, :review, :publish) or admin"
)
READ_SCOPES = ("guides:read", "guides:write", "guides:review", "guides:publish", "admin")
GUIDES_WRITE = RouteAccess("a bearer token with the guides:write (or admin) scope")
WRITE_SCOPES = ("guides:write", "admin")


def guides_router() -> APIRouter:
    router = APIRouter()

    @router.get(
        "/guides/{guide_id}/print", include_in_schema=False, dependencies=declare(GUIDES_READ)
    )
    async def print_view(
        request: Request, guide_id: str, lang: str | None = None, version: int | None = None
    ) -> HTMLResponse:
        from alliance.app import authenticate

        principal = await authenticate(request)
        if principal is None:
            raise HTTPException(
                status_code=401,
                detail="authentication required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not any(principal.has_scope(s) for s in READ_SCOPES):
            raise HTTPException(status_code=403, detail="requires a guides scope")
        try:
            raw = uuid.UUID(guide_id)
        except ValueError:
            raise HTTPException(status_code=404, detail="no such guide") from None
        async with request.app.state.sessions() as session:
            reader = await service.reader_for(session, principal)
            try:
                page = await print_page(
                    session,
                    reader,
                    raw,
                    language=lang,
                    version=version,
                    settings=request.app.state.settings,
                )
            except NotFound:
                raise HTTPException(status_code=404, detail="no such published guide") from None
        return HTMLResponse(
            page,
            headers={
                # The page is self-contained: nothing may load from elsewhere, no script runs.
                "Content-Security-Policy": "default-src 'none'; img-src data: 'self'; "
                "style-src 'unsafe-inline'",
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.post(
        "/v1/guides/{guide_id}/photos", include_in_schema=False, dependencies=declare(GUIDES_WRITE)
    )
    async def add_photo(request: Request, guide_id: str) -> JSONResponse:
        from alliance.app import authenticate
        from alliance.blobs.errors import too_large
        from alliance.blobs.http import MULTIPART_OVERHEAD, BodyTooLarge, _limited, error_response

        principal = await authenticate(request)
        if principal is None:
            raise HTTPException(status_code=401, detail="authentication required")
        if not any(principal.has_scope(s) for s in WRITE_SCOPES):
            raise HTTPException(status_code=403, detail="requires the guides:write scope")
        try:
            raw = uuid.UUID(guide_id)
        except ValueError:
            raise HTTPException(status_code=404, detail="no such guide") from None
        settings = request.app.state.settings
        max_bytes = settings.blobs.max_bytes
        limit = max_bytes + MULTIPART_OVERHEAD
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return error_response(413, too_large(max_bytes))
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error_response(415, _refusal("file", "the body must be multipart/form-data"))
        try:
            form = await _limited(request, limit).form(max_files=1, max_fields=10)
        except BodyTooLarge:
            return error_response(413, too_large(max_bytes))
        try:
            part, feature = form.get("file"), form.get("featureId")
            if not isinstance(part, UploadFile) or not isinstance(feature, str):
                return error_response(400, _refusal("file", "'file' and 'featureId' are required"))
            caption = form.get("caption")
            data = await part.read(max_bytes + 1)
            async with request.app.state.sessions() as session:
                try:
                    photo = await service.add_photo(
                        session,
                        principal,
                        raw,
                        feature_id=feature,
                        filename=part.filename or "upload",
                        data=data,
                        caption=caption if isinstance(caption, str) else "",
                        settings=settings,
                    )
                except DomainError as exc:
                    await session.rollback()
                    return error_response(_status(exc), exc)
                body = {
                    "id": str(photo.id),
                    "guideId": str(photo.guide_id),
                    "featureId": photo.feature_id,
                    "blobId": str(photo.blob_id),
                    "caption": photo.caption,
                }
                await commit(session)
        finally:
            await form.close()
        return JSONResponse(body, status_code=201)

    return router


def _refusal(field: str, message: str) -> InvalidInput:
    return InvalidInput([FieldProblem((field,), "INVALID", message)])


def _status(exc: DomainError) -> int:
    if isinstance(exc, InvalidInput):
        return 413 if exc.problems[0].code == "TOO_LARGE" else 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    return 409
