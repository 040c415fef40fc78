from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput
from alliance.orgs import repository as repo
from alliance.orgs.models import OrganisationKind as KindModel
from schema.orgs.types import Organisation, OrganisationKind, Person, WorkingGroup
from schema.permissions import ANONYMOUS, AUTHENTICATED, query_field
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size


@strawberry.type(description="The caller, as its access token describes it.")
class Me:
    client_id: str
    scopes: list[str]
    organisation: Organisation
    person: Person | None


def _one_of(slug: str | None, id: strawberry.ID | None) -> None:
    if (slug is None) == (id is None):
        raise InvalidInput([FieldProblem(("slug",), "ONE_OF", "give exactly one of slug or id")])


@strawberry.type
class OrgsQuery:
    @query_field(ANONYMOUS, description="The caller, or null without a valid token.")
    async def me(self, info: Info) -> Me | None:
        principal = info.context.principal
        if principal is None:
            return None
        org = await info.context.loaders.organisation.load(principal.organisation_id)
        if org is None:
            return None
        person = (
            await info.context.loaders.person.load(principal.person_id)
            if principal.person_id
            else None
        )
        return Me(
            client_id=principal.client_id,
            scopes=sorted(principal.scopes),
            organisation=Organisation.from_model(org),
            person=Person.from_model(person) if person else None,
        )

    @query_field(AUTHENTICATED, description="Member organisations of the alliance, by slug.")
    async def organisations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kinds: list[OrganisationKind] | None = None,  # type: ignore[valid-type]
    ) -> Connection[Organisation]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        kind_values = [KindModel(k) for k in kinds] if kinds else None
        page = await repo.page_organisations(
            session, kinds=kind_values, after=decode_cursor(after), limit=limit
        )

        async def count() -> int:
            return await repo.count_organisations(session, kinds=kind_values)

        return build_connection(
            [Organisation.from_model(o) for o in page.items],
            [o.slug for o in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )

    @query_field(AUTHENTICATED, description="One organisation by slug or id.")
    async def organisation(
        self, info: Info, slug: str | None = None, id: strawberry.ID | None = None
    ) -> Organisation | None:
        _one_of(slug, id)
        if id is not None:
            org = await info.context.loaders.organisation.load(
                from_global_id(id, "id", "Organisation")[1]
            )
        else:
            org = await repo.organisation_by_slug(info.context.session, slug or "")
        return Organisation.from_model(org) if org else None

    @query_field(AUTHENTICATED, description="The alliance's working groups, by slug.")
    async def working_groups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WorkingGroup]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        page = await repo.page_working_groups(session, after=decode_cursor(after), limit=limit)

        async def count() -> int:
            return await repo.count_working_groups(session)

        return build_connection(
            [WorkingGroup.from_model(g) for g in page.items],
            [g.slug for g in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )

    @query_field(AUTHENTICATED, description="One working group by slug or id.")
    async def working_group(
        self, info: Info, slug: str | None = None, id: strawberry.ID | None = None
    ) -> WorkingGroup | None:
        _one_of(slug, id)
        if id is not None:
            group = await info.context.loaders.working_group.load(
                from_global_id(id, "id", "WorkingGroup")[1]
            )
        else:
            group = await repo.working_group_by_slug(info.context.session, slug or "")
        return WorkingGroup.from_model(group) if group else None
