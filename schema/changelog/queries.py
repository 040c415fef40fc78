from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from alliance.changelog import repository as repo
from alliance.changelog.service import as_seen_by
from alliance.errors import FieldProblem, InvalidInput
from schema.changelog.types import Change
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size

# Filters are lists the caller writes; keep them to what a sane query needs.
MAX_FILTER_VALUES = 50


def _seq_cursor(after: str | None) -> int | None:
    raw = decode_cursor(after)
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInput([FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")])
    return int(raw)


def _capped(name: str, values: list[str] | None) -> None:
    if values is not None and len(values) > MAX_FILTER_VALUES:
        raise InvalidInput(
            [FieldProblem((name,), "TOO_MANY", f"at most {MAX_FILTER_VALUES} values")]
        )


def _group_ids(ids: list[strawberry.ID] | None) -> list[uuid.UUID] | None:
    if not ids:
        return None
    decoded = []
    problems = []
    for index, global_id in enumerate(ids):
        try:
            decoded.append(from_global_id(global_id, expected="WorkingGroup")[1])
        except InvalidInput as exc:
            problems += [
                FieldProblem(("workingGroupIds", str(index)), p.code, p.message)
                for p in exc.problems
            ]
    if problems:
        raise InvalidInput(problems)
    return decoded


@strawberry.type
class ChangelogQuery:
    @query_field(
        scopes("sync:read", "federation"),
        description=(
            "The change feed, in log order: every committed write of an object the caller may "
            "see under the sharing model, and a REMOVE entry for each object it could see "
            "and no longer can (drop your copy). Follow `endCursor` to sync incrementally; a "
            "peer instance (federation scope) sees only what may cross federation."
        ),
    )
    async def changes(
        self,
        info: Info,
        after: str | None = None,
        first: int | None = None,
        kinds: list[str] | None = None,
        working_group_ids: list[strawberry.ID] | None = None,
    ) -> Connection[Change]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        cursor = _seq_cursor(after)
        _capped("kinds", kinds)
        _capped("workingGroupIds", working_group_ids)
        group_ids = _group_ids(working_group_ids)
        viewer = await info.context.loaders.viewer.load(info.context.principal)
        page = await repo.page_visible_changes(
            session,
            viewer,
            kinds=kinds or None,
            working_group_ids=group_ids,
            after=cursor,
            limit=limit,
        )

        async def count() -> int:
            return await repo.count_visible_changes(
                session, viewer, kinds=kinds or None, working_group_ids=group_ids
            )

        return build_connection(
            [Change.from_model(c, as_seen_by(viewer, c)) for c in page.items],
            [str(c.seq) for c in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )
