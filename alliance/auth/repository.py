"""All SQL of the identity domain. Synchronous: authlib's server is, and async callers reach
these through ``AsyncSession.run_sync``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from alliance.auth.models import (
    AuthorizationCode,
    OAuthClient,
    RefreshToken,
    RevokedAccessToken,
    TrustedIssuer,
    UsedAssertion,
)
from alliance.db import utcnow
from alliance.orgs.models import Membership, Organisation, Person, WorkingGroup
from alliance.pagination import Page


def client_by_client_id(session: Session, client_id: str) -> OAuthClient | None:
    return session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def clients(session: Session, organisation_id: uuid.UUID | None = None) -> list[OAuthClient]:
    stmt = select(OAuthClient).order_by(OAuthClient.id)
    if organisation_id is not None:
        stmt = stmt.where(OAuthClient.organisation_id == organisation_id)
    return list(session.scalars(stmt))


def organisation(session: Session, organisation_id: uuid.UUID) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def organisation_by_slug(session: Session, slug: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


def person(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


def person_by_email(session: Session, email: str) -> Person | None:
    return session.scalar(select(Person).where(func.lower(Person.email) == email.strip().lower()))


def count_enabled_admins(session: Session, organisation_id: uuid.UUID) -> int:
    """How many of the organisation's people are enabled admins, its row locked meanwhile
    (PostgreSQL) so that two withdrawals cannot both see another admin left."""
    session.execute(
        select(Organisation.id).where(Organisation.id == organisation_id).with_for_update()
    )
    return int(
        session.scalar(
            select(func.count()).where(
                Person.organisation_id == organisation_id,
                Person.org_admin.is_(True),
                Person.disabled.is_(False),
            )
        )
        or 0
    )


def seats(session: Session, organisation_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The working groups an organisation sits in, whatever its role: slug -> id."""
    rows = session.execute(
        select(WorkingGroup.slug, WorkingGroup.id)
        .join(Membership, Membership.working_group_id == WorkingGroup.id)
        .where(Membership.organisation_id == organisation_id)
        .order_by(WorkingGroup.slug)
    )
    return {slug: gid for slug, gid in rows}


def working_groups_by_ids(session: Session, ids: Sequence[uuid.UUID]) -> list[WorkingGroup]:
    if not ids:
        return []
    return list(session.scalars(select(WorkingGroup).where(WorkingGroup.id.in_(ids))))


def working_groups_by_slugs(session: Session, slugs: Sequence[str]) -> list[WorkingGroup]:
    return list(session.scalars(select(WorkingGroup).where(WorkingGroup.slug.in_(slugs))))


def code_by_digest(session: Session, digest: str) -> AuthorizationCode | None:
    return session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == digest))


def claim_code(session: Session, code_id: uuid.UUID) -> bool:
    """Mark a code used; False when another request used it first (atomic on both databases)."""
    result = session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code_id, AuthorizationCode.used.is_(False))
        .values(used=True)
        .returning(AuthorizationCode.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def refresh_by_digest(session: Session, digest: str) -> RefreshToken | None:
    return session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest))


def claim_refresh_token(session: Session, token_id: uuid.UUID, now: datetime) -> bool:
    """Mark a refresh token rotated; False when it was already rotated or revoked."""
    result = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == token_id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(rotated_at=now)
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> int:
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


def revoke_person_refresh_tokens(session: Session, person_id: uuid.UUID, now: datetime) -> int:
    """End every live refresh token of a person, whatever the client; how many it ended."""
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.person_id == person_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


def revoked_jti_query(jti: str) -> Select[tuple[str]]:
    """For the per-request check, run on a bare connection (no session to set up)."""
    return select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == jti)


def jti_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedAccessToken, jti) is not None


def _insert_ignoring_duplicates(session: Session, model: type, values: dict[str, object]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING (both databases); True when the row was new."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    key = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(*key)
    # RETURNING, not rowcount: drivers disagree on the rowcount of ON CONFLICT DO NOTHING.
    return session.execute(statement).first() is not None


def revoke_jti(session: Session, jti: str, expires_at: datetime) -> None:
    _insert_ignoring_duplicates(
        session, RevokedAccessToken, {"jti": jti, "expires_at": expires_at, "revoked_at": utcnow()}
    )


def spend_assertion(session: Session, key: str, expires_at: datetime) -> bool:
    """Record a JWT assertion as used; False when it was used before (a replay)."""
    return _insert_ignoring_duplicates(
        session, UsedAssertion, {"key": key, "expires_at": expires_at}
    )


def issuer_by_url(session: Session, issuer: str) -> TrustedIssuer | None:
    return session.scalar(select(TrustedIssuer).where(TrustedIssuer.issuer == issuer))


def issuers(session: Session) -> list[TrustedIssuer]:
    return list(session.scalars(select(TrustedIssuer).order_by(TrustedIssuer.id)))


def _keyset(
    session: Session, stmt: Select[Any], key: Any, after: str | None, limit: int
) -> Page[Any]:
    if after is not None:
        stmt = stmt.where(key > after)
    rows = list(session.scalars(stmt.order_by(key).limit(limit + 1)))
    return Page(
        items=rows[:limit], has_next_page=len(rows) > limit, has_previous_page=after is not None
    )


def _count(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _clients_query(organisation_id: uuid.UUID | None) -> Select[tuple[OAuthClient]]:
    stmt = select(OAuthClient)
    if organisation_id is not None:
        stmt = stmt.where(OAuthClient.organisation_id == organisation_id)
    return stmt


def page_clients(
    session: Session, organisation_id: uuid.UUID | None, *, after: str | None, limit: int
) -> Page[OAuthClient]:
    """Clients by ``client_id`` (unique), the ``limit`` after ``after``."""
    return _keyset(session, _clients_query(organisation_id), OAuthClient.client_id, after, limit)


def count_clients(session: Session, organisation_id: uuid.UUID | None) -> int:
    return _count(session, _clients_query(organisation_id))


def _issuers_query(organisation_id: uuid.UUID | None) -> Select[tuple[TrustedIssuer]]:
    stmt = select(TrustedIssuer)
    if organisation_id is not None:
        stmt = stmt.where(TrustedIssuer.organisation_id == organisation_id)
    return stmt


def page_issuers(
    session: Session, organisation_id: uuid.UUID | None, *, after: str | None, limit: int
) -> Page[TrustedIssuer]:
    """Trusted issuers by issuer identifier (unique), the ``limit`` after ``after``."""
    return _keyset(session, _issuers_query(organisation_id), TrustedIssuer.issuer, after, limit)


def count_issuers(session: Session, organisation_id: uuid.UUID | None) -> int:
    return _count(session, _issuers_query(organisation_id))


def issuer(session: Session, issuer_id: uuid.UUID) -> TrustedIssuer | None:
    return session.get(TrustedIssuer, issuer_id)
