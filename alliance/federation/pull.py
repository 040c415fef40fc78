"""Pulling one peer's change feed: token, handshake, then page after page, each committed
with the cursor that follows it.

The cursor is stored only in the commit that applied its page, so a pull that stops
anywhere (network, crash) resumes where the last commit left it, and a page applied
twice changes nothing the second time (:mod:`alliance.federation.importing`). Every call
goes through :mod:`alliance.outbound`: private, loopback and link-local peers are refused
unless the operator allows them, no redirect is followed, time and size are bounded.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.config import Settings
from alliance.db import unit_of_work, utcnow
from alliance.errors import DomainError, NotFound
from alliance.federation import repository as repo
from alliance.federation import sealing, service
from alliance.federation.importing import Outcome, apply_lines
from alliance.outbound import OutboundError, OutboundPolicy, policy_from_settings, request
from alliance.outbound import stream_lines as outbound_stream_lines

HANDSHAKE_PATH = "/v1/federation/hello"
FEED_PATH = "/v1/changes"

Progress = Callable[[int, int | None], None]


class PullFailed(Exception):
    """The pull stopped; the message (stored as the peer's last error) says why."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class PullReport:
    peer: str
    pages: int = 0
    lines: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    # Why lines were skipped (a rule whose working group does not exist here…), counted.
    skipped: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None
    has_more: bool = False
    remaining: int | None = None

    @property
    def imported(self) -> int:
        return sum(
            self.outcomes.get(o.value, 0)
            for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.REVOKED, Outcome.RETIRED)
        )


@dataclass(frozen=True, slots=True)
class _PeerAccess:
    id: uuid.UUID
    name: str
    base_url: str
    token_url: str
    client_id: str
    # As stored (sealed) until the pull opens it, where a wrong key becomes the last error.
    client_secret: str
    scope: str
    cursor: str | None


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OutboundError(f"the peer's {what} is not JSON", retryable=False) from exc


def _token(peer: _PeerAccess, policy: OutboundPolicy) -> str:
    basic = base64.b64encode(
        f"{quote(peer.client_id, safe='')}:{quote(peer.client_secret, safe='')}".encode()
    ).decode()
    response = request(
        "POST",
        peer.token_url,
        policy=policy,
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        content=urlencode({"grant_type": "client_credentials", "scope": peer.scope}).encode(),
    )
    if response.status_code != 200:
        error = ""
        try:
            error = str(json.loads(response.body).get("error", ""))[:100]
        except (ValueError, AttributeError):
            pass
        raise OutboundError(
            f"the peer's token endpoint answered HTTP {response.status_code}"
            + (f" ({error})" if error else ""),
            retryable=response.status_code >= 500 or response.status_code == 429,
        )
    token = _json(response.body, "token response").get("access_token")
    if not isinstance(token, str) or not token:
        raise OutboundError("the peer's token response has no access_token", retryable=False)
    return token


def _handshake(peer: _PeerAccess, policy: OutboundPolicy, token: str, mine: str) -> str:
    response = request(
        "POST",
        peer.base_url + HANDSHAKE_PATH,
        policy=policy,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        content=json.dumps({"instanceId": mine}).encode(),
    )
    if response.status_code != 200:
        raise OutboundError(
            f"the peer's handshake answered HTTP {response.status_code}",
            retryable=response.status_code >= 500 or response.status_code == 429,
        )
    answered = _json(response.body, "handshake").get("instanceId")
    if not isinstance(answered, str):
        raise OutboundError("the peer's handshake names no instance", retryable=False)
    return answered


def _feed_url(base_url: str, params: Mapping[str, str | None]) -> str:
    return f"{base_url}{FEED_PATH}?" + urlencode({k: v for k, v in params.items() if v})


def _page(
    peer: _PeerAccess, policy: OutboundPolicy, token: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of the feed: its change lines and its end line (a page without one was
    cut short and is not applied)."""
    url = _feed_url(peer.base_url, {"after": cursor, "limit": str(limit), "include": "object"})
    lines: list[dict[str, Any]] = []
    end: dict[str, Any] | None = None
    with outbound_stream_lines(
        "GET", url, policy=policy, headers={"Authorization": f"Bearer {token}"}
    ) as stream:
        for raw in stream:
            line = _json(raw, "feed line")
            if not isinstance(line, dict):
                raise OutboundError("a feed line is not a JSON object", retryable=False)
            if line.get("end") is True:
                end = line
                break
            lines.append(line)
    if end is None or not isinstance(end.get("cursor"), str):
        raise OutboundError("the peer's feed page ended without its end line", retryable=True)
    return lines, end


def _remaining(peer: _PeerAccess, policy: OutboundPolicy, token: str, cursor: str | None) -> int:
    url = _feed_url(peer.base_url, {"after": cursor, "count": "true"})
    response = request("GET", url, policy=policy, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise OutboundError(
            f"the peer's feed answered HTTP {response.status_code}",
            retryable=response.status_code >= 500,
        )
    first = response.body.split(b"\n", 1)[0]
    count = _json(first, "count").get("count")
    return count if isinstance(count, int) else 0


def _age_seconds(line: Mapping[str, Any], now: datetime) -> float | None:
    value = line.get("occurredAt")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max((now - moment).total_seconds(), 0.0) if moment.tzinfo else None


async def _access(session: AsyncSession, name: str) -> _PeerAccess:
    peer = await repo.peer_by_name(session, name)
    if peer is None:
        raise NotFound("peer", name)
    return _PeerAccess(
        id=peer.id,
        name=peer.name,
        base_url=peer.base_url,
        token_url=peer.token_url,
        client_id=peer.client_id,
        client_secret=peer.client_secret,
        scope=peer.scope,
        cursor=peer.last_cursor,
    )


async def pull(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    peer_name: str,
    *,
    policy: OutboundPolicy | None = None,
    progress: Progress | None = None,
) -> PullReport:
    """Pull ``peer_name`` until its feed has nothing more (or the page budget is spent).

    ``progress(done, total)`` is called after each committed page (``total`` is what the
    peer said was waiting when the pull began). Raises :class:`PullFailed` after storing
    the reason as the peer's last error; pages committed before it stay committed.
    """
    federation = settings.federation
    base = policy or policy_from_settings(settings)
    feed_policy = dataclasses.replace(base, max_response_bytes=federation.max_page_bytes)
    async with sessions() as session:
        peer = await _access(session, peer_name)
        mine = await service.local_instance_id(session)
    report = PullReport(peer=peer.name, cursor=peer.cursor)
    try:
        key = await asyncio.to_thread(sealing.sealing_key, settings)
        peer = dataclasses.replace(peer, client_secret=sealing.unseal(key, peer.client_secret))
        token = await asyncio.to_thread(_token, peer, base)
        answered = await asyncio.to_thread(_handshake, peer, base, token, mine)
        async with unit_of_work(sessions) as session:
            await service.learn_peer_instance(session, peer.id, answered)
        total = await asyncio.to_thread(_remaining, peer, base, token, report.cursor)
        if progress is not None:
            progress(0, total)
        done, lag_seconds = 0, 0.0
        for _ in range(federation.max_pages_per_pull):
            lines, end = await asyncio.to_thread(
                _page, peer, feed_policy, token, report.cursor, federation.page_size
            )
            now = utcnow()
            lag_seconds = (
                (_age_seconds(lines[-1], now) or 0.0) if lines and end.get("hasMore") else 0.0
            )
            async with unit_of_work(sessions) as session:
                current = await repo.peer_for_update(session, peer.id)
                if current is None:
                    raise NotFound("peer", peer.name)
                if not sealing.is_sealed(current.client_secret):
                    # Stored before secrets were sealed: sealed now that the row is written.
                    current.client_secret = sealing.seal(key, current.client_secret)
                if current.last_cursor != report.cursor:
                    # Another pull of this peer got further meanwhile: it goes on, we stop.
                    report.has_more = False
                    break
                result = await apply_lines(
                    session,
                    current,
                    lines,
                    local_instance_id=mine,
                    settings=settings.indicators,
                    now=now,
                )
                current.last_cursor = end["cursor"]
                if lines and isinstance(lines[-1].get("seq"), int):
                    current.last_seq = lines[-1]["seq"]
                current.last_pulled_at = now
                current.last_error = None
                current.imported_count = (current.imported_count or 0) + result.imported
                current.lag_seconds = lag_seconds
                current.lag_changes = (
                    max((total or 0) - done - len(lines), 0) if end.get("hasMore") else 0
                )
            report.pages += 1
            report.lines += len(lines)
            for outcome, n in result.outcomes.items():
                report.outcomes[outcome.value] = report.outcomes.get(outcome.value, 0) + n
            for reason, n in result.skipped.items():
                report.skipped[reason] = report.skipped.get(reason, 0) + n
            report.cursor = end["cursor"]
            report.has_more = bool(end.get("hasMore"))
            done += len(lines)
            if progress is not None:
                progress(done, total)
            if not report.has_more:
                break
        report.remaining = 0 if not report.has_more else max(total - done, 0)
        return report
    except (OutboundError, DomainError) as exc:
        message = str(exc) if isinstance(exc, OutboundError) else exc.message
        async with unit_of_work(sessions) as session:
            await service.record_pull_error(session, peer.id, message, utcnow())
        retryable = exc.retryable if isinstance(exc, OutboundError) else False
        raise PullFailed(f"pulling {peer.name!r} failed: {message}", retryable=retryable) from exc


async def pull_active(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> list[str]:
    """The names of the active peers (the periodic task queues one pull for each)."""
    async with sessions() as session:
        return [p.name for p in await repo.active_peers(session)]
