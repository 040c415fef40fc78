"""Managing webhook subscriptions: the only writes outside the dispatcher.

An organisation's own admins manage its subscriptions (``webhooks:manage`` or ``org:admin``);
another organisation's are invisible (NotFound, never Forbidden, so a refusal tells nothing
of what exists). Every write is audited in its transaction; secrets never reach the audit log.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.audit import service as audit
from alliance.auth.principal import Principal
from alliance.changelog import service as changelog
from alliance.config import WebhookSettings
from alliance.db import utcnow
from alliance.errors import Conflict, Forbidden, NotFound
from alliance.indicators.indicator_type import IndicatorType
from alliance.jobs import enqueue
from alliance.orgs import repository as orgs_repo
from alliance.outbound import address_refusal
from alliance.pagination import Page
from alliance.validation import Checker
from alliance.webhooks import repository as repo
from alliance.webhooks import signing
from alliance.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

MANAGE_SCOPES = ("webhooks:manage", "org:admin")
MAX_FILTER_VALUES = 50
MAX_URL_LENGTH = 2000
KIND = re.compile(r"[a-z][a-z0-9_.]{0,63}")
DELIVER_TASK = "webhooks.deliver"
TARGET_KIND = "webhook_subscription"


@dataclass(frozen=True, slots=True)
class SubscriptionData:
    url: str
    description: str = ""
    kinds: Sequence[str] = ()
    working_group_ids: Sequence[uuid.UUID] = ()
    indicator_types: Sequence[str] = ()
    max_attempts: int | None = None  # None: the settings' default
    active: bool = True


@dataclass(frozen=True, slots=True)
class SubscriptionChanges:
    """What an update changes; None leaves a field as it is."""

    url: str | None = None
    description: str | None = None
    kinds: Sequence[str] | None = None
    working_group_ids: Sequence[uuid.UUID] | None = None
    indicator_types: Sequence[str] | None = None
    max_attempts: int | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionWithSecret:
    subscription: WebhookSubscription
    secret: str  # shown this once


def _organisation_of(principal: Principal | None) -> uuid.UUID:
    if principal is None:
        raise Forbidden("managing webhooks requires an access token")
    if not any(principal.has_scope(s) for s in MANAGE_SCOPES):
        raise Forbidden(f"requires one of the scopes: {', '.join(MANAGE_SCOPES)}")
    return principal.organisation_id


async def _own(
    session: AsyncSession, principal: Principal | None, subscription_id: uuid.UUID
) -> WebhookSubscription:
    organisation_id = _organisation_of(principal)
    found = await repo.subscription(session, subscription_id)
    if found is None or found.organisation_id != organisation_id:
        raise NotFound("webhook subscription", str(subscription_id))
    return found


def check_url(check: Checker, url: str, *, allow_private_hosts: bool) -> str:
    """A receiver URL: https (plain http only where private hosts are allowed), a host, no
    credentials, and no literal private, loopback or link-local address unless allowed.
    Names are resolved, and checked again, at every delivery (``alliance.outbound``)."""
    cleaned = check.text("url", url, max_length=MAX_URL_LENGTH) or ""
    if not cleaned:
        return cleaned
    try:
        parts = urlsplit(cleaned)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        check.fail("url", "INVALID_URL", "is not a valid URL")
        return cleaned
    if parts.scheme not in ("https", "http") or not host:
        check.fail("url", "INVALID_URL", "must be an https:// URL with a host")
    elif parts.scheme == "http" and not allow_private_hosts:
        check.fail("url", "HTTPS_REQUIRED", "must use https://")
    elif parts.username or parts.password:
        check.fail("url", "INVALID_URL", "must not carry credentials")
    elif parts.fragment:
        check.fail("url", "INVALID_URL", "must not have a #fragment")
    elif not allow_private_hosts:
        refusal = None
        try:
            refusal = address_refusal(str(ipaddress.ip_address(host)), allow_private_hosts=False)
        except ValueError:
            if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
                refusal = f"{host} is a local name"
        if refusal:
            check.fail("url", "PRIVATE_DESTINATION", f"refused: {refusal}")
    return cleaned


def _list(check: Checker, field: str, values: Sequence[Any]) -> bool:
    if len(values) > MAX_FILTER_VALUES:
        check.fail(field, "TOO_MANY", f"at most {MAX_FILTER_VALUES} values")
        return False
    return True


async def _filters(
    session: AsyncSession,
    check: Checker,
    *,
    kinds: Sequence[str] | None,
    working_group_ids: Sequence[uuid.UUID] | None,
    indicator_types: Sequence[str] | None,
) -> tuple[list[str] | None, list[str] | None, list[str] | None]:
    clean_kinds = clean_groups = clean_types = None
    if kinds is not None and _list(check, "kinds", kinds):
        clean_kinds = list(dict.fromkeys(k.strip() for k in kinds))
        if bad := [k for k in clean_kinds if not KIND.fullmatch(k)]:
            check.fail("kinds", "INVALID", f"not a kind of object: {bad[0][:70]!r}")
    if working_group_ids is not None and _list(check, "workingGroupIds", working_group_ids):
        wanted = list(dict.fromkeys(working_group_ids))
        found = {g.id for g in await orgs_repo.working_groups_by_ids(session, wanted)}
        if missing := [g for g in wanted if g not in found]:
            check.fail("workingGroupIds", "NOT_FOUND", f"no working group {missing[0]}")
        clean_groups = [str(g) for g in wanted]
    if indicator_types is not None and _list(check, "indicatorTypes", indicator_types):
        clean_types = list(dict.fromkeys(t.strip().lower() for t in indicator_types))
        known = {t.value for t in IndicatorType}
        if bad := [t for t in clean_types if t not in known]:
            check.fail(
                "indicatorTypes",
                "INVALID_CHOICE",
                f"unknown indicator type {bad[0][:70]!r}; one of {', '.join(sorted(known))}",
            )
    return clean_kinds, clean_groups, clean_types


def _max_attempts(check: Checker, value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 100:
        check.fail("maxAttempts", "OUT_OF_RANGE", "must be between 1 and 100")
    return value


def _audit(session: AsyncSession, action: str, sub: WebhookSubscription, **detail: Any) -> None:
    audit.record(
        session,
        action=f"{TARGET_KIND}.{action}",
        target_kind=TARGET_KIND,
        target_id=str(sub.id),
        detail={"organisation_id": sub.organisation_id, **detail},
    )


def _described(sub: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": sub.url,
        "kinds": sub.kinds,
        "working_group_ids": sub.working_group_ids,
        "indicator_types": sub.indicator_types,
        "max_attempts": sub.max_attempts,
        "status": sub.status,
    }


async def create_subscription(
    session: AsyncSession,
    principal: Principal | None,
    data: SubscriptionData,
    *,
    settings: WebhookSettings,
    allow_private_hosts: bool,
) -> SubscriptionWithSecret:
    """A new subscription, delivering the changes committed from now on."""
    organisation_id = _organisation_of(principal)
    check = Checker()
    url = check_url(check, data.url, allow_private_hosts=allow_private_hosts)
    description = check.text("description", data.description, max_length=200, required=False)
    kinds, groups, types = await _filters(
        session,
        check,
        kinds=data.kinds,
        working_group_ids=data.working_group_ids,
        indicator_types=data.indicator_types,
    )
    attempts = _max_attempts(check, data.max_attempts)
    check.raise_if_any()
    secret = signing.new_secret()
    sub = WebhookSubscription(
        organisation_id=organisation_id,
        url=url,
        description=description or "",
        kinds=kinds or [],
        working_group_ids=groups or [],
        indicator_types=types or [],
        secret=secret,
        status=SubscriptionStatus.ACTIVE if data.active else SubscriptionStatus.PAUSED,
        paused_reason=None if data.active else "created paused",
        max_attempts=attempts or settings.max_attempts,
        cursor_seq=await changelog.head(session),
        version=1,
    )
    session.add(sub)
    await session.flush()
    _audit(session, "create", sub, **_described(sub))
    return SubscriptionWithSecret(sub, secret)


async def update_subscription(
    session: AsyncSession,
    principal: Principal | None,
    subscription_id: uuid.UUID,
    changes: SubscriptionChanges,
    *,
    allow_private_hosts: bool,
) -> WebhookSubscription:
    """Change a subscription. ``active=True`` resumes a paused one from its cursor (a
    dead-lettered batch stays in the log, redeliverable); ``active=False`` pauses it."""
    sub = await _own(session, principal, subscription_id)
    check = Checker()
    url = (
        check_url(check, changes.url, allow_private_hosts=allow_private_hosts)
        if changes.url is not None
        else None
    )
    description = (
        check.text("description", changes.description, max_length=200, required=False)
        if changes.description is not None
        else None
    )
    kinds, groups, types = await _filters(
        session,
        check,
        kinds=changes.kinds,
        working_group_ids=changes.working_group_ids,
        indicator_types=changes.indicator_types,
    )
    attempts = _max_attempts(check, changes.max_attempts)
    check.raise_if_any()
    if url is not None:
        sub.url = url
    if description is not None:
        sub.description = description
    if kinds is not None:
        sub.kinds = kinds
    if groups is not None:
        sub.working_group_ids = groups
    if types is not None:
        sub.indicator_types = types
    if attempts is not None:
        sub.max_attempts = attempts
    if changes.active is True and sub.status != SubscriptionStatus.ACTIVE:
        sub.status, sub.paused_reason = SubscriptionStatus.ACTIVE, None
    elif changes.active is False and sub.status != SubscriptionStatus.PAUSED:
        sub.status, sub.paused_reason = SubscriptionStatus.PAUSED, "paused by its organisation"
    sub.version += 1
    await session.flush()
    _audit(session, "update", sub, **_described(sub))
    return sub


async def delete_subscription(
    session: AsyncSession, principal: Principal | None, subscription_id: uuid.UUID
) -> uuid.UUID:
    """Remove a subscription with its delivery log."""
    sub = await _own(session, principal, subscription_id)
    _audit(session, "delete", sub, url=sub.url)
    await session.delete(sub)
    await session.flush()
    return subscription_id


async def rotate_secret(
    session: AsyncSession, principal: Principal | None, subscription_id: uuid.UUID
) -> SubscriptionWithSecret:
    """A new signing secret, shown once; deliveries after this commit are signed with it."""
    sub = await _own(session, principal, subscription_id)
    secret = signing.new_secret()
    sub.secret = secret
    sub.version += 1
    await session.flush()
    _audit(session, "rotate_secret", sub)
    return SubscriptionWithSecret(sub, secret)


async def redeliver(
    session: AsyncSession, principal: Principal | None, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send a delivered or dead-lettered batch again, with a fresh count of attempts. It goes
    before any later batch; a subscription paused by a dead letter resumes with it."""
    found = await repo.delivery(session, delivery_id)
    if found is None:
        raise NotFound("webhook delivery", str(delivery_id))
    try:
        sub = await _own(session, principal, found.subscription_id)
    except NotFound as exc:
        raise NotFound("webhook delivery", str(delivery_id)) from exc
    if found.status == DeliveryStatus.PENDING:
        raise Conflict(f"delivery {delivery_id} is pending already")
    previous = found.status
    found.status = DeliveryStatus.PENDING
    found.attempts = 0
    found.next_attempt_at = utcnow()
    found.delivered_at = found.dead_lettered_at = None
    if sub.status != SubscriptionStatus.ACTIVE:
        sub.status, sub.paused_reason = SubscriptionStatus.ACTIVE, None
        sub.version += 1
    await session.flush()
    _audit(session, "redeliver", sub, delivery_id=found.id, previous_status=previous)
    enqueue(session, DELIVER_TASK, subscription_id=str(sub.id))
    return found


async def page_subscriptions(
    session: AsyncSession, principal: Principal | None, *, after: uuid.UUID | None, limit: int
) -> Page[WebhookSubscription]:
    return await repo.page_subscriptions(
        session, _organisation_of(principal), after=after, limit=limit
    )


async def count_subscriptions(session: AsyncSession, principal: Principal | None) -> int:
    return await repo.count_subscriptions(session, _organisation_of(principal))


async def subscription(
    session: AsyncSession, principal: Principal | None, subscription_id: uuid.UUID
) -> WebhookSubscription:
    return await _own(session, principal, subscription_id)


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    page: Page[WebhookDelivery]
    attempts: dict[uuid.UUID, list[WebhookAttempt]]


async def delivery_log(
    session: AsyncSession,
    principal: Principal | None,
    subscription_id: uuid.UUID,
    *,
    before: uuid.UUID | None,
    limit: int,
) -> DeliveryLog:
    """A subscription's deliveries, newest first, each with its attempts (two queries)."""
    sub = await _own(session, principal, subscription_id)
    page = await repo.page_deliveries(session, sub.id, before=before, limit=limit)
    return DeliveryLog(page, await repo.attempts_of(session, [d.id for d in page.items]))


async def count_deliveries(
    session: AsyncSession, principal: Principal | None, subscription_id: uuid.UUID
) -> int:
    sub = await _own(session, principal, subscription_id)
    return await repo.count_deliveries(session, sub.id)


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    return await repo.attempts_of(session, delivery_ids)
