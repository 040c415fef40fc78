"""Peers and instance handshakes: the only writers of ``peers`` and known instances.

Registering a peer makes the local organisation that will own what is imported from it
(``peer-<name>``); removing the peer stops pulls and keeps that organisation and the
copies it owns. Operators only (``principal`` None is the local operator at the CLI).
Administrative writes are audited; the peer's client secret is never logged or audited,
and is stored sealed with the instance's sealing key (:mod:`alliance.federation.sealing`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.audit import service as audit
from alliance.auth.principal import Principal
from alliance.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.federation import repository as repo
from alliance.federation import sealing
from alliance.federation.models import KnownInstance, Peer
from alliance.orgs import repository as orgs_repo
from alliance.orgs import service as orgs_service
from alliance.orgs.models import Organisation, OrganisationKind
from alliance.sharing.policy import FEDERATION_SCOPE
from alliance.validation import Checker

OPERATOR_SCOPE = "admin"
PEER_ORG_PREFIX = "peer-"
# Peer organisations are never the operator's kind (ASSOCIATION may hold ``admin``).
PEER_ORG_KIND = OrganisationKind.RIGHTS_HOLDER
MAX_INSTANCE_ID = 64


@dataclass(frozen=True, slots=True)
class PeerData:
    name: str
    base_url: str
    client_id: str
    client_secret: str
    token_url: str | None = None
    scope: str = FEDERATION_SCOPE


def require_operator(principal: Principal | None) -> None:
    if principal is not None and not principal.has_scope(OPERATOR_SCOPE):
        raise Forbidden(f"managing federation peers requires the {OPERATOR_SCOPE!r} scope")


def _check_url(check: Checker, field: str, url: str | None) -> str | None:
    text = check.text(field, url, max_length=2048)
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        check.fail(field, "INVALID_URL", "must be an http(s):// URL")
    elif parts.username or parts.password or parts.query or parts.fragment:
        check.fail(field, "INVALID_URL", "must carry no credentials, query or fragment")
    return text.rstrip("/")


async def add_peer(
    session: AsyncSession, principal: Principal | None, data: PeerData, *, sealing_key: Fernet
) -> Peer:
    require_operator(principal)
    check = Checker()
    name = check.slug("name", data.name)
    if len(name) > 63 - len(PEER_ORG_PREFIX):
        check.fail("name", "TOO_LONG", f"must be at most {63 - len(PEER_ORG_PREFIX)} characters")
    base_url = _check_url(check, "url", data.base_url)
    token_url = (_check_url(check, "tokenUrl", data.token_url) if data.token_url else None) or (
        f"{base_url}/oauth/token" if base_url else None
    )
    client_id = check.text("clientId", data.client_id, max_length=200)
    secret = check.text("clientSecret", data.client_secret, max_length=500)
    scope = check.text("scope", data.scope, max_length=200)
    check.raise_if_any()
    assert base_url is not None
    assert token_url is not None
    assert client_id is not None
    assert secret is not None
    assert scope is not None
    if await repo.peer_by_name(session, name) is not None:
        raise Conflict(f"a peer named {name!r} already exists")
    organisation = await _peer_organisation(session, name)
    peer = Peer(
        name=name,
        base_url=base_url,
        token_url=token_url,
        client_id=client_id,
        client_secret=sealing.seal(sealing_key, secret),
        scope=scope,
        active=True,
        organisation_id=organisation.id,
        imported_count=0,
    )
    session.add(peer)
    await session.flush()
    audit.record(
        session,
        action="federation.peer.add",
        target_kind="peer",
        target_id=str(peer.id),
        detail={"name": name, "url": base_url, "token_url": token_url, "client_id": client_id},
    )
    return peer


async def _peer_organisation(session: AsyncSession, name: str) -> Organisation:
    """The organisation owning this peer's imports: made now, or kept from an earlier
    registration of the same name (its copies stay owned by it)."""
    slug = f"{PEER_ORG_PREFIX}{name}"
    existing = await orgs_repo.organisation_by_slug(session, slug)
    if existing is not None:
        if existing.kind != PEER_ORG_KIND:
            raise Conflict(f"organisation {slug!r} exists and does not stand for a peer")
        return existing
    return await orgs_service.create_organisation(
        session,
        None,
        orgs_service.OrganisationData(
            slug=slug, name=f"Peer instance {name}", kind=PEER_ORG_KIND, verified=True
        ),
    )


async def remove_peer(session: AsyncSession, principal: Principal | None, name: str) -> Peer:
    require_operator(principal)
    peer = await repo.peer_by_name(session, name)
    if peer is None:
        raise NotFound("peer", name)
    await session.delete(peer)
    await session.flush()
    audit.record(
        session,
        action="federation.peer.remove",
        target_kind="peer",
        target_id=str(peer.id),
        detail={"name": name},
    )
    return peer


async def set_peer_active(
    session: AsyncSession, principal: Principal | None, name: str, active: bool
) -> Peer:
    require_operator(principal)
    peer = await repo.peer_by_name(session, name)
    if peer is None:
        raise NotFound("peer", name)
    peer.active = active
    await session.flush()
    audit.record(
        session,
        action="federation.peer.activate" if active else "federation.peer.deactivate",
        target_kind="peer",
        target_id=str(peer.id),
        detail={"name": name},
    )
    return peer


async def list_peers(session: AsyncSession, principal: Principal | None) -> list[Peer]:
    require_operator(principal)
    return await repo.all_peers(session)


async def local_instance_id(session: AsyncSession) -> str:
    found = await repo.local_instance_id(session)
    if found is None:
        raise NotFound("instance identity", "1")  # the federation migration makes it
    return found


def _check_instance_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_INSTANCE_ID:
        raise InvalidInput(
            [FieldProblem(("instanceId",), "INVALID", f"1-{MAX_INSTANCE_ID} characters")]
        )
    return value.strip()


async def record_handshake(
    session: AsyncSession, principal: Principal | None, instance_id: object
) -> str:
    """A peer holding one of our federation credentials says which instance it is; we
    answer which one we are. The credential's organisation is bound to that instance on
    first sight and never rebound, and the feed never sends it that instance's objects."""
    if principal is None or not principal.has_scope(FEDERATION_SCOPE):
        raise Forbidden(f"the handshake requires the {FEDERATION_SCOPE!r} scope")
    claimed = _check_instance_id(instance_id)
    mine = await local_instance_id(session)
    if claimed == mine:
        raise Conflict("that is this instance's own id: a peer cannot be this instance")
    known = await repo.known_instance(session, principal.organisation_id)
    if known is None:
        session.add(KnownInstance(organisation_id=principal.organisation_id, instance_id=claimed))
        await session.flush()
        audit.record(
            session,
            action="federation.instance.bind",
            target_kind="organisation",
            target_id=str(principal.organisation_id),
            detail={"instance_id": claimed},
        )
    elif known.instance_id != claimed:
        raise Conflict(
            "these credentials belong to another instance; an operator must issue new ones"
        )
    return mine


async def learn_peer_instance(
    session: AsyncSession, peer_id: uuid.UUID, instance_id: object
) -> Peer:
    """What the peer answered in the handshake: bound on the first pull, checked after."""
    peer = await repo.peer_by_id(session, peer_id)
    if peer is None:
        raise NotFound("peer", str(peer_id))
    answered = _check_instance_id(instance_id)
    if answered == await local_instance_id(session):
        raise Conflict(f"peer {peer.name!r} answers with this instance's own id")
    if peer.instance_id is None:
        peer.instance_id = answered
        await session.flush()
    elif peer.instance_id != answered:
        raise Conflict(
            f"peer {peer.name!r} now says it is instance {answered!r}, not {peer.instance_id!r}"
        )
    return peer


async def record_pull_error(
    session: AsyncSession, peer_id: uuid.UUID, message: str, now: datetime
) -> None:
    peer = await repo.peer_by_id(session, peer_id)
    if peer is None:
        return
    peer.last_error = message[:2000]
    peer.last_pulled_at = now
    await session.flush()


async def page_peers(
    session: AsyncSession, principal: Principal | None, *, after: uuid.UUID | None, limit: int
) -> repo.Page[Peer]:
    require_operator(principal)
    return await repo.page_peers(session, after=after, limit=limit)


async def count_peers(session: AsyncSession, principal: Principal | None) -> int:
    require_operator(principal)
    return await repo.count_peers(session)
