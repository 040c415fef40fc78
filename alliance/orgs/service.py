"""Organisations, people, working groups and memberships: the only place they are written.

``principal`` is the caller; ``None`` means the local operator acting through the CLI,
who holds the instance's keys and so every right.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.principal import Principal
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change, record_seat_removals
from alliance.errors import Conflict, Forbidden, NotFound
from alliance.orgs import repository as repo
from alliance.orgs.models import (
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    Person,
    WorkingGroup,
)
from alliance.sharing import TLP, Distribution
from alliance.validation import Checker

# The directory (who is in the alliance, which groups exist) is alliance-internal knowledge.
DIRECTORY_DISTRIBUTION = Distribution.ALLIANCE
DIRECTORY_TLP = TLP.GREEN

OPERATOR_SCOPE = "admin"
ORG_ADMIN_SCOPE = "org:admin"


@dataclass(frozen=True, slots=True)
class OrganisationData:
    slug: str
    name: str
    kind: OrganisationKind | str
    country: str | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class WorkingGroupData:
    slug: str
    name: str
    sector: str
    charter: str = ""


def require_operator(principal: Principal | None) -> None:
    if principal is not None and not principal.has_scope(OPERATOR_SCOPE):
        raise Forbidden(f"requires the {OPERATOR_SCOPE!r} scope")


async def _require_group_manager(
    session: AsyncSession, principal: Principal | None, group: WorkingGroup
) -> None:
    """Operators manage every group; a chair organisation's admins manage their own group."""
    if principal is None or principal.has_scope(OPERATOR_SCOPE):
        return
    if principal.has_scope(ORG_ADMIN_SCOPE):
        seat = await repo.membership(session, group.id, principal.organisation_id)
        if seat is not None and seat.role == MembershipRole.CHAIR:
            return
    raise Forbidden(
        f"managing the members of {group.slug!r} requires the {OPERATOR_SCOPE!r} scope, "
        f"or {ORG_ADMIN_SCOPE!r} in an organisation that chairs it"
    )


def _record(
    session: AsyncSession, kind: str, obj: Organisation | WorkingGroup | Membership, op: Operation
) -> None:
    record_change(
        session,
        kind=kind,
        object_id=obj.id,
        version=obj.version,
        operation=op,
        distribution=DIRECTORY_DISTRIBUTION,
        tlp=DIRECTORY_TLP,
        owner_org_id=obj.organisation_id if isinstance(obj, Membership) else None,
        working_group_id=obj.working_group_id
        if isinstance(obj, Membership)
        else (obj.id if isinstance(obj, WorkingGroup) else None),
    )


async def _flush_unique(session: AsyncSession, what: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists") from exc


async def create_organisation(
    session: AsyncSession, principal: Principal | None, data: OrganisationData
) -> Organisation:
    require_operator(principal)
    check = Checker()
    slug = check.slug("slug", data.slug)
    name = check.text("name", data.name, max_length=200)
    kind = check.choice("kind", data.kind, OrganisationKind)
    country = check.country("country", data.country)
    check.raise_if_any()
    if await repo.slug_taken(session, Organisation, slug):
        raise Conflict(f"an organisation with slug {slug!r} already exists")
    assert name is not None
    assert kind is not None
    org = Organisation(
        slug=slug, name=name, kind=kind, country=country, verified=data.verified, version=1
    )
    session.add(org)
    await _flush_unique(session, f"organisation {slug!r}")
    _record(session, "organisation", org, Operation.CREATE)
    return org


async def create_person(
    session: AsyncSession,
    principal: Principal | None,
    *,
    organisation_id: uuid.UUID,
    email: str,
    display_name: str,
) -> Person:
    """Operators add people to any organisation; organisation admins to their own."""
    if not (
        principal is not None
        and principal.has_scope(ORG_ADMIN_SCOPE)
        and principal.organisation_id == organisation_id
    ):
        require_operator(principal)
    check = Checker()
    email_clean = (check.text("email", email, max_length=320) or "").lower()
    if email_clean and (
        "@" not in email_clean or email_clean.startswith("@") or email_clean.endswith("@")
    ):
        check.fail("email", "INVALID_EMAIL", "must be an e-mail address")
    name = check.text("displayName", display_name, max_length=200)
    check.raise_if_any()
    if await session.get(Organisation, organisation_id) is None:
        raise NotFound("organisation", str(organisation_id))
    if await repo.person_by_email(session, email_clean) is not None:
        raise Conflict(f"a person with e-mail {email_clean!r} already exists")
    person = Person(organisation_id=organisation_id, email=email_clean, display_name=name or "")
    session.add(person)
    await _flush_unique(session, f"person {email_clean!r}")
    return person


async def create_working_group(
    session: AsyncSession, principal: Principal | None, data: WorkingGroupData
) -> WorkingGroup:
    require_operator(principal)
    check = Checker()
    slug = check.slug("slug", data.slug)
    name = check.text("name", data.name, max_length=200)
    sector = check.text("sector", data.sector, max_length=100)
    charter = check.text("charter", data.charter, max_length=20_000, required=False)
    check.raise_if_any()
    if await repo.slug_taken(session, WorkingGroup, slug):
        raise Conflict(f"a working group with slug {slug!r} already exists")
    group = WorkingGroup(slug=slug, name=name, sector=sector, charter=charter or "", version=1)
    session.add(group)
    await _flush_unique(session, f"working group {slug!r}")
    _record(session, "working_group", group, Operation.CREATE)
    return group


async def _group_and_org(
    session: AsyncSession, group_id: uuid.UUID, org_id: uuid.UUID
) -> tuple[WorkingGroup, Organisation]:
    group = await session.get(WorkingGroup, group_id)
    if group is None:
        raise NotFound("working group", str(group_id))
    org = await session.get(Organisation, org_id)
    if org is None:
        raise NotFound("organisation", str(org_id))
    return group, org


def _role(value: MembershipRole | str) -> MembershipRole:
    check = Checker()
    role = check.choice("role", value, MembershipRole)
    check.raise_if_any()
    assert role is not None
    return role


async def add_working_group_member(
    session: AsyncSession,
    principal: Principal | None,
    *,
    working_group_id: uuid.UUID,
    organisation_id: uuid.UUID,
    role: MembershipRole | str,
) -> Membership:
    seat_role = _role(role)
    group, org = await _group_and_org(session, working_group_id, organisation_id)
    await _require_group_manager(session, principal, group)
    if await repo.membership(session, group.id, org.id) is not None:
        raise Conflict(f"{org.slug!r} is already a member of {group.slug!r}")
    seat = Membership(working_group_id=group.id, organisation_id=org.id, role=seat_role, version=1)
    session.add(seat)
    await _flush_unique(session, f"membership of {org.slug!r} in {group.slug!r}")
    _record(session, "membership", seat, Operation.CREATE)
    return seat


async def _existing_seat(
    session: AsyncSession,
    principal: Principal | None,
    working_group_id: uuid.UUID,
    organisation_id: uuid.UUID,
) -> tuple[WorkingGroup, Organisation, Membership]:
    group, org = await _group_and_org(session, working_group_id, organisation_id)
    await _require_group_manager(session, principal, group)
    seat = await repo.membership(session, group.id, org.id)
    if seat is None:
        raise NotFound("membership", f"{org.slug} in {group.slug}")
    return group, org, seat


async def _keep_a_chair(session: AsyncSession, group: WorkingGroup, seat: Membership) -> None:
    if seat.role == MembershipRole.CHAIR and await repo.count_chairs(session, group.id) <= 1:
        raise Conflict(f"{group.slug!r} must keep at least one chair; appoint another chair first")


async def change_working_group_role(
    session: AsyncSession,
    principal: Principal | None,
    *,
    working_group_id: uuid.UUID,
    organisation_id: uuid.UUID,
    role: MembershipRole | str,
) -> Membership:
    new_role = _role(role)
    group, _org, seat = await _existing_seat(session, principal, working_group_id, organisation_id)
    if seat.role == new_role:
        return seat
    await _keep_a_chair(session, group, seat)
    seat.role = new_role
    seat.version += 1
    await session.flush()
    _record(session, "membership", seat, Operation.UPDATE)
    return seat


async def remove_working_group_member(
    session: AsyncSession,
    principal: Principal | None,
    *,
    working_group_id: uuid.UUID,
    organisation_id: uuid.UUID,
) -> Membership:
    group, _org, seat = await _existing_seat(session, principal, working_group_id, organisation_id)
    await _keep_a_chair(session, group, seat)
    seat.version += 1
    _record(session, "membership", seat, Operation.DELETE)
    await session.delete(seat)
    await session.flush()
    # What it saw through this seat alone leaves its feed with a removal for each object.
    await record_seat_removals(
        session, organisation_id=seat.organisation_id, working_group_id=seat.working_group_id
    )
    return seat
