from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput, NotFound
from alliance.guides import repository as repo
from alliance.guides import service
from alliance.guides.models import GuideStatus as StatusModel
from schema.errors import PublicError, bad_input
from schema.guides.types import (
    Guide,
    GuideNotification,
    GuideSectionChange,
    GuideStatus,
    SerialFormatResult,
    SerialValidation,
)
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size

READ = scopes("guides:read", "guides:write", "guides:review", "guides:publish", "admin")


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


async def reader(info: Info) -> service.Reader:
    cached = getattr(info.context, "_guide_reader", None)
    if cached is None:
        cached = await service.reader_for(info.context.session, info.context.principal)
        info.context._guide_reader = cached
    return cached  # type: ignore[no-any-return]


async def load_guide(info: Info, raw: uuid.UUID) -> Guide | None:
    view = await service.read_guide(info.context.session, await reader(info), raw)
    return Guide.from_view(view) if view else None


@strawberry.input
class GuideFilter:
    statuses: list[GuideStatus] | None = None  # type: ignore[valid-type]
    working_group_id: strawberry.ID | None = None


@strawberry.type
class GuidesQuery:
    @query_field(READ, description="Identification guides the caller may read, oldest first.")
    async def guides(
        self,
        info: Info,
        filter: GuideFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Guide]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        wanted = filter or GuideFilter()
        group = (
            from_global_id(wanted.working_group_id, "workingGroupId", "WorkingGroup")[1]
            if wanted.working_group_id
            else None
        )
        statuses = [StatusModel(s) for s in wanted.statuses] if wanted.statuses else None
        who = await reader(info)
        page = await repo.page_guides(
            session,
            who.viewer,
            statuses=statuses,
            working_group_id=group,
            after=_after(after),
            limit=limit,
        )
        published = await repo.published_versions(session, page.items)
        photos = await repo.photos_of_guides(session, [g.id for g in page.items])
        views = [
            await service.view_of(
                session, who, g, published=published.get(g.id), photos=photos[g.id]
            )
            for g in page.items
        ]
        shown = [(g, v) for g, v in zip(page.items, views, strict=True) if v is not None]

        async def count() -> int:
            return await repo.count_guides(
                session, who.viewer, statuses=statuses, working_group_id=group
            )

        return build_connection(
            [Guide.from_view(v) for _, v in shown],
            [str(g.id) for g, _ in shown],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )

    @query_field(
        READ,
        description=(
            "One guide: its published version (default), an earlier version, or its draft "
            "(draft: true, for its editors and reviewers), in a language with the source as "
            "fallback; null when the caller may not read it."
        ),
    )
    async def guide(
        self,
        info: Info,
        id: strawberry.ID,
        version: int | None = None,
        language: str | None = None,
        draft: bool = False,
    ) -> Guide | None:
        view = await service.read_guide(
            info.context.session,
            await reader(info),
            from_global_id(id, "id", "Guide")[1],
            version=version,
            language=language,
            draft=draft,
        )
        return Guide.from_view(view) if view else None

    @query_field(READ, description="What changed between two published versions, by section.")
    async def guide_diff(
        self,
        info: Info,
        id: strawberry.ID,
        from_: Annotated[int, strawberry.argument(name="from")],
        to: int,
    ) -> list[GuideSectionChange]:
        try:
            changes = await service.diff_versions(
                info.context.session,
                await reader(info),
                from_global_id(id, "id", "Guide")[1],
                from_,
                to,
            )
        except NotFound as exc:
            raise PublicError(exc.message, exc.code) from exc
        return [GuideSectionChange.of(c) for c in changes]

    @query_field(
        READ, description="Check a serial or lot number against a guide's published formats."
    )
    async def validate_serial(
        self, info: Info, guide_id: strawberry.ID, value: str
    ) -> SerialValidation:
        if len(value) > 1000:
            raise bad_input(
                InvalidInput([FieldProblem(("value",), "TOO_LONG", "at most 1,000 characters")])
            )
        try:
            results = await service.validate_serial(
                info.context.session,
                await reader(info),
                from_global_id(guide_id, "guideId", "Guide")[1],
                value,
            )
        except NotFound as exc:
            raise PublicError(exc.message, exc.code) from exc
        return SerialValidation(
            valid=any(r.valid for _, r in results),
            formats=[
                SerialFormatResult(
                    format_id=f["id"], name=f["name"], valid=r.valid, reason=r.reason
                )
                for f, r in results
            ],
        )

    @query_field(READ, description="The caller's guide notifications (stale guides, new versions).")
    async def guide_notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool = False,
    ) -> Connection[GuideNotification]:
        session = info.context.session
        principal = info.context.principal
        assert principal is not None
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        page = await repo.page_notifications(
            session,
            principal.organisation_id,
            principal.person_id,
            unread_only=unread_only,
            after=_after(after),
            limit=limit,
        )

        async def count() -> int:
            return await repo.count_notifications(
                session, principal.organisation_id, principal.person_id, unread_only=unread_only
            )

        return build_connection(
            [GuideNotification.from_model(n) for n in page.items],
            [str(n.id) for n in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )
