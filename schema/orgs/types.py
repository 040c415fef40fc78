from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput
from alliance.orgs import models
from schema.errors import bad_input
from schema.relay import Connection, Node, build_connection, decode_cursor, page_size, to_global_id

OrganisationKind = strawberry.enum(
    models.OrganisationKind, description="What an organisation is to the alliance."
)
MembershipRole = strawberry.enum(
    models.MembershipRole,
    description="CHAIR and MEMBER organisations contribute to the group; OBSERVERs read.",
)


@strawberry.type
class Organisation(Node):
    id: strawberry.ID
    slug: str
    name: str
    kind: OrganisationKind  # type: ignore[valid-type]
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    verified: bool
    created_at: datetime
    raw_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, org: models.Organisation) -> Organisation:
        return cls(
            id=to_global_id("Organisation", org.id),
            slug=org.slug,
            name=org.name,
            kind=org.kind,
            country=org.country,
            verified=org.verified,
            created_at=org.created_at,
            raw_id=org.id,
        )

    @strawberry.field(description="This organisation's seats in working groups.")
    async def working_groups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Membership, strawberry.lazy("schema.orgs.types")]]:
        return await _membership_window(
            info, info.context.loaders.groups_of_organisation, self.raw_id, first, after
        )


@strawberry.type
class WorkingGroup(Node):
    id: strawberry.ID
    slug: str
    name: str
    sector: str
    charter: str
    created_at: datetime
    raw_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, group: models.WorkingGroup) -> WorkingGroup:
        return cls(
            id=to_global_id("WorkingGroup", group.id),
            slug=group.slug,
            name=group.name,
            sector=group.sector,
            charter=group.charter,
            created_at=group.created_at,
            raw_id=group.id,
        )

    @strawberry.field(description="The organisations in this group, with their roles.")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Membership, strawberry.lazy("schema.orgs.types")]]:
        return await _membership_window(
            info, info.context.loaders.members_of_group, self.raw_id, first, after
        )


@strawberry.type
class Membership(Node):
    id: strawberry.ID
    role: MembershipRole  # type: ignore[valid-type]
    created_at: datetime
    organisation_id: strawberry.Private[uuid.UUID]
    working_group_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, seat: models.Membership) -> Membership:
        return cls(
            id=to_global_id("Membership", seat.id),
            role=seat.role,
            created_at=seat.created_at,
            organisation_id=seat.organisation_id,
            working_group_id=seat.working_group_id,
        )

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation:
        org = await info.context.loaders.organisation.load(self.organisation_id)
        return Organisation.from_model(org)

    @strawberry.field
    async def working_group(self, info: Info) -> WorkingGroup:
        group = await info.context.loaders.working_group.load(self.working_group_id)
        return WorkingGroup.from_model(group)


@strawberry.type
class Person(Node):
    id: strawberry.ID
    email: str
    display_name: str
    org_admin: bool = strawberry.field(
        description="They administer their organisation (may get `org:admin`)."
    )
    enabled: bool = strawberry.field(
        description="False: disabled by an admin; they can no longer sign in or get tokens."
    )
    has_local_account: bool = strawberry.field(
        description="They have a password here (else only their organisation's issuer vouches)."
    )
    organisation_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, person: models.Person) -> Person:
        return cls(
            id=to_global_id("Person", person.id),
            email=person.email,
            display_name=person.display_name,
            org_admin=person.org_admin,
            enabled=not person.disabled,
            has_local_account=person.password_hash is not None,
            organisation_id=person.organisation_id,
        )

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation:
        return Organisation.from_model(
            await info.context.loaders.organisation.load(self.organisation_id)
        )


async def _membership_window(
    info: Info, loader, owner: uuid.UUID, first: int | None, after: str | None
) -> Connection[Membership]:
    try:
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        cursor = decode_cursor(after)
        after_id = uuid.UUID(cursor) if cursor else None
    except InvalidInput as exc:
        raise bad_input(exc) from exc
    except ValueError as exc:
        raise bad_input(
            InvalidInput([FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")])
        ) from exc
    seats, total = await loader.load((owner, after_id, limit))

    async def count() -> int:
        return total

    return build_connection(
        [Membership.from_model(s) for s in seats[:limit]],
        [str(s.id) for s in seats[:limit]],
        has_next_page=len(seats) > limit,
        has_previous_page=after_id is not None,
        count=count,
    )
