from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from alliance.webhooks import models
from schema.orgs.types import WorkingGroup
from schema.relay import to_global_id

WebhookSubscriptionStatus = strawberry.enum(
    models.SubscriptionStatus,
    name="WebhookSubscriptionStatus",
    description="ACTIVE subscriptions are delivered; PAUSED ones wait (see `pausedReason`).",
)
WebhookDeliveryStatus = strawberry.enum(
    models.DeliveryStatus,
    name="WebhookDeliveryStatus",
    description=(
        "PENDING: waiting to be sent or between attempts. DELIVERED: the receiver answered "
        "2xx. DEAD_LETTERED: given up after the subscription's maxAttempts (or a destination "
        "that may not be called); `redeliverWebhook` sends it again."
    ),
)
WebhookAttemptOutcome = strawberry.enum(models.AttemptOutcome, name="WebhookAttemptOutcome")


@strawberry.type(description="An organisation's webhook receiver and what it wants to receive.")
class WebhookSubscription:
    id: strawberry.ID
    url: str
    description: str
    kinds: list[str] = strawberry.field(description="Kinds of object delivered; empty: all.")
    indicator_types: list[str] = strawberry.field(
        description="Indicator changes of these types only (other kinds unaffected); empty: all."
    )
    status: WebhookSubscriptionStatus  # type: ignore[valid-type]
    paused_reason: str | None
    max_attempts: int = strawberry.field(
        description="Attempts at one batch before it is dead-lettered and the subscription pauses."
    )
    subscription_id: str = strawberry.field(
        description="The id deliveries carry as `subscriptionId`."
    )
    created_at: datetime
    updated_at: datetime
    working_group_ids: strawberry.Private[list[uuid.UUID]]

    @classmethod
    def from_model(cls, sub: models.WebhookSubscription) -> WebhookSubscription:
        return cls(
            id=to_global_id("WebhookSubscription", sub.id),
            url=sub.url,
            description=sub.description,
            kinds=list(sub.kinds),
            indicator_types=list(sub.indicator_types),
            status=sub.status,
            paused_reason=sub.paused_reason,
            max_attempts=sub.max_attempts,
            subscription_id=str(sub.id),
            created_at=sub.created_at,
            updated_at=sub.updated_at,
            working_group_ids=[uuid.UUID(g) for g in sub.working_group_ids],
        )

    @strawberry.field(description="Changes of objects in these working groups only; empty: all.")
    async def working_groups(self, info: Info) -> list[WorkingGroup]:
        groups = await info.context.loaders.working_group.load_many(self.working_group_ids)
        return [WorkingGroup.from_model(g) for g in groups if g is not None]


@strawberry.type(description="One POST of a delivery.")
class WebhookAttempt:
    attempt: int = strawberry.field(
        description="1 for the first attempt (counted afresh after a redelivery)."
    )
    started_at: datetime
    duration_ms: int
    outcome: WebhookAttemptOutcome  # type: ignore[valid-type]
    status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when no answer came."
    )
    error: str | None

    @classmethod
    def from_model(cls, a: models.WebhookAttempt) -> WebhookAttempt:
        return cls(
            attempt=a.attempt,
            started_at=a.started_at,
            duration_ms=a.duration_ms,
            outcome=a.outcome,
            status_code=a.status_code,
            error=a.error,
        )


@strawberry.type(description="One batch of changes for a subscription, and its attempts.")
class WebhookDelivery:
    id: strawberry.ID
    delivery_id: str = strawberry.field(description="The id the body carries as `deliveryId`.")
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    change_count: int
    first_seq: str = strawberry.field(description="The batch covers change-log rows after this.")
    last_seq: str = strawberry.field(description="… up to and including this one (its cursor).")
    attempts: int = strawberry.field(description="Attempts since made or last redelivered.")
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    created_at: datetime
    delivered_at: datetime | None
    dead_lettered_at: datetime | None
    attempt_log: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first.")

    @classmethod
    def from_model(
        cls, d: models.WebhookDelivery, attempts: list[models.WebhookAttempt]
    ) -> WebhookDelivery:
        return cls(
            id=to_global_id("WebhookDelivery", d.id),
            delivery_id=str(d.id),
            status=d.status,
            change_count=d.change_count,
            first_seq=str(d.first_seq),
            last_seq=str(d.last_seq),
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at
            if d.status == models.DeliveryStatus.PENDING
            else None,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            dead_lettered_at=d.dead_lettered_at,
            attempt_log=[WebhookAttempt.from_model(a) for a in attempts],
        )
