"""Delivering a subscription's changes: cut a batch from its cursor, POST it signed, record
the attempt, retry with backoff, dead-letter after ``max_attempts``.

One subscription is delivered by one worker at a time: a lease on its row, taken by a
conditional UPDATE in a short transaction of its own (no transaction stays open across the
HTTP call, which on SQLite would hold up every writer). Batches go out in log order, the
next cut only once the previous one is delivered or dead-lettered. A dead letter pauses the
subscription: nothing later is sent out of order, and nothing is skipped. Redelivering the
dead batch (or resuming the subscription) goes on from there.

Delivery is at least once: a worker that dies after the receiver answered and before the
outcome was recorded sends the batch again, with the same ``deliveryId``.
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance import outbound
from alliance.audit import service as audit
from alliance.changelog import repository as changelog_repo
from alliance.changelog import service as changelog
from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.config import Settings
from alliance.db import new_id, unit_of_work, utcnow
from alliance.orgs import repository as orgs_repo
from alliance.sharing.policy import Destination, Seat, Viewer, Visibility, may_travel
from alliance.sync.feed import change_line, dumps, encode_cursor
from alliance.webhooks import repository as repo
from alliance.webhooks import signing
from alliance.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from alliance.webhooks.retry import retry_delay

# Pages of the log read, at most, to find one batch worth sending (filters may drop a lot).
MAX_SCAN_PAGES = 10
# The reason on a line for an object its organisation sees but whose marking may not leave
# the instance (TLP RED): the receiver is told to drop any copy, never given the object.
NOT_EXPORTABLE = "NOT_EXPORTABLE"
INDICATOR_KINDS = frozenset({"indicator.assertion", "indicator.reaction", "indicator.proposal"})
USER_AGENT = "Alliance-Webhooks/1"


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    policy: outbound.OutboundPolicy
    batch_size: int = 100
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 900.0
    lease_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatchConfig:
        section = settings.webhooks
        return cls(
            policy=outbound.policy_from_settings(settings),
            batch_size=section.batch_size,
            backoff_base_seconds=section.backoff_base_seconds,
            backoff_cap_seconds=section.backoff_cap_seconds,
            lease_seconds=max(section.lease_seconds, settings.outbound.timeout_seconds * 2 + 5),
        )


class Result(enum.StrEnum):
    IDLE = "IDLE"  # nothing to send
    BUSY = "BUSY"  # another worker holds the subscription
    PAUSED = "PAUSED"  # the subscription is paused (or gone)
    WAITING = "WAITING"  # a batch waits for its next attempt
    DELIVERED = "DELIVERED"
    RETRY = "RETRY"  # the attempt failed; another is due in ``retry_in`` seconds
    DEAD_LETTERED = "DEAD_LETTERED"


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    delivery_id: uuid.UUID | None = None
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class _Prepared:
    subscription_id: uuid.UUID
    delivery_id: uuid.UUID
    url: str
    secret: str
    body: bytes
    attempt: int


@dataclass(frozen=True, slots=True)
class _Sent:
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    retryable: bool

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- the batch -----------------------------------------------------------------------------


async def viewer_of(session: AsyncSession, organisation_id: uuid.UUID) -> Viewer:
    """The subscribing organisation as the sharing policy sees it, with its seats now."""
    seats = await orgs_repo.memberships_of_organisation(session, organisation_id)
    return Viewer.member(organisation_id, (Seat(m.working_group_id, m.role) for m in seats))


def webhook_line(viewer: Viewer, entry: ChangeLogEntry) -> dict[str, Any]:
    """The feed's line for ``entry``; an object whose marking may not leave the instance
    becomes a removal (the receiver drops any copy it holds, and learns nothing else)."""
    line = change_line(viewer, entry)
    if line["operation"] == Operation.REMOVE.value:
        return line
    visibility = Visibility(
        entry.owner_org_id, entry.working_group_id, entry.distribution, entry.tlp
    )
    if may_travel(visibility, Destination.EXTERNAL_EXPORT):
        return line
    return line | {
        "operation": Operation.REMOVE.value,
        "reason": NOT_EXPORTABLE,
        "distribution": None,
        "tlp": None,
        "workingGroupId": None,
        "ownerOrgId": None,
    }


async def _lines(
    session: AsyncSession, sub: WebhookSubscription, viewer: Viewer, entries: list[ChangeLogEntry]
) -> list[dict[str, Any]]:
    lines = [webhook_line(viewer, e) for e in entries]
    if not sub.indicator_types:
        return lines
    wanted = set(sub.indicator_types)
    types = await repo.indicator_types(
        session, [(e.kind, e.object_id) for e in entries if e.kind in INDICATOR_KINDS]
    )
    kept = []
    for entry, line in zip(entries, lines, strict=True):
        if entry.kind in INDICATOR_KINDS:
            found = types.get((entry.kind, entry.object_id))
            # An object that is gone cannot be typed; a removal of it is harmless to send.
            if found is None and line["operation"] not in ("REMOVE", "DELETE"):
                continue
            if found is not None and found not in wanted:
                continue
        kept.append(line)
    return kept


async def cut_batch(
    session: AsyncSession, sub: WebhookSubscription, batch_size: int
) -> WebhookDelivery | None:
    """The next batch after the subscription's cursor, as a pending delivery, or None when
    nothing after it is for this subscription (the cursor then moves past what was read)."""
    viewer = await viewer_of(session, sub.organisation_id)
    groups = [uuid.UUID(g) for g in sub.working_group_ids] or None
    for _ in range(MAX_SCAN_PAGES):
        # Every row up to the head is committed (the log's commit-order lock): a scan that
        # reaches the end may move the cursor to it for good.
        head = await changelog.head(session)
        if head <= sub.cursor_seq:
            return None
        page = await changelog_repo.page_visible_changes(
            session,
            viewer,
            kinds=sub.kinds or None,
            working_group_ids=groups,
            after=sub.cursor_seq,
            limit=batch_size,
        )
        scanned_to = page.items[-1].seq if page.items else sub.cursor_seq
        if not page.has_next_page:
            scanned_to = max(scanned_to, head)
        lines = await _lines(session, sub, viewer, page.items)
        if lines:
            await _attach_objects(session, page.items, lines)
            delivery_id = new_id()
            body = {
                "subscriptionId": str(sub.id),
                "deliveryId": str(delivery_id),
                "changes": lines,
                "cursor": encode_cursor(scanned_to),
            }
            delivery = WebhookDelivery(
                id=delivery_id,
                subscription_id=sub.id,
                status=DeliveryStatus.PENDING,
                first_seq=sub.cursor_seq,
                last_seq=scanned_to,
                change_count=len(lines),
                body=dumps(body),
                attempts=0,
                next_attempt_at=utcnow(),
            )
            session.add(delivery)
            sub.cursor_seq = scanned_to
            await session.flush()
            return delivery
        sub.cursor_seq = scanned_to
        if not page.has_next_page:
            return None
    await session.flush()
    return None


async def _attach_objects(
    session: AsyncSession, entries: list[ChangeLogEntry], lines: list[dict[str, Any]]
) -> None:
    """Portable snapshots of the objects created, updated or revoked, where their kind has one."""
    try:
        from alliance.sync.portable import load_snapshots
    except ImportError:  # pragma: no cover  (a tree without federation)
        return
    wanted = [
        line
        for line in lines
        if line["operation"]
        in (Operation.CREATE.value, Operation.UPDATE.value, Operation.REVOKE.value)
    ]
    refs = list(dict.fromkeys((line["kind"], line["id"]) for line in wanted))
    snapshots = await load_snapshots(session, refs) if refs else {}
    for line in wanted:
        line["object"] = snapshots.get((line["kind"], line["id"]))


# --- one step ------------------------------------------------------------------------------


async def _prepare(
    session: AsyncSession, subscription_id: uuid.UUID, config: DispatchConfig
) -> _Prepared | Outcome:
    sub = await repo.subscription(session, subscription_id)
    if sub is None or sub.status != SubscriptionStatus.ACTIVE:
        return Outcome(Result.PAUSED)
    pending = await repo.oldest_pending(session, sub.id)
    if pending is None:
        pending = await cut_batch(session, sub, config.batch_size)
        if pending is None:
            return Outcome(Result.IDLE)
    wait = (pending.next_attempt_at - utcnow()).total_seconds()
    if wait > 0:
        return Outcome(Result.WAITING, pending.id, retry_in=wait)
    return _Prepared(
        subscription_id=sub.id,
        delivery_id=pending.id,
        url=sub.url,
        secret=sub.secret,
        body=pending.body.encode(),
        attempt=pending.attempts + 1,
    )


def _post(prepared: _Prepared, policy: outbound.OutboundPolicy) -> _Sent:
    """The HTTP call, through the outbound module only (blocking: run it in a thread)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Alliance-Delivery": str(prepared.delivery_id),
        **signing.signed_headers(prepared.secret, prepared.body),
    }
    started_at, start = utcnow(), time.perf_counter()
    try:
        response = outbound.request(
            "POST", prepared.url, policy=policy, headers=headers, content=prepared.body
        )
    except outbound.OutboundError as exc:
        elapsed = int((time.perf_counter() - start) * 1000)
        return _Sent(started_at, elapsed, exc.status_code, str(exc)[:500], exc.retryable)
    elapsed = int((time.perf_counter() - start) * 1000)
    status = response.status_code
    error = None
    if 300 <= status < 400:
        location = response.headers.get("location", "")[:200]
        error = f"HTTP {status}: redirect to {location!r} not followed"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    return _Sent(started_at, elapsed, status, error, retryable=True)


async def _record(
    session: AsyncSession, prepared: _Prepared, sent: _Sent, config: DispatchConfig
) -> Outcome:
    delivery = await repo.delivery(session, prepared.delivery_id)
    sub = await repo.subscription(session, prepared.subscription_id)
    if delivery is None or sub is None:  # deleted meanwhile
        return Outcome(Result.PAUSED)
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempt=prepared.attempt,
            started_at=sent.started_at,
            duration_ms=sent.duration_ms,
            outcome=AttemptOutcome.DELIVERED if sent.delivered else AttemptOutcome.FAILED,
            status_code=sent.status_code,
            error=sent.error,
        )
    )
    delivery.attempts = prepared.attempt
    delivery.last_status_code = sent.status_code
    delivery.last_error = sent.error
    now = utcnow()
    if sent.delivered:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        await session.flush()
        return Outcome(Result.DELIVERED, delivery.id)
    if not sent.retryable or prepared.attempt >= sub.max_attempts:
        why = (
            f"after {prepared.attempt} attempt(s): {sent.error}"
            if sent.retryable
            else f"not retryable: {sent.error}"
        )
        delivery.status, delivery.dead_lettered_at = DeliveryStatus.DEAD_LETTERED, now
        delivery.last_error = f"dead-lettered {why}"[:500]
        sub.status = SubscriptionStatus.PAUSED
        sub.paused_reason = f"delivery {delivery.id} dead-lettered {why}"[:500]
        sub.version += 1
        audit.record(
            session,
            action="webhook_subscription.dead_letter",
            actor="system:webhooks",
            target_kind="webhook_subscription",
            target_id=str(sub.id),
            detail={"delivery_id": delivery.id, "attempts": prepared.attempt, "error": sent.error},
        )
        await session.flush()
        return Outcome(Result.DEAD_LETTERED, delivery.id)
    delay = retry_delay(
        prepared.attempt,
        base_seconds=config.backoff_base_seconds,
        cap_seconds=config.backoff_cap_seconds,
    )
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    await session.flush()
    return Outcome(Result.RETRY, delivery.id, retry_in=delay)


async def deliver_next(
    sessions: async_sessionmaker[AsyncSession], subscription_id: uuid.UUID, config: DispatchConfig
) -> Outcome:
    """One step for one subscription: send its next batch once (if one is due), under its lease."""
    owner = uuid.uuid4().hex
    now = utcnow()
    async with unit_of_work(sessions) as session:
        claimed = await repo.claim_lease(
            session,
            subscription_id,
            owner,
            now=now,
            until=now + timedelta(seconds=config.lease_seconds),
        )
    if not claimed:
        return Outcome(Result.BUSY)
    try:
        async with unit_of_work(sessions) as session:
            prepared = await _prepare(session, subscription_id, config)
        if isinstance(prepared, Outcome):
            return prepared
        sent = await asyncio.to_thread(_post, prepared, config.policy)
        async with unit_of_work(sessions) as session:
            return await _record(session, prepared, sent, config)
    finally:
        async with unit_of_work(sessions) as session:
            await repo.release_lease(session, subscription_id, owner)


async def drain(
    sessions: async_sessionmaker[AsyncSession],
    subscription_id: uuid.UUID,
    config: DispatchConfig,
    *,
    max_batches: int = 50,
) -> Outcome:
    """Deliver batch after batch while the receiver takes them; the last step's outcome."""
    outcome = Outcome(Result.IDLE)
    for _ in range(max_batches):
        outcome = await deliver_next(sessions, subscription_id, config)
        if outcome.result != Result.DELIVERED:
            break
    return outcome


async def due_subscriptions(session: AsyncSession, *, limit: int = 1000) -> list[uuid.UUID]:
    """Subscriptions for beat to hand to workers: active, free, with something to do."""
    return await repo.due_subscriptions(
        session, now=utcnow(), head=await changelog.head(session), limit=limit
    )
