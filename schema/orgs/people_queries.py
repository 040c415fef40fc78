from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.orgs import members
from schema.orgs.mutations.people import MANAGE_PEOPLE
from schema.orgs.types import Person
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size


@strawberry.type
class PeopleQuery:
    @query_field(
        scopes(*MANAGE_PEOPLE),
        description=(
            "An organisation's people, by e-mail address (default: the caller's own "
            "organisation). Operators list any organisation's; organisation admins their own only."
        ),
    )
    async def people(
        self,
        info: Info,
        organisation_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Person]:
        session = info.context.session
        principal = info.context.principal
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        cursor = decode_cursor(after)
        owner = (
            from_global_id(organisation_id, "organisationId", "Organisation")[1]
            if organisation_id is not None
            else None
        )
        page = await members.page_people(session, principal, owner, after=cursor, limit=limit)

        async def count() -> int:
            return await members.count_people(session, principal, owner)

        return build_connection(
            [Person.from_model(p) for p in page.items],
            [p.email for p in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )
