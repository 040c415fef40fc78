"""Indicator assertions as search documents: one per live assertion, under its own visibility
(the indicator itself has none; a viewer sees it through the assertions it may see)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.indicators import repository as repo
from alliance.indicators.service import ASSERTION_KIND
from alliance.search.documents import SearchDocument, register


def _uuids(object_ids: Sequence[str]) -> list[uuid.UUID]:
    found = []
    for raw in object_ids:
        try:
            found.append(uuid.UUID(raw))
        except ValueError:
            continue
    return found


def _strings(values: object) -> list[str]:
    if isinstance(values, dict):
        return [v for v in values.values() if isinstance(v, str) and v]
    return []


async def assertion_documents(
    session: AsyncSession, object_ids: Sequence[str]
) -> list[SearchDocument]:
    # Revoked and expired assertions are gone from search: the indexer deletes them.
    live = [
        a
        for a in await repo.assertions_by_ids(session, _uuids(object_ids))
        if a.status in repo.LIVE_STATUSES
    ]
    indicators = {
        i.id: i for i in await repo.indicators_by_ids(session, list({a.indicator_id for a in live}))
    }
    documents = []
    for a in live:
        indicator = indicators.get(a.indicator_id)
        if indicator is None:
            continue
        # The submitted form the normaliser reported, beside the normalised value.
        submitted = [v for v in _strings(a.details) if v != indicator.value]
        documents.append(
            SearchDocument(
                kind=ASSERTION_KIND,
                object_id=str(a.id),
                title=indicator.value,
                body="\n".join(filter(None, [a.note, *submitted])),
                keywords=tuple(dict.fromkeys([indicator.value, *a.tags])),
                type=indicator.type.value,
                status=a.status.value,
                brands=tuple(a.brands),
                updated_at=a.updated_at,
                distribution=a.distribution,
                tlp=a.tlp,
                owner_org_id=a.owner_org_id,
                working_group_id=a.working_group_id,
            )
        )
    return documents


async def _list_assertions(
    session: AsyncSession, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    rows = await repo.live_assertions_after(session, uuid.UUID(after) if after else None, limit)
    ids = [str(a.id) for a, _ in rows]
    return ids, ids[-1] if len(ids) == limit else None


register(ASSERTION_KIND, assertion_documents, _list_assertions)
