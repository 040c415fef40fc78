"""Portable snapshots: an object as JSON-ready data another instance can import, naming
nothing by this instance's internal ids except the object's own (organisations and working
groups go by slug, the indicator by its type and canonical value).

Every snapshot carries ``origin``: the instance, organisation, id and version of the object
where it was first written. For an object written here that is this instance; for one
imported from a peer it is the provenance recorded on import, so an object travelling on
(A → B → C) still names A, and A can recognise its own object and refuse it.

A constant number of queries per call, whatever the number of refs.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.federation import repository as repo
from alliance.federation.models import Provenance
from alliance.guides import repository as guides_repo
from alliance.guides.models import Guide
from alliance.guides.tiers import visible_content
from alliance.indicators.models import IndicatorAssertion
from alliance.orgs.models import Organisation, WorkingGroup
from alliance.rules.models import Rule

ASSERTION_KIND = "indicator.assertion"
RULE_KIND = "rule"
GUIDE_KIND = "guide"
SNAPSHOT_KINDS = frozenset({ASSERTION_KIND, RULE_KIND, GUIDE_KIND})
FORMAT = 1


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _ids(refs: Sequence[tuple[str, str]], kind: str) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for ref_kind, object_id in refs:
        if ref_kind != kind:
            continue
        try:
            ids.append(uuid.UUID(str(object_id)))
        except ValueError:
            continue
    return list(dict.fromkeys(ids))


def _org(org: Organisation | None) -> dict[str, Any] | None:
    return {"slug": org.slug, "name": org.name} if org is not None else None


def _group(group: WorkingGroup | None) -> dict[str, Any] | None:
    return {"slug": group.slug, "name": group.name} if group is not None else None


def _origin(
    instance_id: str | None,
    provenance: Provenance | None,
    owner: Organisation | None,
    object_id: uuid.UUID,
    version: int,
) -> dict[str, Any]:
    if provenance is not None:
        return {
            "instanceId": provenance.origin_instance_id,
            "organisation": {
                "slug": provenance.origin_org_slug,
                "name": provenance.origin_org_name,
            },
            "id": provenance.origin_object_id,
            "version": provenance.origin_version,
        }
    return {
        "instanceId": instance_id,
        "organisation": _org(owner),
        "id": str(object_id),
        "version": version,
    }


async def load_snapshots(
    session: AsyncSession, refs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The current snapshot of each (change-log kind, object id) that has one; kinds without
    snapshots and ids that no longer exist are absent from the result."""
    instance_id = await repo.local_instance_id(session)
    snapshots: dict[tuple[str, str], dict[str, Any]] = {}
    snapshots.update(await _assertions(session, instance_id, _ids(refs, ASSERTION_KIND)))
    snapshots.update(await _rules(session, instance_id, _ids(refs, RULE_KIND)))
    snapshots.update(await _guides(session, instance_id, _ids(refs, GUIDE_KIND)))
    return snapshots


async def _assertions(
    session: AsyncSession, instance_id: str | None, ids: list[uuid.UUID]
) -> dict[tuple[str, str], dict[str, Any]]:
    assertions: list[IndicatorAssertion] = await repo.assertions_by_ids(session, ids)
    if not assertions:
        return {}
    indicator_ids = list({a.indicator_id for a in assertions})
    indicators = {i.id: i for i in await repo.indicators_by_ids(session, indicator_ids)}
    keys: dict[uuid.UUID, list[list[str]]] = defaultdict(list)
    for key in await repo.match_keys_of(session, indicator_ids):
        keys[key.indicator_id].append([key.name, key.value])
    orgs = await repo.organisations_by_ids(session, list({a.owner_org_id for a in assertions}))
    groups = await repo.working_groups_by_ids(
        session, list({a.working_group_id for a in assertions if a.working_group_id})
    )
    provenance = await repo.provenance_of(session, ASSERTION_KIND, [str(a.id) for a in assertions])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for a in assertions:
        indicator = indicators[a.indicator_id]
        owner = orgs.get(a.owner_org_id)
        out[(ASSERTION_KIND, str(a.id))] = {
            "format": FORMAT,
            "kind": ASSERTION_KIND,
            "id": str(a.id),
            "version": a.version,
            "indicator": {
                "type": indicator.type.value,
                # Only the canonical form is kept; it normalises to itself.
                "rawValue": indicator.value,
                "value": indicator.value,
                "matchKeys": keys.get(indicator.id, []),
                "details": dict(indicator.details or {}),
            },
            "confidence": a.confidence,
            "severity": a.severity.value,
            "status": a.status.value,
            "revocationReason": a.revocation_reason.value if a.revocation_reason else None,
            "revocationNote": a.revocation_note,
            "revokedAt": _when(a.revoked_at),
            "validFrom": _when(a.valid_from),
            "validUntil": _when(a.valid_until),
            "firstSeenAt": _when(a.first_seen_at),
            "lastSeenAt": _when(a.last_seen_at),
            "brands": list(a.brands or []),
            "productCategory": a.product_category,
            "tags": list(a.tags or []),
            "description": a.note or "",
            "evidenceLinks": list(a.evidence_links or []),
            "details": dict(a.details or {}),
            "distribution": a.distribution.value,
            "tlp": a.tlp.value,
            "owner": _org(owner),
            "workingGroup": _group(groups.get(a.working_group_id)) if a.working_group_id else None,
            "createdAt": _when(a.created_at),
            "updatedAt": _when(a.updated_at),
            "origin": _origin(instance_id, provenance.get(str(a.id)), owner, a.id, a.version),
        }
    return out


async def _rules(
    session: AsyncSession, instance_id: str | None, ids: list[uuid.UUID]
) -> dict[tuple[str, str], dict[str, Any]]:
    rules: list[Rule] = await repo.rules_by_ids(session, ids)
    if not rules:
        return {}
    wanted: set[tuple[uuid.UUID, int]] = set()
    for r in rules:
        wanted.add((r.id, r.latest_version))
        if r.active_version is not None:
            wanted.add((r.id, r.active_version))
    versions = await repo.rule_versions(session, list(wanted))
    orgs = await repo.organisations_by_ids(session, list({r.owner_org_id for r in rules}))
    groups = await repo.working_groups_by_ids(session, list({r.working_group_id for r in rules}))
    provenance = await repo.provenance_of(session, RULE_KIND, [str(r.id) for r in rules])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rules:
        owner = orgs.get(r.owner_org_id)
        shown = versions.get((r.id, r.active_version)) if r.active_version is not None else None
        shown = shown or versions.get((r.id, r.latest_version))
        out[(RULE_KIND, str(r.id))] = {
            "format": FORMAT,
            "kind": RULE_KIND,
            "id": str(r.id),
            "version": r.version,
            "name": r.name,
            "status": r.status.value,
            "activeVersion": r.active_version,
            "latestVersion": r.latest_version,
            # The version in force, or the latest draft while none is.
            "definition": dict(shown.definition) if shown is not None else None,
            "definitionVersion": shown.number if shown is not None else None,
            "changeNote": shown.change_note if shown is not None else None,
            "activatedAt": _when(shown.activated_at) if shown is not None else None,
            "distribution": r.distribution.value,
            "tlp": r.tlp.value,
            "owner": _org(owner),
            "workingGroup": _group(groups.get(r.working_group_id)),
            "createdAt": _when(r.created_at),
            "updatedAt": _when(r.updated_at),
            "origin": _origin(instance_id, provenance.get(str(r.id)), owner, r.id, r.version),
        }
    return out


async def _guides(
    session: AsyncSession, instance_id: str | None, ids: list[uuid.UUID]
) -> dict[tuple[str, str], dict[str, Any]]:
    """A guide's snapshot is its latest published version only (never a draft), overt
    features only: covert and forensic features never leave this instance, whoever reads the
    snapshot, and neither do photos (their blobs stay here; a feature keeps only its text).
    A guide never published has no snapshot."""
    guides: list[Guide] = (
        [g for g in await guides_repo.guides_by_ids(session, ids) if g.published_version]
        if ids
        else []
    )
    if not guides:
        return {}
    found = await repo.guide_versions(
        session, [(g.id, g.published_version) for g in guides if g.published_version]
    )
    versions = {guide_id: v for (guide_id, _), v in found.items()}
    orgs = await repo.organisations_by_ids(session, list({g.owner_org_id for g in guides}))
    groups = await repo.working_groups_by_ids(session, list({g.working_group_id for g in guides}))
    provenance = await repo.provenance_of(session, GUIDE_KIND, [str(g.id) for g in guides])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for g in guides:
        published = versions.get(g.id)
        if published is None:
            continue
        owner = orgs.get(g.owner_org_id)
        out[(GUIDE_KIND, str(g.id))] = {
            "format": FORMAT,
            "kind": GUIDE_KIND,
            "id": str(g.id),
            "version": g.version,
            "title": g.title,
            "status": g.status.value,
            "publishedVersion": published.number,
            "publishedAt": _when(published.published_at),
            "content": visible_content(published.content, restricted=False),
            "sourceLanguage": g.source_language,
            "distribution": g.distribution.value,
            "tlp": g.tlp.value,
            "owner": _org(owner),
            "workingGroup": _group(groups.get(g.working_group_id)),
            "createdAt": _when(g.created_at),
            "updatedAt": _when(g.updated_at),
            "origin": _origin(instance_id, provenance.get(str(g.id)), owner, g.id, g.version),
        }
    return out
