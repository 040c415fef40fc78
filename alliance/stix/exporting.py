"""STIX exports: the instance's definitions, the organisations, and every assertion a viewer
may see that may leave the instance, as STIX 2.1 objects (a bundle, streamed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.guides.service import Reader
from alliance.guides.tiers import visible_content
from alliance.sharing.policy import Viewer
from alliance.stix import repository as repo
from alliance.stix.conversion import (
    AssertionData,
    Owner,
    RuleData,
    identity_object,
    indicator_object,
    rule_object,
)
from alliance.stix.extensions import Instance, extension_definitions, instance_identity
from alliance.stix.guides import GuideData, guide_object
from alliance.stix.markings import MARKINGS

BATCH = 1000


def definition_objects(instance: Instance) -> list[dict[str, Any]]:
    """What every export carries for reference: the instance's identity, its extension
    definitions, and the TLP marking definitions its objects refer to."""
    return [instance_identity(instance), *extension_definitions(instance), *MARKINGS.values()]


def owner_of(org: Any) -> Owner:
    return Owner(org.id, org.slug, org.name, str(org.kind.value), org.created_at, org.updated_at)


async def guide_objects(
    session: AsyncSession,
    reader: Reader,
    instance: Instance,
    rows: list[tuple[Any, Any, str | None]],
) -> list[dict[str, Any]]:
    """STIX objects of published guides (``repo.page_guides`` rows) as ``reader`` may see them:
    covert and forensic features only when the tier rule lets it see restricted tiers."""
    links = await repo.tell_assertions(session, reader.viewer, [g.id for g, _, _ in rows])
    found = []
    for guide, version, slug in rows:
        content = visible_content(version.content, restricted=reader.sees_restricted(guide))
        shown = {f.get("id") for f in content.get("features", [])}
        refs = [assertion for tell, assertion in links[guide.id] if tell in shown]
        data = GuideData.of(guide, version, content, working_group_slug=slug, indicator_ids=refs)
        found.append(guide_object(instance, data))
    return found


async def export_objects(
    session: AsyncSession,
    viewer: Viewer,
    instance: Instance,
    scope: repo.Scope,
    reader: Reader | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """``reader``: how guides are read (the tier rule); by default the viewer without
    enforcement or review rights, who never sees restricted tiers."""
    for obj in definition_objects(instance):
        yield obj
    for org in await repo.organisations(session):
        yield identity_object(instance, owner_of(org))
    cursor = None
    while True:
        rows = await repo.page_assertions(
            session,
            viewer,
            scope,
            after=cursor,
            added_after=None,
            ids=None,
            versions=None,
            limit=BATCH,
        )
        for row in rows:
            yield indicator_object(instance, AssertionData.of(row))
        if len(rows) < BATCH:
            break
        last = rows[-1]
        cursor = repo.AssertionCursor(last.updated_at, last.id)
    after = None
    while True:
        rules = await repo.page_rules(
            session,
            viewer,
            scope,
            after=after,
            added_after=None,
            ids=None,
            versions=None,
            limit=BATCH,
        )
        for rule, version in rules:
            yield rule_object(instance, RuleData.of(rule, version))
        if len(rules) < BATCH:
            break
        after = repo.AssertionCursor(rules[-1][0].updated_at, rules[-1][0].id)
    guide_reader = reader or Reader(viewer)
    after = None
    while True:
        guides = await repo.page_guides(
            session,
            viewer,
            scope,
            after=after,
            added_after=None,
            ids=None,
            versions=None,
            limit=BATCH,
        )
        for obj in await guide_objects(session, guide_reader, instance, guides):
            yield obj
        if len(guides) < BATCH:
            return
        after = repo.AssertionCursor(guides[-1][0].updated_at, guides[-1][0].id)


async def bundle_text(objects: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    """A STIX bundle as text, one object a line, without holding the objects."""
    yield json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}"})[:-1] + ', "objects": [\n'
    first = True
    async for obj in objects:
        yield ("" if first else ",\n") + json.dumps(obj, ensure_ascii=False)
        first = False
    yield "\n]}\n"
