"""Banned-category rules as search documents: drafts and rules in force, under the rule's own
visibility; a retired rule is gone from search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.rules import repository as repo
from alliance.rules.definition import RuleStatus
from alliance.rules.service import RULE_KIND, definition_of
from alliance.search import rules_repository
from alliance.search.documents import SearchDocument, register

SEARCHED = (RuleStatus.DRAFT, RuleStatus.ACTIVE)


def _uuids(object_ids: Sequence[str]) -> list[uuid.UUID]:
    found = []
    for raw in object_ids:
        try:
            found.append(uuid.UUID(raw))
        except ValueError:
            continue
    return found


async def rule_documents(session: AsyncSession, object_ids: Sequence[str]) -> list[SearchDocument]:
    rules = [
        r for r in await repo.rules_by_ids(session, _uuids(object_ids)) if r.status in SEARCHED
    ]
    versions = await repo.versions_of(session, [r.id for r in rules])
    documents = []
    for rule in rules:
        # What partners apply when it is in force, otherwise the draft being written.
        number = rule.active_version or rule.latest_version
        version = next((v for v in versions[rule.id] if v.number == number), None)
        if version is None:
            continue
        definition = definition_of(version)
        documents.append(
            SearchDocument(
                kind=RULE_KIND,
                object_id=str(rule.id),
                title=rule.name,
                body="\n".join(
                    filter(None, [definition.description, definition.rationale.value.lower()])
                ),
                keywords=tuple(dict.fromkeys(definition.keywords.terms())),
                type=definition.decision.value,
                status=rule.status.value,
                brands=definition.brands,
                updated_at=rule.updated_at,
                distribution=rule.distribution,
                tlp=rule.tlp,
                owner_org_id=rule.owner_org_id,
                working_group_id=rule.working_group_id,
            )
        )
    return documents


async def _list_rules(
    session: AsyncSession, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    ids = await rules_repository.rule_ids_after(
        session, uuid.UUID(after) if after else None, limit, statuses=SEARCHED
    )
    return [str(i) for i in ids], str(ids[-1]) if len(ids) == limit else None


register(RULE_KIND, rule_documents, _list_rules)
