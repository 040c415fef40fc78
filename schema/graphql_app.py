"""Mounting the schema on FastAPI: one context (session, caller, loaders) per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UNSET, UnsetType

from alliance.auth.principal import Principal
from alliance.config import Settings
from alliance.observability.context import current_request_id
from schema.context import Context
from schema.schema import build_schema


def graphql_router(settings: Settings) -> GraphQLRouter:
    from alliance.app import authenticate

    async def get_context(request: HTTPConnection) -> AsyncIterator[Context]:
        websocket = request.scope["type"] == "websocket"
        refused = None
        try:
            principal: Principal | None = await authenticate(request)
        except HTTPException as exc:
            if not websocket:
                raise
            principal, refused = None, exc  # refused when the connection is initialised
        async with request.app.state.sessions() as session:
            # Sibling fields resolve concurrently on this one session. Holding its connection
            # before they start lets the driver queue their statements; otherwise two of them
            # race to check a connection out, which SQLAlchemy refuses. A websocket lives long:
            # it holds nothing (subscriptions open short sessions of their own).
            if not websocket:
                await session.connection()
            context = Context(
                session=session,
                sessions=request.app.state.sessions,
                principal=principal,
                settings=settings,
                request_id=current_request_id() or "",
                search=request.app.state.search,
            )
            context.refused = refused
            yield context

    return AllianceGraphQLRouter(
        build_schema(settings.graphql),
        context_getter=get_context,
        graphql_ide="graphiql",
        # importIndicators takes a file (the GraphQL multipart request spec); strawberry
        # refuses multipart requests unless told to accept them.
        multipart_uploads_enabled=True,
    )


@dataclass(frozen=True, slots=True)
class _TokenCarrier:
    """What ``authenticate`` reads of a request, for a token sent in connection_init."""

    app: Any
    headers: Mapping[str, str]


class AllianceGraphQLRouter(GraphQLRouter):  # type: ignore[type-arg]
    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: a browser cannot set headers on the upgrade request, so the
        access token may come as ``{"Authorization": "Bearer …"}`` in connection_init's
        payload instead. A bad token either way closes the socket (4403)."""
        from alliance.app import authenticate

        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = next((v for k, v in params.items() if k.lower() == "authorization"), None)
        if header is None:
            if context.refused is not None:
                raise ConnectionRejectionError({"message": context.refused.detail})
            return UNSET
        try:
            context.principal = await authenticate(
                _TokenCarrier(context.request.app, {"authorization": str(header)})
            )
        except HTTPException as exc:
            raise ConnectionRejectionError({"message": exc.detail}) from exc
        return UNSET
