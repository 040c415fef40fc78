"""Applying a peer's ``guide`` lines: each copy is a published guide of this instance's
working group with the slug the guide's group has on its origin, owned by the peer's local
organisation, FEDERATION + the origin's TLP, written through the guides service. A line whose
group does not exist here is skipped, with its reason counted and logged.

The snapshot is the origin's latest published version, overt features only (see
alliance/sync/portable.py). A newer published version at the origin becomes a new published
version here (the one before is superseded, never rewritten); archived at the origin, removed
or deleted, the copy is archived. Tells are not compiled into indicators here: the origin's
indicators federate themselves.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.errors import InvalidInput
from alliance.federation import repository as repo
from alliance.federation.models import Peer, Provenance
from alliance.guides import repository as guides_repo
from alliance.guides import service as guides
from alliance.guides.models import Guide, GuideStatus
from alliance.guides.sections import parse_content
from alliance.guides.tiers import visible_content
from alliance.orgs.models import WorkingGroup
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Visibility
from alliance.sync.portable import GUIDE_KIND
from alliance.taxonomy import repository as taxonomy_repo

log = logging.getLogger(__name__)

NO_GROUP = "NO_WORKING_GROUP"
BAD_CONTENT = "BAD_CONTENT"


@dataclass
class GuideBatch:
    copies_by_origin: dict[tuple[str, str], Provenance]
    copies_by_peer_id: dict[str, Provenance]
    objects: dict[str, Guide]
    groups: dict[str, WorkingGroup]
    known_categories: set[int] | None


def _group_slug(obj: Mapping[str, Any]) -> str | None:
    group = obj.get("workingGroup")
    slug = group.get("slug") if isinstance(group, Mapping) else None
    return str(slug)[:63] if slug else None


async def look_up(
    session: AsyncSession,
    peer: Peer,
    lines: Sequence[Mapping[str, Any]],
    origins: list[tuple[str, str]],
) -> GuideBatch:
    peer_ids = [str(line.get("id")) for line in lines]
    slugs = [
        s
        for s in (
            _group_slug(line["object"]) for line in lines if isinstance(line.get("object"), Mapping)
        )
        if s
    ]
    by_origin = await repo.provenance_by_origin(session, GUIDE_KIND, origins)
    by_peer_id = await repo.provenance_by_peer_object(session, peer.id, GUIDE_KIND, peer_ids)
    local_ids = [uuid.UUID(p.local_id) for p in (*by_origin.values(), *by_peer_id.values())]
    found = await guides_repo.guides_by_ids(session, list(set(local_ids)))
    return GuideBatch(
        copies_by_origin=by_origin,
        copies_by_peer_id=by_peer_id,
        objects={str(g.id): g for g in found},
        groups=await repo.working_groups_by_slugs(session, slugs),
        known_categories=await taxonomy_repo.category_ids(session),
    )


def _record(
    session: AsyncSession, guide: Guide, operation: Operation, *, shown: Visibility | None = None
) -> None:
    visibility = shown or guides.visibility_of(guide)
    record_change(
        session,
        kind=GUIDE_KIND,
        object_id=guide.id,
        version=guide.version,
        operation=operation,
        distribution=visibility.distribution,
        tlp=visibility.tlp,
        owner_org_id=visibility.owner_org_id,
        working_group_id=visibility.working_group_id,
    )


async def _publish(session: AsyncSession, guide_id: uuid.UUID) -> None:
    await guides.submit_for_review(session, None, guide_id)
    await guides.approve(session, None, guide_id)
    await guides.publish(session, None, guide_id, compile_tells=False)


async def apply(
    session: AsyncSession,
    peer: Peer,
    obj: Mapping[str, Any],
    copy: Provenance | None,
    batch: GuideBatch,
) -> tuple[str, Guide | None, str | None]:
    """Create or bring up to date the copy of this guide snapshot; the caller has checked
    the line may cross and is newer than the copy."""
    slug = _group_slug(obj)
    group = batch.groups.get(slug) if slug else None
    if group is None:
        log.info("federation: guide %s skipped: no working group %r here", obj.get("id"), slug)
        return "SKIPPED", None, NO_GROUP
    content = obj.get("content")
    if not isinstance(content, Mapping):
        return "SKIPPED", None, BAD_CONTENT
    try:
        parsed = parse_content(content, known_categories=batch.known_categories)
    except InvalidInput:
        log.info("federation: guide %s skipped: its content is not valid here", obj.get("id"))
        return "SKIPPED", None, BAD_CONTENT
    # Defence in depth: restricted tiers never enter from a peer either.
    parsed = visible_content(parsed, restricted=False)
    archived = obj.get("status") == GuideStatus.ARCHIVED.value
    tlp = TLP(obj.get("tlp"))
    language = str(obj.get("sourceLanguage") or "en")[:16]
    if copy is None:
        guide = await guides.create_guide(
            session,
            None,
            working_group_id=group.id,
            content=parsed,
            source_language=language,
            distribution=Distribution.FEDERATION,
            tlp=tlp,
            owner_org_id=peer.organisation_id,
        )
        await _publish(session, guide.id)
        if archived:
            await guides.archive(session, None, guide.id)
        return "CREATED", guide, None
    guide = batch.objects[copy.local_id]
    before = guides.visibility_of(guide)
    if (guide.distribution, guide.tlp, guide.working_group_id) != (
        Distribution.FEDERATION,
        tlp,
        group.id,
    ):
        guide.distribution, guide.tlp, guide.working_group_id = (
            Distribution.FEDERATION,
            tlp,
            group.id,
        )
        guide.version += 1
        await session.flush()
        record_change(
            session,
            kind=GUIDE_KIND,
            object_id=guide.id,
            version=guide.version,
            operation=Operation.UPDATE,
            distribution=guide.distribution,
            tlp=guide.tlp,
            owner_org_id=guide.owner_org_id,
            working_group_id=guide.working_group_id,
            previous=before,
        )
    if archived:
        if guide.status != GuideStatus.ARCHIVED:
            await guides.archive(session, None, guide.id)
            return "REVOKED", guide, None
        return "UNCHANGED", guide, None
    published = (
        await repo.guide_versions(session, [(guide.id, guide.published_version)])
        if guide.published_version
        else {}
    )
    current = next(iter(published.values()), None)
    if (
        current is not None
        and dict(current.content) == parsed
        and guide.status != GuideStatus.ARCHIVED
    ):
        return "UPDATED", guide, None
    if guide.status == GuideStatus.ARCHIVED:
        # Shared again after it left: the copy reopens to take the origin's version.
        guide.status = GuideStatus.DRAFT
    await guides.update_draft(session, None, guide.id, content=parsed)
    await _publish(session, guide.id)
    return "UPDATED", guide, None


async def retire_copy(session: AsyncSession, guide: Guide, *, deleted: bool) -> None:
    """Removed or deleted at the origin: archived and narrowed to its owner, the change
    recorded so local consumers drop it."""
    if guide.status != GuideStatus.ARCHIVED:
        await guides.archive(session, None, guide.id)
    before = guides.visibility_of(guide)
    guide.distribution = Distribution.ORGANISATION
    guide.version += 1
    await session.flush()
    if deleted:
        _record(session, guide, Operation.DELETE, shown=before)
    else:
        record_change(
            session,
            kind=GUIDE_KIND,
            object_id=guide.id,
            version=guide.version,
            operation=Operation.UPDATE,
            distribution=guide.distribution,
            tlp=guide.tlp,
            owner_org_id=guide.owner_org_id,
            working_group_id=guide.working_group_id,
            previous=before,
        )
