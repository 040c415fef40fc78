"""An organisation's people: who they are, who administers, who may no longer sign in.

Operators (``admin``) manage every organisation's people, organisation admins
(``org:admin``) their own organisation's; anyone else is refused. A person of another
organisation is ``NotFound`` to an organisation admin, so a refusal tells nothing of who
exists elsewhere. An organisation always keeps one enabled admin: a write that would
leave it none is a ``Conflict``, decided under a lock on the organisation's row so two
admins withdrawing each other at once cannot both succeed.

Like every service: validates, raises domain errors, audits each write in the same
transaction, never commits. ``principal`` ``None`` is the local operator at the CLI.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.audit import service as audit
from alliance.auth import entitlements
from alliance.auth import repository as auth_repo
from alliance.auth.principal import Principal
from alliance.auth.service import (
    check_password,
    is_operator,
    may_manage,
    require_manager,
    set_local_account,
)
from alliance.db import utcnow
from alliance.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance.orgs import repository as repo
from alliance.orgs import service as orgs_service
from alliance.orgs.models import Membership, MembershipRole, Person, WorkingGroup
from alliance.pagination import Page
from alliance.validation import Checker

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Seat:
    """One of the organisation's seats in a working group, and whether the caller may change
    its role (operators, and the admins of an organisation that chairs the group)."""

    membership: Membership
    working_group: WorkingGroup
    may_change_role: bool


def people_scope(principal: Principal | None, organisation_id: uuid.UUID | None) -> uuid.UUID:
    """Whose people ``principal`` lists: the named organisation's, by default its own.
    Checked before anything is looked up."""
    if organisation_id is None:
        if principal is None:
            raise Forbidden("the local operator must name an organisation")
        organisation_id = principal.organisation_id
    require_manager(principal, organisation_id)
    return organisation_id


async def page_people(
    session: AsyncSession,
    principal: Principal | None,
    organisation_id: uuid.UUID | None,
    *,
    after: str | None,
    limit: int,
) -> Page[Person]:
    """The organisation's people by e-mail address, the ``limit`` after ``after``."""
    owner = people_scope(principal, organisation_id)
    return await repo.page_people(session, owner, after=after, limit=min(limit, MAX_PAGE_SIZE))


async def count_people(
    session: AsyncSession, principal: Principal | None, organisation_id: uuid.UUID | None
) -> int:
    return await repo.count_people(session, people_scope(principal, organisation_id))


async def organisation_seats(
    session: AsyncSession, principal: Principal | None, organisation_id: uuid.UUID
) -> list[Seat]:
    """The organisation's seats by working-group name, for the people who manage it."""
    require_manager(principal, organisation_id)
    seats = await repo.memberships_of_organisation(session, organisation_id)
    groups = {
        g.id: g
        for g in await repo.working_groups_by_ids(session, [s.working_group_id for s in seats])
    }
    chaired = (
        {s.working_group_id for s in seats if s.role == MembershipRole.CHAIR}
        if principal is not None
        and principal.organisation_id == organisation_id
        and principal.has_scope(entitlements.ORG_ADMIN_SCOPE)
        else set()
    )
    found = [
        Seat(
            membership=s,
            working_group=groups[s.working_group_id],
            may_change_role=is_operator(principal) or s.working_group_id in chaired,
        )
        for s in seats
        if s.working_group_id in groups
    ]
    return sorted(found, key=lambda seat: (seat.working_group.name, seat.working_group.slug))


async def add_person(
    session: AsyncSession,
    principal: Principal | None,
    organisation_id: uuid.UUID,
    *,
    email: str,
    display_name: str,
    password: str,
    org_admin: bool = False,
) -> Person:
    """A new person with a local account and an initial password. Unlike
    :func:`alliance.auth.accounts.create_local_user`, an e-mail already known is a
    ``Conflict``: adding someone never resets an existing person's password."""
    require_manager(principal, organisation_id)
    check = Checker()
    check_password(check, password, email=email.strip())
    try:
        person = await orgs_service.create_person(
            session,
            principal,
            organisation_id=organisation_id,
            email=email,
            display_name=display_name.strip() or email.strip(),
        )
    except InvalidInput as exc:
        raise InvalidInput([*exc.problems, *check.problems]) from exc
    check.raise_if_any()
    person_id = person.id
    return await session.run_sync(
        lambda s: set_local_account(s, principal, person_id, password=password, org_admin=org_admin)
    )


def _require_a_manager(principal: Principal | None) -> None:
    if is_operator(principal):
        return
    assert principal is not None
    if not principal.has_scope(entitlements.ORG_ADMIN_SCOPE):
        raise Forbidden(
            f"managing people requires the {entitlements.ORG_ADMIN_SCOPE!r} or "
            f"{entitlements.OPERATOR_SCOPE!r} scope"
        )


async def _managed_person(
    session: AsyncSession, principal: Principal | None, person_id: uuid.UUID
) -> Person:
    """The person, locked with their organisation for the rest of the transaction."""
    _require_a_manager(principal)
    person = await session.get(Person, person_id)
    if person is None or not may_manage(principal, person.organisation_id):
        raise NotFound("person", str(person_id))
    await repo.lock_organisation(session, person.organisation_id)
    await session.refresh(person)
    return person


def _is_enabled_admin(person: Person) -> bool:
    return person.org_admin and not person.disabled


async def _keep_an_admin(session: AsyncSession, person: Person) -> None:
    if (
        _is_enabled_admin(person)
        and await repo.count_enabled_admins(session, person.organisation_id) <= 1
    ):
        raise Conflict(
            "an organisation must keep at least one enabled admin; make another person an "
            "admin first"
        )


def _audit(session: AsyncSession, action: str, person: Person, **detail: Any) -> None:
    audit.record(
        session,
        action=action,
        target_kind="person",
        target_id=str(person.id),
        detail={"organisation_id": person.organisation_id, **detail},
    )


async def set_organisation_admin(
    session: AsyncSession, principal: Principal | None, person_id: uuid.UUID, *, org_admin: bool
) -> Person:
    """Grant or withdraw the organisation's admin role. Tokens already issued keep their
    scopes until they expire; new ones follow the role."""
    person = await _managed_person(session, principal, person_id)
    if person.org_admin == org_admin:
        return person
    if not org_admin:
        await _keep_an_admin(session, person)
    person.org_admin = org_admin
    await session.flush()
    _audit(session, f"person.{'grant' if org_admin else 'withdraw'}_org_admin", person)
    return person


async def set_person_disabled(
    session: AsyncSession, principal: Principal | None, person_id: uuid.UUID, *, disabled: bool
) -> Person:
    """Disable (or enable again) a person. Disabled, they cannot sign in, redeem a code or be
    vouched for; their refresh tokens are revoked and their portal sessions ended, so what
    they still hold is at most an access token running out its lifetime."""
    person = await _managed_person(session, principal, person_id)
    if person.disabled == disabled:
        return person
    detail: dict[str, Any] = {}
    if disabled:
        if principal is not None and principal.person_id == person.id:
            raise Conflict("you cannot disable yourself; ask another admin")
        await _keep_an_admin(session, person)
        now = utcnow()
        detail["refresh_tokens_revoked"] = await session.run_sync(
            lambda s: auth_repo.revoke_person_refresh_tokens(s, person.id, now)
        )
        from alliance.portal import service as portal_service

        detail["portal_sessions_ended"] = await portal_service.end_sessions_of_person(
            session, person.id
        )
    person.disabled = disabled
    await session.flush()
    _audit(session, f"person.{'disable' if disabled else 'enable'}", person, **detail)
    return person
