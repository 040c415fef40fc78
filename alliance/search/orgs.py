"""Organisations and working groups as search documents (the alliance directory)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.orgs import repository as repo
from alliance.orgs.service import DIRECTORY_DISTRIBUTION, DIRECTORY_TLP
from alliance.search.documents import SearchDocument, register

ORGANISATION = "organisation"
WORKING_GROUP = "working_group"


def _uuids(object_ids: Sequence[str]) -> list[uuid.UUID]:
    found = []
    for raw in object_ids:
        try:
            found.append(uuid.UUID(raw))
        except ValueError:
            continue
    return found


async def organisation_documents(
    session: AsyncSession, object_ids: Sequence[str]
) -> list[SearchDocument]:
    return [
        SearchDocument(
            kind=ORGANISATION,
            object_id=str(org.id),
            title=org.name,
            body=" ".join(filter(None, [org.kind.value.lower().replace("_", " "), org.country])),
            keywords=(org.slug,),
            type=org.kind.value,
            status="VERIFIED" if org.verified else "UNVERIFIED",
            updated_at=org.updated_at,
            # The directory's visibility, as its change-log rows record it.
            distribution=DIRECTORY_DISTRIBUTION,
            tlp=DIRECTORY_TLP,
        )
        for org in await repo.organisations_by_ids(session, _uuids(object_ids))
    ]


async def working_group_documents(
    session: AsyncSession, object_ids: Sequence[str]
) -> list[SearchDocument]:
    return [
        SearchDocument(
            kind=WORKING_GROUP,
            object_id=str(group.id),
            title=group.name,
            body=f"{group.sector}\n{group.charter}".strip(),
            keywords=(group.slug,),
            type=group.sector,
            updated_at=group.updated_at,
            distribution=DIRECTORY_DISTRIBUTION,
            tlp=DIRECTORY_TLP,
            working_group_id=group.id,
        )
        for group in await repo.working_groups_by_ids(session, _uuids(object_ids))
    ]


async def _list_organisations(
    session: AsyncSession, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    page = await repo.page_organisations(session, kinds=None, after=after, limit=limit)
    last = page.items[-1].slug if page.items and page.has_next_page else None
    return [str(o.id) for o in page.items], last


async def _list_working_groups(
    session: AsyncSession, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    page = await repo.page_working_groups(session, after=after, limit=limit)
    last = page.items[-1].slug if page.items and page.has_next_page else None
    return [str(g.id) for g in page.items], last


register(ORGANISATION, organisation_documents, _list_organisations)
register(WORKING_GROUP, working_group_documents, _list_working_groups)
