"""Mounting the schema on FastAPI: one context (session, caller, loaders) per request."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, Request
from strawberry.fastapi import GraphQLRouter

from alliance.auth.principal import Principal
from alliance.config import Settings
from alliance.observability.context import current_request_id
from schema.context import Context
from schema.schema import build_schema


def graphql_router(settings: Settings) -> GraphQLRouter:
    from alliance.app import authenticate

    async def get_context(
        request: Request, principal: Principal | None = Depends(authenticate)
    ) -> AsyncIterator[Context]:
        async with request.app.state.sessions() as session:
            # Sibling fields resolve concurrently on this one session. Holding its connection
            # before they start lets the driver queue their statements; otherwise two of them
            # race to check a connection out, which SQLAlchemy refuses.
            await session.connection()
            yield Context(
                session=session,
                sessions=request.app.state.sessions,
                principal=principal,
                settings=settings,
                request_id=current_request_id() or "",
                search=request.app.state.search,
            )

    return GraphQLRouter(
        build_schema(settings.graphql),
        context_getter=get_context,
        graphql_ide="graphiql",
        # importIndicators takes a file (the GraphQL multipart request spec); strawberry
        # refuses multipart requests unless told to accept them.
        multipart_uploads_enabled=True,
    )
