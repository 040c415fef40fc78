"""The webhook subscription mutations: each one service call, audited by the service."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput
from alliance.webhooks import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.webhooks.types import WebhookDelivery, WebhookSubscription

MANAGE = scopes(*service.MANAGE_SCOPES)


def _group_ids(ids: list[strawberry.ID] | None) -> list | None:  # type: ignore[type-arg]
    if ids is None:
        return None
    decoded, problems = [], []
    for index, global_id in enumerate(ids):
        try:
            decoded.append(from_global_id(global_id, expected="WorkingGroup")[1])
        except InvalidInput as exc:
            problems += [
                FieldProblem(("workingGroupIds", str(index)), p.code, p.message)
                for p in exc.problems
            ]
    if problems:
        raise InvalidInput(problems)
    return decoded


def _subscription_id(global_id: strawberry.ID):  # type: ignore[no-untyped-def]
    return from_global_id(global_id, "subscriptionId", "WebhookSubscription")[1]


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(
        description="The receiver: https:// (plain http only where the operator allows private hosts)."
    )
    description: str = ""
    kinds: list[str] = strawberry.field(
        default_factory=list, description="Kinds of object to deliver, e.g. `indicator.assertion`."
    )
    working_group_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    indicator_types: list[str] = strawberry.field(
        default_factory=list, description="e.g. `domain`, `seller_account`."
    )
    max_attempts: int | None = strawberry.field(
        default=None, description="1-100; default from the instance's settings."
    )
    active: bool = True


@strawberry.input
class UpdateWebhookSubscriptionInput:
    subscription_id: strawberry.ID
    url: str | None = None
    description: str | None = None
    kinds: list[str] | None = None
    working_group_ids: list[strawberry.ID] | None = None
    indicator_types: list[str] | None = None
    max_attempts: int | None = None
    active: bool | None = strawberry.field(
        default=None,
        description=(
            "true resumes a paused subscription from its cursor (a dead-lettered batch stays "
            "redeliverable); false pauses it."
        ),
    )


@strawberry.input
class WebhookSubscriptionInput:
    subscription_id: strawberry.ID


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID


@strawberry.type
class WebhookSubscriptionPayload:
    subscription: WebhookSubscription


@strawberry.type
class WebhookSecretPayload:
    subscription: WebhookSubscription
    secret: str = strawberry.field(
        description="The signing secret, shown this once: deliveries are signed with it."
    )


@strawberry.type
class DeleteWebhookSubscriptionPayload:
    deleted_id: strawberry.ID


@strawberry.type
class RedeliverWebhookPayload:
    delivery: WebhookDelivery


_ERRORS = ValidationError | NotFound | Forbidden | Conflict
WebhookSecretResult = Annotated[
    WebhookSecretPayload | _ERRORS, strawberry.union("WebhookSecretResult")
]
WebhookSubscriptionResult = Annotated[
    WebhookSubscriptionPayload | _ERRORS, strawberry.union("WebhookSubscriptionResult")
]
DeleteWebhookSubscriptionResult = Annotated[
    DeleteWebhookSubscriptionPayload | _ERRORS, strawberry.union("DeleteWebhookSubscriptionResult")
]
RedeliverWebhookResult = Annotated[
    RedeliverWebhookPayload | _ERRORS, strawberry.union("RedeliverWebhookResult")
]


def _allow_private(info: Info) -> bool:
    return bool(info.context.settings.outbound.allow_private_hosts)


@strawberry.type
class WebhookMutations:
    @mutation_field(
        MANAGE,
        description=(
            "Subscribe a URL to your organisation's change feed, from now on; the secret that "
            "signs deliveries is returned this once."
        ),
    )
    async def create_webhook_subscription(
        self, info: Info, input: CreateWebhookSubscriptionInput
    ) -> WebhookSecretResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            created = await service.create_subscription(
                session,
                principal,
                service.SubscriptionData(
                    url=input.url,
                    description=input.description,
                    kinds=input.kinds,
                    working_group_ids=_group_ids(input.working_group_ids) or [],
                    indicator_types=input.indicator_types,
                    max_attempts=input.max_attempts,
                    active=input.active,
                ),
                settings=info.context.settings.webhooks,
                allow_private_hosts=_allow_private(info),
            )
            return WebhookSecretPayload(
                subscription=WebhookSubscription.from_model(created.subscription),
                secret=created.secret,
            )

        return await run_mutation(info, work)

    @mutation_field(MANAGE, description="Change a subscription's URL, filters or state.")
    async def update_webhook_subscription(
        self, info: Info, input: UpdateWebhookSubscriptionInput
    ) -> WebhookSubscriptionResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            sub = await service.update_subscription(
                session,
                principal,
                _subscription_id(input.subscription_id),
                service.SubscriptionChanges(
                    url=input.url,
                    description=input.description,
                    kinds=input.kinds,
                    working_group_ids=_group_ids(input.working_group_ids),
                    indicator_types=input.indicator_types,
                    max_attempts=input.max_attempts,
                    active=input.active,
                ),
                allow_private_hosts=_allow_private(info),
            )
            return WebhookSubscriptionPayload(subscription=WebhookSubscription.from_model(sub))

        return await run_mutation(info, work)

    @mutation_field(MANAGE, description="Delete a subscription and its delivery log.")
    async def delete_webhook_subscription(
        self, info: Info, input: WebhookSubscriptionInput
    ) -> DeleteWebhookSubscriptionResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            await service.delete_subscription(
                session, principal, _subscription_id(input.subscription_id)
            )
            return DeleteWebhookSubscriptionPayload(deleted_id=input.subscription_id)

        return await run_mutation(info, work)

    @mutation_field(
        MANAGE,
        description="A new signing secret, shown this once; the old one stops with this commit.",
    )
    async def rotate_webhook_secret(
        self, info: Info, input: WebhookSubscriptionInput
    ) -> WebhookSecretResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            rotated = await service.rotate_secret(
                session, principal, _subscription_id(input.subscription_id)
            )
            return WebhookSecretPayload(
                subscription=WebhookSubscription.from_model(rotated.subscription),
                secret=rotated.secret,
            )

        return await run_mutation(info, work)

    @mutation_field(
        MANAGE,
        description=(
            "Send a delivered or dead-lettered batch again (before any later batch); a "
            "subscription paused by a dead letter resumes."
        ),
    )
    async def redeliver_webhook(
        self, info: Info, input: RedeliverWebhookInput
    ) -> RedeliverWebhookResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            raw = from_global_id(input.delivery_id, "deliveryId", "WebhookDelivery")[1]
            delivery = await service.redeliver(session, principal, raw)
            attempts = await service.attempts_of(session, [delivery.id])
            return RedeliverWebhookPayload(
                delivery=WebhookDelivery.from_model(delivery, attempts[delivery.id])
            )

        return await run_mutation(info, work)
