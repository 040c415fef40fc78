"""All SQL of the organisations domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.orgs.models import (
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    Person,
    WorkingGroup,
)
from alliance.pagination import Page, count, keyset_page


def organisations_query(
    kinds: Sequence[OrganisationKind] | None = None,
) -> Select[tuple[Organisation]]:
    stmt = select(Organisation)
    if kinds:
        stmt = stmt.where(Organisation.kind.in_(kinds))
    return stmt


async def page_organisations(
    session: AsyncSession,
    *,
    kinds: Sequence[OrganisationKind] | None,
    after: str | None,
    limit: int,
) -> Page[Organisation]:
    return await keyset_page(
        session, organisations_query(kinds), Organisation.slug, after=after, limit=limit
    )


async def count_organisations(
    session: AsyncSession, *, kinds: Sequence[OrganisationKind] | None
) -> int:
    return await count(session, organisations_query(kinds))


async def organisations_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[Organisation]:
    return list(await session.scalars(select(Organisation).where(Organisation.id.in_(ids))))


async def organisation_by_slug(session: AsyncSession, slug: str) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.slug == slug))


async def slug_taken(
    session: AsyncSession, model: type[Organisation] | type[WorkingGroup], slug: str
) -> bool:
    return bool(await session.scalar(select(func.count()).where(model.slug == slug)))


def working_groups_query() -> Select[tuple[WorkingGroup]]:
    return select(WorkingGroup)


async def page_working_groups(
    session: AsyncSession, *, after: str | None, limit: int
) -> Page[WorkingGroup]:
    return await keyset_page(
        session, working_groups_query(), WorkingGroup.slug, after=after, limit=limit
    )


async def count_working_groups(session: AsyncSession) -> int:
    return await count(session, working_groups_query())


async def working_groups_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[WorkingGroup]:
    return list(await session.scalars(select(WorkingGroup).where(WorkingGroup.id.in_(ids))))


async def working_group_by_slug(session: AsyncSession, slug: str) -> WorkingGroup | None:
    return await session.scalar(select(WorkingGroup).where(WorkingGroup.slug == slug))


async def membership(
    session: AsyncSession, group_id: uuid.UUID, org_id: uuid.UUID
) -> Membership | None:
    return await session.scalar(
        select(Membership).where(
            Membership.working_group_id == group_id, Membership.organisation_id == org_id
        )
    )


async def memberships_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Membership]:
    return list(await session.scalars(select(Membership).where(Membership.id.in_(ids))))


async def count_chairs(session: AsyncSession, group_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                Membership.working_group_id == group_id, Membership.role == MembershipRole.CHAIR
            )
        )
        or 0
    )


async def memberships_of_organisation(session: AsyncSession, org_id: uuid.UUID) -> list[Membership]:
    return list(
        await session.scalars(select(Membership).where(Membership.organisation_id == org_id))
    )


async def windowed_memberships(
    session: AsyncSession,
    *,
    owner_column: str,
    owner_ids: Sequence[uuid.UUID],
    after: uuid.UUID | None,
    limit: int,
) -> dict[uuid.UUID, tuple[list[Membership], int]]:
    """For each owner (a group or an organisation), its first ``limit`` memberships after ``after``
    by id, plus its total number of memberships, in two queries whatever the number of owners."""
    owner = getattr(Membership, owner_column)
    filtered = select(Membership.id).where(owner.in_(owner_ids))
    if after is not None:
        filtered = filtered.where(Membership.id > after)
    ranked = (
        select(
            Membership.id.label("mid"),
            func.row_number().over(partition_by=owner, order_by=Membership.id).label("rank"),
        )
        .where(owner.in_(owner_ids), Membership.id.in_(filtered))
        .subquery()
    )
    rows = await session.scalars(
        select(Membership)
        .join(ranked, ranked.c.mid == Membership.id)
        .where(ranked.c.rank <= limit + 1)
        .order_by(owner, Membership.id)
    )
    counted = await session.execute(
        select(owner, func.count()).where(owner.in_(owner_ids)).group_by(owner)
    )
    totals: dict[uuid.UUID, int] = {row[0]: row[1] for row in counted}
    result: dict[uuid.UUID, tuple[list[Membership], int]] = {
        oid: ([], totals.get(oid, 0)) for oid in owner_ids
    }
    for row in rows:
        result[getattr(row, owner_column)][0].append(row)
    return result


async def person_by_email(session: AsyncSession, email: str) -> Person | None:
    return await session.scalar(
        select(Person).where(func.lower(Person.email) == email.strip().lower())
    )


async def people_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Person]:
    return list(await session.scalars(select(Person).where(Person.id.in_(ids))))


def people_query(organisation_id: uuid.UUID) -> Select[tuple[Person]]:
    return select(Person).where(Person.organisation_id == organisation_id)


async def page_people(
    session: AsyncSession, organisation_id: uuid.UUID, *, after: str | None, limit: int
) -> Page[Person]:
    """An organisation's people by e-mail address (unique)."""
    return await keyset_page(
        session, people_query(organisation_id), Person.email, after=after, limit=limit
    )


async def count_people(session: AsyncSession, organisation_id: uuid.UUID) -> int:
    return await count(session, people_query(organisation_id))


async def count_enabled_admins(session: AsyncSession, organisation_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                Person.organisation_id == organisation_id,
                Person.org_admin.is_(True),
                Person.disabled.is_(False),
            )
        )
        or 0
    )


async def lock_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> None:
    """Hold the organisation's row until the transaction ends (PostgreSQL; SQLite has one
    writer at a time anyway), so checks over its people are not raced."""
    await session.execute(
        select(Organisation.id).where(Organisation.id == organisation_id).with_for_update()
    )
