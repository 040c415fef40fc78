"""Shared input and payload of the mutations that act on one person of an organisation."""

from __future__ import annotations

import uuid

import strawberry

from alliance.auth.entitlements import OPERATOR_SCOPE, ORG_ADMIN_SCOPE
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
