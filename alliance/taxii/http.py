"""The TAXII 2.1 HTTP interface, mounted at ``/taxii2/``: discovery, one API root, its
collections, objects (get, add), manifest, versions and status.

Every answer is ``application/taxii+json;version=2.1``; errors are TAXII error objects.
Requests whose ``Accept`` admits no TAXII 2.1 media type get a 406, posts of another
content type a 415.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from alliance.auth.route_access import ANONYMOUS, RouteAccess, declare
from alliance.db import unit_of_work
from alliance.errors import DomainError, Forbidden, InvalidInput
from alliance.stix.extensions import Instance
from alliance.stix.ids import instance_namespace
from alliance.taxii import service
from alliance.taxii.service import TaxiiError

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "api"
MAX_CONTENT_LENGTH = 10 * 1024 * 1024
TAXII_READ = RouteAccess(
    "a bearer token with indicators:read or sync:read; the sharing policy decides each object"
)
TAXII_WRITE = RouteAccess(
    "a bearer token with indicators:write, from a contributor (chair or member) of the "
    "collection's working group"
)


def instance_of(request: Request) -> Instance:
    base_url: str = request.app.state.settings.base_url
    return Instance(instance_namespace(base_url), f"Alliance at {base_url}", base_url)


def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for item in header.split(","):
        kind, *params = (p.strip() for p in item.split(";"))
        values = dict(p.split("=", 1) for p in params if "=" in p)
        found.append((kind.lower(), {k.strip().lower(): v.strip() for k, v in values.items()}))
    return found


def acceptable(header: str | None, media_type: str = "application/taxii+json") -> bool:
    """Whether ``Accept`` admits TAXII 2.1 (or STIX 2.1 where the endpoint serves it)."""
    if not header:
        return True
    for kind, params in _media_ranges(header):
        if params.get("q") == "0":
            continue
        if kind in ("*/*", "application/*"):
            return True
        if kind == media_type and params.get("version", "2.1") == "2.1":
            return True
    return False


def taxii_response(
    body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        body, status_code=status_code, media_type=TAXII_MEDIA_TYPE, headers=headers or {}
    )


def error_response(exc: TaxiiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return taxii_response(exc.body(), exc.http_status, headers)


Handler = Callable[[Request], Awaitable[JSONResponse]]


async def _answer(request: Request, work: Handler) -> JSONResponse:
    try:
        if not acceptable(request.headers.get("accept")):
            raise TaxiiError(406, "Not acceptable", f"this server answers {TAXII_MEDIA_TYPE}")
        return await work(request)
    except TaxiiError as exc:
        return error_response(exc)
    except HTTPException as exc:  # a bad or revoked token, from authenticate()
        return error_response(TaxiiError(exc.status_code, "Unauthorized", str(exc.detail)))
    except Forbidden as exc:
        return error_response(TaxiiError(403, "Forbidden", exc.message))
    except InvalidInput as exc:
        return error_response(TaxiiError(400, "Invalid input", exc.message))
    except DomainError as exc:
        return error_response(TaxiiError(422, exc.code, exc.message))


async def _caller(request: Request, session: Any) -> service.Caller:
    from alliance.app import authenticate

    return await service.caller(session, await authenticate(request))


def taxii_router() -> APIRouter:
    router = APIRouter(prefix="/taxii2")

    @router.get("/", include_in_schema=False, dependencies=declare(ANONYMOUS))
    async def discovery(request: Request) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            root = f"{request.app.state.settings.base_url}/taxii2/{API_ROOT}/"
            return taxii_response(
                {
                    "title": "Alliance TAXII 2.1",
                    "description": "Counterfeit indicators as STIX 2.1, per working group",
                    "default": root,
                    "api_roots": [root],
                }
            )

        return await _answer(request, work)

    @router.get(f"/{API_ROOT}/", include_in_schema=False, dependencies=declare(TAXII_READ))
    async def api_root(request: Request) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            async with request.app.state.sessions() as session:
                await _caller(request, session)
            return taxii_response(
                {
                    "title": "Alliance indicators",
                    "description": "One collection per working group, and one alliance-wide",
                    "versions": [TAXII_MEDIA_TYPE],
                    "max_content_length": MAX_CONTENT_LENGTH,
                }
            )

        return await _answer(request, work)

    @router.get(
        f"/{API_ROOT}/collections/", include_in_schema=False, dependencies=declare(TAXII_READ)
    )
    async def collections(request: Request) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            async with request.app.state.sessions() as session:
                who = await _caller(request, session)
                found = await service.collections(session, instance_of(request), who)
            return taxii_response({"collections": [c.resource() for c in found]})

        return await _answer(request, work)

    @router.get(
        f"/{API_ROOT}/collections/{{collection_id}}/",
        include_in_schema=False,
        dependencies=declare(TAXII_READ),
    )
    async def collection(request: Request, collection_id: str) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            async with request.app.state.sessions() as session:
                who = await _caller(request, session)
                found = await service.collection(session, instance_of(request), who, collection_id)
            return taxii_response(found.resource())

        return await _answer(request, work)

    def _filters(request: Request, *, paged: bool = True) -> service.Filters:
        return service.parse_filters(dict(request.query_params), paged=paged)

    @router.get(
        f"/{API_ROOT}/collections/{{collection_id}}/objects/",
        include_in_schema=False,
        dependencies=declare(TAXII_READ),
    )
    async def get_objects(request: Request, collection_id: str) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            filters = _filters(request)
            instance = instance_of(request)
            async with request.app.state.sessions() as session:
                who = await _caller(request, session)
                found = await service.collection(session, instance, who, collection_id)
                result = await service.page(session, instance, who, found, filters)
            return taxii_response(_envelope(result), headers=result.headers())

        return await _answer(request, work)

    @router.post(
        f"/{API_ROOT}/collections/{{collection_id}}/objects/",
        include_in_schema=False,
        dependencies=declare(TAXII_WRITE),
    )
    async def add_objects(request: Request, collection_id: str) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            content_type = request.headers.get("content-type", "")
            kind, *params = (p.strip().lower() for p in content_type.split(";"))
            if kind != "application/taxii+json" or "version=2.1" not in [
                p.replace(" ", "") for p in params
            ]:
                raise TaxiiError(415, "Unsupported media type", f"send {TAXII_MEDIA_TYPE}")
            body = await _body(request)
            instance = instance_of(request)
            async with unit_of_work(request.app.state.sessions) as session:
                who = await _caller(request, session)
                found = await service.collection(session, instance, who, collection_id)
                status = await service.add_objects(session, who, found, body)
                answer = service.status_resource(status)
            return taxii_response(answer, 202)

        return await _answer(request, work)

    @router.get(
        f"/{API_ROOT}/collections/{{collection_id}}/manifest/",
        include_in_schema=False,
        dependencies=declare(TAXII_READ),
    )
    async def manifest(request: Request, collection_id: str) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            filters = _filters(request)
            instance = instance_of(request)
            async with request.app.state.sessions() as session:
                who = await _caller(request, session)
                found = await service.collection(session, instance, who, collection_id)
                result = await service.page(session, instance, who, found, filters)
            body: dict[str, Any] = {"more": result.more}
            if result.next:
                body["next"] = result.next
            if result.entries:
                body["objects"] = [e.manifest() for e in result.entries]
            return taxii_response(body, headers=result.headers())

        return await _answer(request, work)

    @router.get(
        f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/",
        include_in_schema=False,
        dependencies=declare(TAXII_READ),
    )
    async def get_object(request: Request, collection_id: str, object_id: str) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            filters = _filters(request)
            instance = instance_of(request)
            async with request.app.state.sessions() as session:
                who = await _caller(request, session)
                found = await service.collection(session, instance, who, collection_id)
                result = await service.one_object(session, instance, who, found, object_id, filters)
            return taxii_response(_envelope(result), headers=result.headers())

        return await _answer(request, work)

    @router.get(
        f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/",
        include_in_schema=False,
        dependencies=declare(TAXII_READ),
    )
    async def versions(request: Request, collection_id: str, object_id: str) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            filters = _filters(request)
            instance = instance_of(request)
            async with request.app.state.sessions() as session:
                who = await _caller(request, session)
                found = await service.collection(session, instance, who, collection_id)
                result = await service.one_object(session, instance, who, found, object_id, filters)
            body: dict[str, Any] = {"more": False}
            if result.entries:
                body["versions"] = [e.manifest()["version"] for e in result.entries]
            return taxii_response(body, headers=result.headers())

        return await _answer(request, work)

    async def status(request: Request, status_id: str) -> JSONResponse:
        async def work(request: Request) -> JSONResponse:
            async with request.app.state.sessions() as session:
                who = await _caller(request, session)
                found = await service.get_status(session, who, status_id)
                return taxii_response(service.status_resource(found))

        return await _answer(request, work)

    # taxii2-client asks for the status without the trailing slash the spec writes.
    for path in (f"/{API_ROOT}/status/{{status_id}}/", f"/{API_ROOT}/status/{{status_id}}"):
        router.add_api_route(
            path,
            status,
            methods=["GET"],
            include_in_schema=False,
            dependencies=declare(TAXII_READ),
        )
    return router


def _envelope(result: service.Page) -> dict[str, Any]:
    body: dict[str, Any] = {"more": result.more}
    if result.next:
        body["next"] = result.next
    if result.entries:
        body["objects"] = [e.object for e in result.entries]
    return body


async def _body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_CONTENT_LENGTH:
        raise TaxiiError(413, "Request too large", f"at most {MAX_CONTENT_LENGTH} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_CONTENT_LENGTH:
            raise TaxiiError(413, "Request too large", f"at most {MAX_CONTENT_LENGTH} bytes")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TaxiiError(400, "Invalid JSON", str(exc)) from exc
