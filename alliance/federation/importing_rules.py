"""Applying a peer's ``rule`` lines: each copy is a rule of this instance's working group
with the slug the rule's group has on its origin, owned by the peer's local organisation,
FEDERATION + the origin's TLP, written through the rules service (so the listing matcher
and search treat it as any rule). A line whose group does not exist here is skipped, with
its reason counted and logged; it never stops the pull.

The origin is authoritative: its version in force becomes the copy's version in force (a new
local version when it changed, so a version applied here is never rewritten); the origin
retiring the rule retires the copy; a removal or deletion retires it and narrows it to its
owner. Replays and older versions are no-ops; objects that started here are dropped.
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
from alliance.orgs.models import WorkingGroup
from alliance.rules import service as rules
from alliance.rules.definition import RuleStatus, parse_definition
from alliance.rules.models import Rule
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Visibility
from alliance.sync.portable import RULE_KIND
from alliance.taxonomy import repository as taxonomy_repo

log = logging.getLogger(__name__)

NO_GROUP = "NO_WORKING_GROUP"
BAD_DEFINITION = "BAD_DEFINITION"


@dataclass
class RuleBatch:
    """What one batch of rule lines looked up, all at once."""

    copies_by_origin: dict[tuple[str, str], Provenance]
    copies_by_peer_id: dict[str, Provenance]
    objects: dict[str, Rule]
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
) -> RuleBatch:
    peer_ids = [str(line.get("id")) for line in lines]
    slugs = [
        s
        for s in (
            _group_slug(line["object"]) for line in lines if isinstance(line.get("object"), Mapping)
        )
        if s
    ]
    by_origin = await repo.provenance_by_origin(session, RULE_KIND, origins)
    by_peer_id = await repo.provenance_by_peer_object(session, peer.id, RULE_KIND, peer_ids)
    local_ids = {p.local_id for p in (*by_origin.values(), *by_peer_id.values())}
    found = await repo.rules_by_ids(session, [uuid.UUID(i) for i in local_ids])
    categories = set(await taxonomy_repo.category_ids(session)) if lines else None
    return RuleBatch(
        copies_by_origin=by_origin,
        copies_by_peer_id=by_peer_id,
        objects={str(r.id): r for r in found},
        groups=await repo.working_groups_by_slugs(session, slugs),
        known_categories=categories,
    )


def _visibility(rule: Rule) -> Visibility:
    return rules.visibility_of(rule)


def _record(
    session: AsyncSession, rule: Rule, operation: Operation, *, previous: Visibility | None = None
) -> None:
    record_change(
        session,
        kind=RULE_KIND,
        object_id=rule.id,
        version=rule.version,
        operation=operation,
        distribution=rule.distribution,
        tlp=rule.tlp,
        owner_org_id=rule.owner_org_id,
        working_group_id=rule.working_group_id,
        previous=previous,
    )


async def apply(
    session: AsyncSession,
    peer: Peer,
    obj: Mapping[str, Any],
    copy: Provenance | None,
    batch: RuleBatch,
) -> tuple[str, Rule | None, str | None]:
    """Create or bring up to date the copy of this rule snapshot. Returns
    ("CREATED" | "UPDATED" | "REVOKED" | "SKIPPED", the rule, the reason of a skip); the caller
    has checked the line may cross and is newer than the copy."""
    slug = _group_slug(obj)
    group = batch.groups.get(slug) if slug else None
    if group is None:
        log.info("federation: rule %s skipped: no working group %r here", obj.get("id"), slug)
        return "SKIPPED", None, NO_GROUP
    definition = obj.get("definition")
    if not isinstance(definition, Mapping):
        return "SKIPPED", None, BAD_DEFINITION
    try:
        parsed = parse_definition(definition, known_categories=batch.known_categories)
    except InvalidInput:
        log.info("federation: rule %s skipped: its definition is not valid here", obj.get("id"))
        return "SKIPPED", None, BAD_DEFINITION
    status = RuleStatus(obj.get("status", RuleStatus.DRAFT.value))
    note = str(obj.get("changeNote") or "")[:2000]
    wanted = parsed.to_json()
    tlp = TLP(obj.get("tlp"))
    if copy is None:
        rule, _ = await rules.create_rule(
            session,
            None,
            working_group_id=group.id,
            definition=wanted,
            distribution=Distribution.FEDERATION,
            tlp=tlp,
            change_note=note,
            owner_org_id=peer.organisation_id,
        )
        if status != RuleStatus.DRAFT:
            await rules.activate_rule(session, None, rule.id)
        if status == RuleStatus.RETIRED:
            await rules.retire_rule(session, None, rule.id)
        return "CREATED", rule, None
    rule = batch.objects[copy.local_id]
    before = _visibility(rule)
    if (
        rule.distribution != Distribution.FEDERATION
        or rule.tlp != tlp
        or rule.working_group_id != group.id
    ):
        # Shared again after a removal, or re-marked at the origin.
        rule.distribution, rule.tlp, rule.working_group_id = Distribution.FEDERATION, tlp, group.id
        rule.version += 1
        await session.flush()
        _record(session, rule, Operation.UPDATE, previous=before)
    shown_number = rule.active_version if rule.active_version is not None else rule.latest_version
    shown = (await repo.rule_versions(session, [(rule.id, shown_number)])).get(
        (rule.id, shown_number)
    )
    latest = (await repo.rule_versions(session, [(rule.id, rule.latest_version)])).get(
        (rule.id, rule.latest_version)
    )
    same = shown is not None and dict(shown.definition) == wanted
    if status == RuleStatus.RETIRED:
        if rule.status == RuleStatus.ACTIVE:
            await rules.retire_rule(session, None, rule.id)
            return "REVOKED", rule, None
        return "UPDATED", rule, None
    if not same or rule.status != status:
        if not same or (latest is not None and latest.status != RuleStatus.DRAFT):
            await rules.update_rule(session, None, rule.id, definition=wanted, change_note=note)
        if status == RuleStatus.ACTIVE:
            await rules.activate_rule(session, None, rule.id)
    return "UPDATED", rule, None


async def retire_copy(session: AsyncSession, rule: Rule, *, deleted: bool) -> None:
    """The origin deleted the rule or no longer shares it: out of force and narrowed to its
    owner (the peer organisation), the change recorded so local consumers drop it."""
    if rule.status == RuleStatus.ACTIVE:
        await rules.retire_rule(session, None, rule.id)
    before = _visibility(rule)
    rule.distribution = Distribution.ORGANISATION
    rule.version += 1
    await session.flush()
    if deleted:
        # The tombstone reaches whoever saw the copy.
        record_change(
            session,
            kind=RULE_KIND,
            object_id=rule.id,
            version=rule.version,
            operation=Operation.DELETE,
            distribution=before.distribution,
            tlp=before.tlp,
            owner_org_id=before.owner_org_id,
            working_group_id=before.working_group_id,
        )
    else:
        _record(session, rule, Operation.UPDATE, previous=before)
