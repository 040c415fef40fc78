"""Builders for webhook tests: principals, subscriptions and indicators, on a real database."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.auth.principal import Principal
from alliance.config import WebhookSettings
from alliance.db import unit_of_work
from alliance.indicators import service as indicators
from alliance.outbound import OutboundPolicy
from alliance.webhooks import dispatcher, service
from alliance.webhooks.dispatcher import DispatchConfig, Outcome, Result

LOCAL = OutboundPolicy(allow_private_hosts=True, timeout_seconds=5)


def quick(policy: OutboundPolicy = LOCAL, *, batch_size: int = 100) -> DispatchConfig:
    """Small backoff, so retries come within a fraction of a second."""
    return DispatchConfig(
        policy=policy, batch_size=batch_size, backoff_base_seconds=0.01, backoff_cap_seconds=0.05
    )


def admin_of(org: Any, scopes: str = "webhooks:manage") -> Principal:
    return Principal(
        organisation_id=org.id,
        organisation_slug=org.slug,
        client_id="tests",
        subject=f"test:{org.slug}",
        scopes=frozenset(scopes.split()),
        token_id=uuid.uuid4().hex,
    )


async def subscribe(
    sessions: async_sessionmaker[AsyncSession], org: Any, url: str, **data: Any
) -> service.SubscriptionWithSecret:
    async with unit_of_work(sessions) as s:
        return await service.create_subscription(
            s,
            admin_of(org),
            service.SubscriptionData(url=url, **data),
            settings=WebhookSettings(),
            allow_private_hosts=True,
        )


async def submit(
    sessions: async_sessionmaker[AsyncSession], org: Any, *items: indicators.Submission
) -> list[str]:
    """Submit as ``org`` in one transaction; the assertion ids, in order."""
    async with unit_of_work(sessions) as s:
        viewer = await indicators.viewer_of_organisation(s, org.id)
        results = await indicators.submit(s, viewer, list(items))
    for r in results:
        assert r.error is None, r.error
    return [str(r.assertion.id) for r in results if r.assertion is not None]


def domain(value: str, **kw: Any) -> indicators.Submission:
    return indicators.Submission(type="domain", value=value, **kw)


async def run_until(
    sessions: async_sessionmaker[AsyncSession],
    subscription_id: uuid.UUID,
    config: DispatchConfig,
    stop: set[Result],
    *,
    max_steps: int = 200,
) -> list[Outcome]:
    """Run the delivery task's function step by step, as the worker and its retries would,
    until an outcome in ``stop``; waiting out each backoff."""
    outcomes: list[Outcome] = []
    for _ in range(max_steps):
        outcome = await dispatcher.deliver_next(sessions, subscription_id, config)
        outcomes.append(outcome)
        if outcome.result in stop:
            return outcomes
        if outcome.result in (Result.RETRY, Result.WAITING) and outcome.retry_in:
            await asyncio.sleep(outcome.retry_in)
    raise AssertionError(f"no outcome in {stop} after {max_steps} steps: {outcomes[-5:]}")
