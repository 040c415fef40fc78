from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput, NotFound
from alliance.webhooks import service
from schema.errors import PublicError
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size
from schema.webhooks.types import WebhookDelivery, WebhookSubscription

MANAGE = scopes(*service.MANAGE_SCOPES)


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
class WebhooksQuery:
    @query_field(MANAGE, description="Your organisation's webhook subscriptions, oldest first.")
    async def webhook_subscriptions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookSubscription]:
        session, principal = info.context.session, info.context.principal
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        page = await service.page_subscriptions(
            session, principal, after=_after(after), limit=limit
        )

        async def count() -> int:
            return await service.count_subscriptions(session, principal)

        return build_connection(
            [WebhookSubscription.from_model(s) for s in page.items],
            [str(s.id) for s in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )

    @query_field(
        MANAGE,
        description="A subscription's delivery log, newest first, each delivery with its attempts.",
    )
    async def webhook_deliveries(
        self,
        info: Info,
        subscription_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        session, principal = info.context.session, info.context.principal
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        raw = from_global_id(subscription_id, "subscriptionId", "WebhookSubscription")[1]
        try:
            log = await service.delivery_log(
                session, principal, raw, before=_after(after), limit=limit
            )
        except NotFound as exc:
            raise PublicError(exc.message, exc.code) from exc

        async def count() -> int:
            return await service.count_deliveries(session, principal, raw)

        return build_connection(
            [WebhookDelivery.from_model(d, log.attempts[d.id]) for d in log.page.items],
            [str(d.id) for d in log.page.items],
            has_next_page=log.page.has_next_page,
            has_previous_page=log.page.has_previous_page,
            count=count,
        )
