from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput
from alliance.federation import service
from schema.federation.types import FederationPeer
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, page_size

OPERATORS = scopes(service.OPERATOR_SCOPE)


def _after(cursor: str | None) -> uuid.UUID | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise InvalidInput(
            [FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")]
        ) from exc


@strawberry.type
class FederationQuery:
    @query_field(
        OPERATORS,
        description="The peer instances this one pulls, with their pull status (operators only).",
    )
    async def peers(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[FederationPeer]:
        session, principal = info.context.session, info.context.principal
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        page = await service.page_peers(session, principal, after=_after(after), limit=limit)

        async def count() -> int:
            return await service.count_peers(session, principal)

        return build_connection(
            [FederationPeer.from_model(p) for p in page.items],
            [str(p.id) for p in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )
