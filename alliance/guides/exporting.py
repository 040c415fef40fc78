"""A guide as a document (JSON, or the print page's HTML) for its reader, by version and
language: the same tier-cut view every other read path uses."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.errors import NotFound
from alliance.guides import service
from alliance.guides.print import render_page
from alliance.orgs.models import Organisation, WorkingGroup


def view_json(view: service.GuideView) -> dict[str, Any]:
    g = view.guide
    return {
        "id": str(g.id),
        "status": g.status.value,
        "version": view.number,
        "language": view.language,
        "source_language": g.source_language,
        "distribution": g.distribution.value,
        "tlp": g.tlp.value,
        "owner_org_id": str(g.owner_org_id),
        "working_group_id": str(g.working_group_id),
        "translations": view.translations,
        "content": view.content,
        "photos": [
            {
                "id": str(p.id),
                "feature_id": p.feature_id,
                "blob_id": str(p.blob_id),
                "caption": p.caption,
            }
            for p in view.photos
        ],
    }


async def photo_sources(
    session: AsyncSession, view: service.GuideView, settings: Any
) -> dict[uuid.UUID, str]:
    """Thumbnails inlined as data URIs when made, otherwise their URL (the page stays
    printable offline once thumbnails exist)."""
    if not view.photos:
        return {}
    from alliance.blobs import repository as blobs_repo
    from alliance.blobs import service as blobs

    sources = {}
    for photo in view.photos:
        blob = await blobs_repo.blob_by_id(session, photo.blob_id)
        if blob is None:
            continue
        data = await blobs.content(settings, blob, thumbnail=True) if settings else None
        sources[photo.id] = (
            "data:image/jpeg;base64," + base64.b64encode(data).decode()
            if data
            else f"/v1/blobs/{photo.blob_id}/thumbnail"
        )
    return sources


async def print_page(
    session: AsyncSession,
    reader: service.Reader,
    guide_id: uuid.UUID,
    *,
    language: str | None = None,
    version: int | None = None,
    settings: Any = None,
) -> str:
    view = await service.read_guide(session, reader, guide_id, version=version, language=language)
    if view is None or view.version is None:
        raise NotFound("published guide", str(guide_id))
    owner = await session.get(Organisation, view.guide.owner_org_id)
    group = await session.get(WorkingGroup, view.guide.working_group_id)
    return render_page(
        view,
        photo_sources=await photo_sources(session, view, settings),
        owner_name=owner.name if owner else "",
        group_name=group.name if group else "",
    )


async def export_guide(
    session: AsyncSession,
    reader: service.Reader,
    guide_id: uuid.UUID,
    *,
    fmt: str,
    language: str | None = None,
    version: int | None = None,
    settings: Any = None,
) -> str:
    import json

    if fmt == "html":
        return await print_page(
            session, reader, guide_id, language=language, version=version, settings=settings
        )
    view = await service.read_guide(session, reader, guide_id, version=version, language=language)
    if view is None:
        raise NotFound("guide", str(guide_id))
    return json.dumps(view_json(view), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
