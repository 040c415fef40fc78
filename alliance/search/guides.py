"""Guides as search documents: the published version, under the guide's visibility, holding
only what every reader of the guide may see — never covert or forensic features' text (the
search filter knows visibility, not tiers, so the tiers are cut before indexing).

Translations are searched too, but only those that render the published version's overt
sections as they are now: an outdated one may hold text since moved into a covert feature."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.guides import repository as repo
from alliance.guides.models import GuideStatus, GuideTranslation
from alliance.guides.sections import fingerprint, translatable
from alliance.guides.service import GUIDE_KIND
from alliance.guides.tiers import hidden_feature_ids, visible_content
from alliance.search.documents import SearchDocument, register


def _uuids(object_ids: Sequence[str]) -> list[uuid.UUID]:
    found = []
    for raw in object_ids:
        try:
            found.append(uuid.UUID(raw))
        except ValueError:
            continue
    return found


async def guide_documents(session: AsyncSession, object_ids: Sequence[str]) -> list[SearchDocument]:
    # Drafts and archived guides are not searched: the indexer deletes their documents.
    guides = [
        g
        for g in await repo.guides_by_ids(session, _uuids(object_ids))
        if g.published_version is not None and g.status != GuideStatus.ARCHIVED
    ]
    published = await repo.published_versions(session, guides)
    translations = await repo.translations_of_guides(session, [g.id for g in guides])
    documents = []
    for guide in guides:
        version = published.get(guide.id)
        if version is None:
            continue
        content = visible_content(version.content, restricted=False)
        features = [f"{f['title']}\n{f['text']}" for f in content["features"]]
        body = [
            content.get(name, "")
            for name in ("summary", "packaging", "labels", "price_guidance", "test_buy_notes")
        ]
        documents.append(
            SearchDocument(
                kind=GUIDE_KIND,
                object_id=str(guide.id),
                title=content["title"],
                body="\n".join(
                    filter(
                        None,
                        [*body, *features, *current_overt(version.content, translations[guide.id])],
                    )
                ),
                keywords=tuple(dict.fromkeys([*content["product_lines"], *content["gtins"]])),
                type="guide",
                status=guide.status.value,
                brands=tuple(content["brands"]),
                language=guide.source_language,
                updated_at=guide.updated_at,
                distribution=guide.distribution,
                tlp=guide.tlp,
                owner_org_id=guide.owner_org_id,
                working_group_id=guide.working_group_id,
            )
        )
    return documents


def current_overt(content: dict, rows: Sequence[GuideTranslation]) -> list[str]:
    """The text of the translations that render an overt section of ``content`` as it is."""
    sources = translatable(content)
    hidden = hidden_feature_ids(content, restricted=False)
    return [
        text
        for row in rows
        if row.section in sources
        and row.section.removeprefix("feature:") not in hidden
        and row.source_hash == fingerprint(sources[row.section])
        for text in row.content.values()
        if isinstance(text, str)
    ]


async def _list_guides(
    session: AsyncSession, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    rows = await repo.guides_after(session, uuid.UUID(after) if after else None, limit)
    ids = [str(g.id) for g in rows]
    return ids, ids[-1] if len(ids) == limit else None


register(GUIDE_KIND, guide_documents, _list_guides)
