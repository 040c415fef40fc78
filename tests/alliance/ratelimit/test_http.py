"""Rate limits over HTTP through the app: 429 with Retry-After and a JSON reason, per client
or per address, on /graphql and the future /v1 and /oauth routes only, audited as denials."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from alliance.audit.models import AuditEntry
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.config import RateLimitSettings, Settings
from tests.conftest import BROKER_URL, NO_BROKER

QUERY = {"query": "{ me { clientId } }"}


@asynccontextmanager
async def limited_app(
    settings: Settings, sessions: Any, job_sender: Any, **ratelimit: Any
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    from alliance.app import create_app

    configured = settings.model_copy(update={"ratelimit": RateLimitSettings(**ratelimit)})
    app = create_app(configured, sessions=sessions, job_sender=job_sender)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://alliance.test") as c:
            yield app, c


@pytest.fixture
def make_app(settings: Settings, sessions: Any, job_sender: Any) -> Callable[..., Any]:
    def make(**ratelimit: Any) -> Any:
        return limited_app(settings, sessions, job_sender, **ratelimit)

    return make


def bearer(app: Any, settings: Settings, org: Any, client_id: str) -> dict[str, str]:
    grant = TokenGrant(
        subject=f"test:{client_id}",
        client_id=client_id,
        organisation_id=org.id,
        organisation_slug=org.slug,
        scopes=("indicators:read",),
    )
    token, _ = issue_access_token(
        app.state.keys,
        grant,
        issuer=settings.base_url,
        audience=settings.token_audience,
        ttl_seconds=600,
    )
    return {"Authorization": f"Bearer {token}"}


async def statuses(client: httpx.AsyncClient, n: int, **request: Any) -> list[int]:
    method = request.pop("method", "POST")
    path = request.pop("path", "/graphql")
    return [(await client.request(method, path, **request)).status_code for _ in range(n)]


async def denials(session: Any) -> list[AuditEntry]:
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "rate_limit.exceeded")
            .order_by(AuditEntry.seq)
        )
    )


async def test_a_client_over_its_burst_gets_429_with_retry_after(make_app, demo, settings) -> None:
    async with make_app(requests_per_minute=1, burst=2) as (app, client):
        headers = bearer(app, settings, demo["orgs"]["shopmart"], "partner-a")
        assert await statuses(client, 2, json=QUERY, headers=headers) == [200, 200]

        refused = await client.post("/graphql", json=QUERY, headers=headers)

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["content-type"] == "application/json"
    body = refused.json()
    assert body == {
        "error": "rate_limited",
        "reason": "rate limit exceeded for client 'partner-a': 1 requests a minute with "
        "bursts of 2; retry in 60 s",
        "retry_after": 60,
        "request_id": refused.headers["x-request-id"],
    }


async def test_each_client_has_its_own_bucket(make_app, demo, settings) -> None:
    async with make_app(requests_per_minute=1, burst=1) as (app, client):
        a = bearer(app, settings, demo["orgs"]["shopmart"], "partner-a")
        b = bearer(app, settings, demo["orgs"]["shopmart"], "partner-b")
        assert await statuses(client, 2, json=QUERY, headers=a) == [200, 429]
        assert await statuses(client, 2, json=QUERY, headers=b) == [200, 429]
        assert await statuses(client, 1, json=QUERY) == [200], "anonymous: the address's bucket"


async def test_anonymous_callers_are_limited_by_address(make_app, demo) -> None:
    async with make_app(requests_per_minute=2, burst=2) as (_app, client):
        assert await statuses(client, 3, json=QUERY) == [200, 200, 429]
        refused = await client.post("/graphql", json=QUERY)
    assert refused.headers["retry-after"] == "30"
    assert "address 127.0.0.1" in refused.json()["reason"]


async def test_an_invalid_token_counts_against_the_address(make_app) -> None:
    async with make_app(requests_per_minute=1, burst=2) as (_app, client):
        bad = {"Authorization": "Bearer not-a-token"}
        assert await statuses(client, 3, json=QUERY, headers=bad) == [401, 401, 429]
        assert await statuses(client, 1, json=QUERY) == [429], "same address, same bucket"


async def test_health_readiness_metrics_and_keys_are_not_limited(make_app) -> None:
    async with make_app(requests_per_minute=1, burst=1) as (_app, client):
        for path in ("/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"):
            codes = await statuses(client, 5, method="GET", path=path)
            assert 429 not in codes, (path, codes)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/indicators"), ("POST", "/oauth/token"), ("GET", "/graphql")],
)
async def test_api_prefixes_are_limited_whatever_the_route(make_app, method, path) -> None:
    async with make_app(requests_per_minute=1, burst=1) as (_app, client):
        codes = await statuses(client, 2, method=method, path=path)
    assert codes[0] != 429
    assert codes[1] == 429


async def test_a_path_that_merely_starts_like_a_prefix_is_not_limited(make_app) -> None:
    async with make_app(requests_per_minute=1, burst=1) as (_app, client):
        assert await statuses(client, 3, method="GET", path="/graphqlx") == [404, 404, 404]
        assert await statuses(client, 3, method="GET", path="/v10") == [404, 404, 404]


async def test_refusals_are_audited_once_per_caller_and_minute(
    make_app, demo, settings, session
) -> None:
    shopmart = demo["orgs"]["shopmart"]
    async with make_app(requests_per_minute=1, burst=1) as (app, client):
        headers = bearer(app, settings, shopmart, "partner-a")
        assert await statuses(client, 4, json=QUERY, headers=headers) == [200, 429, 429, 429]
        assert await statuses(client, 3, json=QUERY) == [200, 429, 429]

    client_denial, address_denial = await denials(session)
    assert (client_denial.outcome, client_denial.client_id, client_denial.organisation_id) == (
        "denied",
        "partner-a",
        shopmart.id,
    )
    assert client_denial.actor == "client:partner-a@shopmart"
    assert client_denial.request_id
    assert client_denial.detail == {
        "path": "/graphql",
        "ip": "127.0.0.1",
        "requests_per_minute": 1,
        "burst": 1,
        "retry_after_seconds": 60,
        "refusals": 1,
    }
    assert (address_denial.actor, address_denial.client_id, address_denial.organisation_id) == (
        "ip:127.0.0.1",
        None,
        None,
    )


async def test_disabled_limits_refuse_nothing(make_app) -> None:
    async with make_app(enabled=False, requests_per_minute=1, burst=1) as (_app, client):
        assert await statuses(client, 5, json=QUERY) == [200] * 5


async def test_the_per_client_hook_applies_over_http(make_app, demo, settings) -> None:
    async with make_app(requests_per_minute=1, burst=1) as (app, client):
        app.state.rate_limiter.set_override(lambda client_id: 600 if client_id == "vip" else None)
        vip = bearer(app, settings, demo["orgs"]["shopmart"], "vip")
        plain = bearer(app, settings, demo["orgs"]["shopmart"], "plain")
        assert await statuses(client, 5, json=QUERY, headers=vip) == [200] * 5
        assert await statuses(client, 2, json=QUERY, headers=plain) == [200, 429]


async def test_redis_backed_limits_answer_429(make_app, demo, settings) -> None:
    if not BROKER_URL:
        pytest.skip(NO_BROKER)
    client_id = f"redis-{uuid.uuid4().hex}"
    async with make_app(requests_per_minute=1, burst=2, url=BROKER_URL) as (app, client):
        try:
            headers = bearer(app, settings, demo["orgs"]["shopmart"], client_id)
            codes = await statuses(client, 3, json=QUERY, headers=headers)
            refused = await client.post("/graphql", json=QUERY, headers=headers)
            stored = await app.state.rate_limiter.store.client.exists(
                f"alliance:ratelimit:client:{client_id}"
            )
        finally:
            await app.state.rate_limiter.store.client.delete(
                f"alliance:ratelimit:client:{client_id}"
            )
    assert codes == [200, 200, 429]
    assert stored == 1
    assert 59 <= int(refused.headers["retry-after"]) <= 60


async def test_an_unreachable_redis_lets_requests_through(make_app, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="alliance.ratelimit"):
        async with make_app(requests_per_minute=1, burst=1, url="redis://127.0.0.1:9/0") as (
            _app,
            client,
        ):
            assert await statuses(client, 3, json=QUERY) == [200, 200, 200]
    warnings = [r for r in caplog.records if "store unreachable" in r.getMessage()]
    assert len(warnings) == 1, "warned once, not once per request"
