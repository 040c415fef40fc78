"""Portal sessions: the only writer of ``portal_sessions``. Never commits."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.db import utcnow
from alliance.portal import repository as repo
from alliance.portal import sealing
from alliance.portal.models import PortalSession
from alliance.portal.signin import PendingSignIn

PENDING_SECONDS = 15 * 60
SIGNED_IN_SECONDS = 12 * 3600
MAX_RETURN_TO = 500


@dataclass(frozen=True, slots=True)
class Opened:
    cookie_value: str
    row: PortalSession


def safe_return_to(path: str | None) -> str:
    """Only a path of the portal itself: no open redirect."""
    if (
        not path
        or len(path) > MAX_RETURN_TO
        or not path.startswith("/portal")
        or path.startswith("//")
        or "\\" in path
        or any(ord(c) < 32 for c in path)
    ):
        return "/portal"
    return path


async def start_sign_in(
    session: AsyncSession, pending: PendingSignIn, return_to: str | None
) -> Opened:
    now = utcnow()
    await repo.delete_expired(session, now)
    cookie = sealing.new_cookie_value()
    row = PortalSession(
        cookie_digest=sealing.digest(cookie),
        csrf_token=secrets.token_urlsafe(32),
        state=pending.state,
        code_verifier=pending.code_verifier,
        return_to=safe_return_to(return_to),
        created_at=now,
        expires_at=now + timedelta(seconds=PENDING_SECONDS),
    )
    session.add(row)
    await session.flush()
    return Opened(cookie, row)


async def find(session: AsyncSession, cookie_value: str | None) -> PortalSession | None:
    if not cookie_value or len(cookie_value) > 200:
        return None
    row = await repo.session_by_digest(session, sealing.digest(cookie_value))
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def state_matches(row: PortalSession, state: str | None) -> bool:
    return bool(row.state and state and hmac.compare_digest(row.state, state))


async def complete_sign_in(
    session: AsyncSession, pending: PortalSession, person_id: Any, tokens: dict[str, Any]
) -> Opened:
    """A new session (and cookie) for the signed-in person: the pre-sign-in one is dropped,
    so a cookie planted before sign-in is worth nothing after it."""
    await repo.delete_session(session, pending.id)
    now = utcnow()
    cookie = sealing.new_cookie_value()
    row = PortalSession(
        cookie_digest=sealing.digest(cookie),
        csrf_token=secrets.token_urlsafe(32),
        person_id=person_id,
        return_to=None,
        created_at=now,
        expires_at=now + timedelta(seconds=SIGNED_IN_SECONDS),
    )
    _store_tokens(row, cookie, tokens)
    session.add(row)
    await session.flush()
    return Opened(cookie, row)


def _store_tokens(row: PortalSession, cookie_value: str, tokens: dict[str, Any]) -> None:
    kept = {k: tokens[k] for k in ("access_token", "refresh_token") if tokens.get(k)}
    row.sealed_tokens = sealing.seal(cookie_value, kept)
    row.access_expires_at = utcnow() + timedelta(seconds=int(tokens.get("expires_in", 60)))


async def replace_tokens(
    session: AsyncSession, row: PortalSession, cookie_value: str, tokens: dict[str, Any]
) -> None:
    _store_tokens(row, cookie_value, tokens)
    await session.flush()


def tokens_of(row: PortalSession, cookie_value: str) -> dict[str, Any] | None:
    return sealing.unseal(cookie_value, row.sealed_tokens) if row.sealed_tokens else None


def access_fresh(row: PortalSession) -> bool:
    return row.access_expires_at is not None and row.access_expires_at - utcnow() > timedelta(
        seconds=30
    )


def csrf_ok(row: PortalSession | None, submitted: str | None) -> bool:
    return bool(
        row is not None and submitted and hmac.compare_digest(row.csrf_token, str(submitted))
    )


async def end(session: AsyncSession, row: PortalSession) -> None:
    await repo.delete_session(session, row.id)


async def end_sessions_of_person(session: AsyncSession, person_id: Any) -> int:
    """Sign a person out everywhere (they were disabled); how many sessions it ended."""
    return await repo.delete_sessions_of_person(session, person_id)
