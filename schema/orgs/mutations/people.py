"""Shared input and payload of the mutations that act on one person of an organisation."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from alliance.auth.entitlements import OPERATOR_SCOPE, ORG_ADMIN_SCOPE
from alliance.auth.principal import Principal
from alliance.orgs import models
from schema.mutations import run_mutation
from schema.orgs.types import Person
from schema.relay import from_global_id

MANAGE_PEOPLE = (OPERATOR_SCOPE, ORG_ADMIN_SCOPE)


@strawberry.input
class PersonInput:
    person_id: strawberry.ID


@strawberry.type
class PersonPayload:
    person: Person


def person_id(input: PersonInput) -> uuid.UUID:
    return from_global_id(input.person_id, "personId", "Person")[1]


PersonChange = Callable[[AsyncSession, Principal | None, uuid.UUID], Awaitable[models.Person]]


async def change_person(info: Info, input: PersonInput, change: PersonChange) -> Any:
    """Run ``change`` on the person ``input`` names and answer with the person as it is now."""

    async def work(session: AsyncSession, principal: Principal | None) -> PersonPayload:
        person = await change(session, principal, person_id(input))
        return PersonPayload(person=Person.from_model(person))

    return await run_mutation(info, work)
