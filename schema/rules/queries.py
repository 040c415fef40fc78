from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput, NotFound
from alliance.rules import repository as repo
from alliance.rules.backtest import backtest_rule
from alliance.rules.definition import RuleStatus as StatusModel
from schema.errors import PublicError
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size
from schema.rules.types import CatalogueFormat, Rule, RuleBacktest, RuleStatus

READ = scopes("rules:read", "rules:write", "admin")


def _after(cursor: str | None) -> uuid.UUID | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise InvalidInput(
            [FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")]
        ) from exc


async def load_rule(info: Info, raw: uuid.UUID) -> Rule | None:
    """One rule, if the caller may see it (the policy's SQL predicate decides)."""
    viewer = await info.context.loaders.viewer.load(info.context.principal)
    found = await repo.visible_rules_by_ids(info.context.session, viewer, [raw])
    return Rule.from_model(found[0]) if found else None


@strawberry.type
class RulesQuery:
    @query_field(READ, description="Banned-category rules the caller may see, oldest first.")
    async def rules(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        statuses: list[RuleStatus] | None = None,  # type: ignore[valid-type]
        working_group_id: strawberry.ID | None = None,
    ) -> Connection[Rule]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        group = (
            from_global_id(working_group_id, "workingGroupId", "WorkingGroup")[1]
            if working_group_id
            else None
        )
        wanted = [StatusModel(s) for s in statuses] if statuses else None
        viewer = await info.context.loaders.viewer.load(info.context.principal)
        page = await repo.page_rules(
            session,
            viewer,
            statuses=wanted,
            working_group_id=group,
            after=_after(after),
            limit=limit,
        )

        async def count() -> int:
            return await repo.count_rules(session, viewer, statuses=wanted, working_group_id=group)

        return build_connection(
            [Rule.from_model(r) for r in page.items],
            [str(r.id) for r in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )

    @query_field(READ, description="One rule by id, or null when it is not visible.")
    async def rule(self, info: Info, id: strawberry.ID) -> Rule | None:
        return await load_rule(info, from_global_id(id, "id", "Rule")[1])

    @query_field(
        READ,
        description=(
            "Run a rule version (default: the latest, e.g. a draft) over a sample catalogue "
            "before activating it; nothing is written."
        ),
    )
    async def rule_backtest(
        self,
        info: Info,
        rule_id: strawberry.ID,
        catalogue: str,
        format: CatalogueFormat = CatalogueFormat.JSONL,  # type: ignore[valid-type]
        version: int | None = None,
    ) -> RuleBacktest:
        try:
            report = await backtest_rule(
                info.context.session,
                info.context.principal,
                from_global_id(rule_id, "ruleId", "Rule")[1],
                catalogue=catalogue,
                fmt=format.value,
                version=version,
            )
        except NotFound as exc:
            raise PublicError(exc.message, exc.code) from exc
        return RuleBacktest.from_report(report)
