from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.changelog import repository as repo
from alliance.changelog.service import as_seen_by
from alliance.errors import FieldProblem, InvalidInput
from alliance.pagination import Page
from alliance.sync import feed
from schema.changelog.types import Change
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size

# Filters are lists the caller writes; keep them to what a sane query needs.
MAX_FILTER_VALUES = 50


def seq_cursor(after: str | None) -> int | None:
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


def only_counting(info: Info) -> bool:
    """Whether the caller asked for ``totalCount`` alone: then no page is read."""
    wanted = {
        getattr(selection, "name", None)
        for field in info.selected_fields
        for selection in field.selections
    }
    return wanted <= {"totalCount", "__typename"}


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
        working_groups: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Working groups by slug (added to any workingGroupIds)."
            ),
        ] = None,
    ) -> Connection[Change]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        cursor = seq_cursor(after)
        problems = feed.name_problems("kinds", kinds or [], feed.KIND)
        problems += feed.name_problems("workingGroups", working_groups or [], feed.SLUG)
        if problems:
            raise InvalidInput(problems)
        _capped("workingGroupIds", working_group_ids)
        group_ids = _group_ids(working_group_ids)
        by_slug = await feed.working_group_ids(session, working_groups)
        if by_slug is not None:
            group_ids = [*(group_ids or []), *by_slug]
        viewer = await info.context.loaders.viewer.load(info.context.principal)
        if only_counting(info):
            page = Page(items=[], has_next_page=False, has_previous_page=cursor is not None)
        else:
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
