"""The rule workflow on both databases: draft, activate, edit into a new version, retire."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance.rules import repository as repo
from alliance.rules import service
from alliance.rules.definition import RuleStatus
from alliance.sharing import Distribution
from alliance.taxonomy.service import import_taxonomy
from alliance.taxonomy.tree import packaged_taxonomy_lines, parse_taxonomy
from tests.alliance.rules.builders import AIRBAG_DEFINITION, principal_for


@pytest.fixture
async def world(session: AsyncSession, demo: dict[str, Any]) -> dict[str, Any]:
    await import_taxonomy(session, None, parse_taxonomy(packaged_taxonomy_lines()))
    orgs, groups = demo["orgs"], demo["groups"]
    return {
        "group": groups["automotive-parts"],
        "member": principal_for(orgs["shopmart"]),
        "chair": principal_for(orgs["acme-motors"]),
        "observer": principal_for(orgs["alliance-office"], "rules:write"),
        "outsider": principal_for(orgs["luxe-house"]),
    }


async def _changes(session: AsyncSession, rule_id: Any) -> list[tuple[int, Operation]]:
    await session.flush()
    rows = await session.scalars(
        select(ChangeLogEntry)
        .where(ChangeLogEntry.kind == "rule", ChangeLogEntry.object_id == str(rule_id))
        .order_by(ChangeLogEntry.seq)
    )
    return [(r.version, r.operation) for r in rows]


async def test_the_workflow_keeps_versions_in_force_immutable(
    session: AsyncSession, world: dict[str, Any]
) -> None:
    rule, draft = await service.create_rule(
        session, world["member"], working_group_id=world["group"].id, definition=AIRBAG_DEFINITION
    )
    assert (rule.status, draft.number, draft.status) == (RuleStatus.DRAFT, 1, RuleStatus.DRAFT)
    with pytest.raises(Forbidden):
        await service.activate_rule(session, world["member"], rule.id)  # members propose
    rule, active = await service.activate_rule(session, world["chair"], rule.id)
    assert (rule.status, rule.active_version, active.status) == (
        RuleStatus.ACTIVE,
        1,
        RuleStatus.ACTIVE,
    )
    stricter = {**AIRBAG_DEFINITION, "jurisdictions": ["DE"]}
    rule, second = await service.update_rule(
        session, world["member"], rule.id, definition=stricter, change_note="Germany only"
    )
    assert (second.number, rule.active_version) == (2, 1)
    first = await repo.version(session, rule.id, 1)
    assert first is not None
    assert first.definition["jurisdictions"] == []
    rule, _ = await service.activate_rule(session, world["chair"], rule.id)
    first = await repo.version(session, rule.id, 1)
    assert first is not None
    assert (rule.active_version, first.status) == (2, RuleStatus.RETIRED)
    rule = await service.retire_rule(session, world["chair"], rule.id)
    assert (rule.status, rule.active_version) == (RuleStatus.RETIRED, None)
    await session.commit()
    assert await _changes(session, rule.id) == [
        (1, Operation.CREATE),
        (2, Operation.UPDATE),
        (3, Operation.UPDATE),
        (4, Operation.UPDATE),
        (5, Operation.REVOKE),
    ]


async def test_observers_and_strangers_do_not_write(
    session: AsyncSession, world: dict[str, Any]
) -> None:
    with pytest.raises(Forbidden):
        await service.create_rule(
            session,
            world["observer"],
            working_group_id=world["group"].id,
            definition=AIRBAG_DEFINITION,
        )
    member = world["member"]
    reader = principal_for(
        type("Org", (), {"id": member.organisation_id, "slug": member.organisation_slug}),
        "rules:read",
    )
    with pytest.raises(Forbidden):
        await service.create_rule(
            session, reader, working_group_id=world["group"].id, definition=AIRBAG_DEFINITION
        )


async def test_a_rule_is_seen_only_as_the_policy_allows(
    session: AsyncSession, world: dict[str, Any]
) -> None:
    rule, _ = await service.create_rule(
        session,
        world["member"],
        working_group_id=world["group"].id,
        definition=AIRBAG_DEFINITION,
        distribution=Distribution.WORKING_GROUP,
    )
    with pytest.raises(NotFound):
        await service.update_rule(session, world["outsider"], rule.id, definition=AIRBAG_DEFINITION)
    with pytest.raises(Conflict):
        await service.update_rule(
            session, world["member"], rule.id, definition=AIRBAG_DEFINITION, expected_version=7
        )
    with pytest.raises(Conflict):
        await service.retire_rule(session, world["chair"], rule.id)  # never active


async def test_unknown_categories_are_refused(session: AsyncSession, world: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        await service.create_rule(
            session,
            world["member"],
            working_group_id=world["group"].id,
            definition={**AIRBAG_DEFINITION, "category_ids": [999_999_999]},
        )
    assert caught.value.problems[0].path == ("categoryIds", "0")
