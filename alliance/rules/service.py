"""Banned-category rules: proposing, editing, activating and retiring — the only writers.

A rule is proposed in a working group by one of its chairs or members (``can_contribute``)
and starts as draft version 1. Editing changes the draft; editing a rule whose latest
version is active or retired opens a new draft version, so a version partners applied is
never changed. Activation (by a chair of the group, or an operator) makes the latest draft
the version in force and retires the one before; retiring takes the rule out of force.

``principal`` is the caller; ``None`` is the local operator (CLI, demo), who names the
owning organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.principal import Principal
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.db import utcnow
from alliance.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.observability.context import current_actor
from alliance.orgs.models import MembershipRole, Organisation, WorkingGroup
from alliance.rules import repository as repo
from alliance.rules.definition import RuleDefinition, RuleStatus, parse_definition
from alliance.rules.models import Rule, RuleVersion
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, Visibility, can_contribute, can_see
from alliance.sharing.service import load_viewer
from alliance.taxonomy import repository as taxonomy_repo

RULE_KIND = "rule"
OPERATOR_SCOPE = "admin"
WRITE_SCOPE = "rules:write"


def visibility_of(rule: Rule) -> Visibility:
    return Visibility(rule.owner_org_id, rule.working_group_id, rule.distribution, rule.tlp)


def _record(session: AsyncSession, rule: Rule, operation: Operation) -> None:
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
    )


def _is_operator(principal: Principal | None) -> bool:
    return principal is None or principal.has_scope(OPERATOR_SCOPE)


async def _definition(session: AsyncSession, data: Mapping[str, Any]) -> RuleDefinition:
    known = await taxonomy_repo.category_ids(session) if data.get("category_ids") else None
    return parse_definition(data, known_categories=known)


def _visibility_input(distribution: Distribution | str, tlp: TLP | str) -> tuple[Distribution, TLP]:
    problems = []
    try:
        dist = Distribution(distribution)
    except ValueError:
        problems.append(FieldProblem(("distribution",), "INVALID_CHOICE", "not a distribution"))
    try:
        marking = TLP(tlp)
    except ValueError:
        problems.append(FieldProblem(("tlp",), "INVALID_CHOICE", "not a TLP marking"))
    if problems:
        raise InvalidInput(problems)
    return dist, marking


async def visible_rule(session: AsyncSession, viewer: Viewer, rule_id: uuid.UUID) -> Rule:
    rule = await repo.rule_for_update(session, rule_id)
    if rule is None or not can_see(viewer, visibility_of(rule)):
        raise NotFound("rule", str(rule_id))
    return rule


async def _viewer(session: AsyncSession, principal: Principal | None) -> Viewer | None:
    return None if principal is None else await load_viewer(session, principal)


def _require_contributor(principal: Principal | None, viewer: Viewer | None, rule: Rule) -> None:
    if principal is None:
        return
    if not (principal.has_scope(WRITE_SCOPE) or principal.has_scope(OPERATOR_SCOPE)):
        raise Forbidden(f"requires the {WRITE_SCOPE!r} scope")
    assert viewer is not None
    if not can_contribute(viewer, rule.working_group_id):
        raise Forbidden("only chairs and members of the rule's working group edit its rules")


def _require_chair(principal: Principal | None, viewer: Viewer | None, rule: Rule) -> None:
    if _is_operator(principal):
        return
    assert viewer is not None
    if viewer.role_in(rule.working_group_id) != MembershipRole.CHAIR:
        raise Forbidden("only a chair of the rule's working group (or an operator) does this")


async def create_rule(
    session: AsyncSession,
    principal: Principal | None,
    *,
    working_group_id: uuid.UUID,
    definition: Mapping[str, Any],
    distribution: Distribution | str = Distribution.ALLIANCE,
    tlp: TLP | str = TLP.GREEN,
    change_note: str = "",
    owner_org_id: uuid.UUID | None = None,
) -> tuple[Rule, RuleVersion]:
    dist, marking = _visibility_input(distribution, tlp)
    parsed = await _definition(session, definition)
    group = await session.get(WorkingGroup, working_group_id)
    if group is None:
        raise NotFound("working group", str(working_group_id))
    if principal is not None:
        owner = principal.organisation_id
    elif owner_org_id is None or await session.get(Organisation, owner_org_id) is None:
        raise NotFound("organisation", str(owner_org_id))
    else:
        owner = owner_org_id
    rule = Rule(
        name=parsed.name,
        owner_org_id=owner,
        working_group_id=group.id,
        distribution=dist,
        tlp=marking,
        status=RuleStatus.DRAFT,
        active_version=None,
        latest_version=1,
        version=1,
    )
    _require_contributor(principal, await _viewer(session, principal), rule)
    session.add(rule)
    await session.flush()
    draft = _new_version(rule, 1, parsed, change_note)
    session.add(draft)
    await session.flush()
    _record(session, rule, Operation.CREATE)
    return rule, draft


def _new_version(rule: Rule, number: int, parsed: RuleDefinition, note: str) -> RuleVersion:
    now = utcnow()
    return RuleVersion(
        rule_id=rule.id,
        number=number,
        status=RuleStatus.DRAFT,
        definition=parsed.to_json(),
        change_note=note.strip()[:2000],
        author=current_actor(),
        created_at=now,
        updated_at=now,
    )


def _expect(rule: Rule, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != rule.version:
        raise Conflict(
            f"the rule is at version {rule.version}, not {expected_version}; reload and retry"
        )


async def update_rule(
    session: AsyncSession,
    principal: Principal | None,
    rule_id: uuid.UUID,
    *,
    definition: Mapping[str, Any],
    change_note: str = "",
    expected_version: int | None = None,
) -> tuple[Rule, RuleVersion]:
    """Change the draft, or open a new draft when the latest version is active or retired."""
    viewer = await _viewer(session, principal)
    rule = await visible_rule(session, viewer, rule_id) if viewer else await _get(session, rule_id)
    _require_contributor(principal, viewer, rule)
    _expect(rule, expected_version)
    parsed = await _definition(session, definition)
    latest = await repo.version(session, rule.id, rule.latest_version)
    assert latest is not None
    if latest.status == RuleStatus.DRAFT:
        latest.definition = parsed.to_json()
        latest.change_note = change_note.strip()[:2000] or latest.change_note
        latest.updated_at = utcnow()
        draft = latest
    else:
        rule.latest_version += 1
        draft = _new_version(rule, rule.latest_version, parsed, change_note)
        session.add(draft)
    if rule.status == RuleStatus.DRAFT:
        rule.name = parsed.name
    rule.version += 1
    await session.flush()
    _record(session, rule, Operation.UPDATE)
    return rule, draft


async def _get(session: AsyncSession, rule_id: uuid.UUID) -> Rule:
    rule = await repo.rule_for_update(session, rule_id)
    if rule is None:
        raise NotFound("rule", str(rule_id))
    return rule


async def activate_rule(
    session: AsyncSession,
    principal: Principal | None,
    rule_id: uuid.UUID,
    *,
    expected_version: int | None = None,
) -> tuple[Rule, RuleVersion]:
    viewer = await _viewer(session, principal)
    rule = await visible_rule(session, viewer, rule_id) if viewer else await _get(session, rule_id)
    if principal is not None and not (
        principal.has_scope(WRITE_SCOPE) or principal.has_scope(OPERATOR_SCOPE)
    ):
        raise Forbidden(f"requires the {WRITE_SCOPE!r} scope")
    _require_chair(principal, viewer, rule)
    _expect(rule, expected_version)
    draft = await repo.version(session, rule.id, rule.latest_version)
    assert draft is not None
    if draft.status != RuleStatus.DRAFT:
        raise Conflict(f"version {draft.number} is {draft.status.value}; there is no draft")
    now = utcnow()
    if rule.active_version is not None:
        previous = await repo.version(session, rule.id, rule.active_version)
        if previous is not None:
            previous.status = RuleStatus.RETIRED
            previous.retired_at = now
    draft.status = RuleStatus.ACTIVE
    draft.activated_at = now
    draft.activated_by = current_actor()
    rule.status = RuleStatus.ACTIVE
    rule.active_version = draft.number
    rule.name = str(draft.definition.get("name") or rule.name)
    rule.version += 1
    await session.flush()
    _record(session, rule, Operation.UPDATE)
    return rule, draft


async def retire_rule(
    session: AsyncSession,
    principal: Principal | None,
    rule_id: uuid.UUID,
    *,
    expected_version: int | None = None,
) -> Rule:
    viewer = await _viewer(session, principal)
    rule = await visible_rule(session, viewer, rule_id) if viewer else await _get(session, rule_id)
    if principal is not None and not (
        principal.has_scope(WRITE_SCOPE) or principal.has_scope(OPERATOR_SCOPE)
    ):
        raise Forbidden(f"requires the {WRITE_SCOPE!r} scope")
    _require_chair(principal, viewer, rule)
    _expect(rule, expected_version)
    if rule.status != RuleStatus.ACTIVE or rule.active_version is None:
        raise Conflict("only an active rule is retired")
    current = await repo.version(session, rule.id, rule.active_version)
    if current is not None:
        current.status = RuleStatus.RETIRED
        current.retired_at = utcnow()
    rule.status = RuleStatus.RETIRED
    rule.active_version = None
    rule.version += 1
    await session.flush()
    _record(session, rule, Operation.REVOKE)
    return rule


def definition_of(version: RuleVersion) -> RuleDefinition:
    """A stored definition, read back (stored definitions were validated when written)."""
    return parse_definition(version.definition)
