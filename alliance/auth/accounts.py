"""Local accounts: a person of an organisation who signs in on the authorization page.

Async, because a new account is also a new person of the directory (``alliance.orgs``);
the password itself is set by :func:`alliance.auth.service.set_local_account`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth import service
from alliance.auth.principal import Principal
from alliance.errors import Conflict
from alliance.orgs import repository as orgs_repo
from alliance.orgs import service as orgs_service
from alliance.orgs.models import Person
from alliance.validation import Checker


@dataclass(frozen=True, slots=True)
class LocalUser:
    person: Person
    created: bool  # False: an existing person of the organisation got a (new) password


async def create_local_user(
    session: AsyncSession,
    principal: Principal | None,
    *,
    organisation: service.OrganisationRef,
    email: str,
    password: str,
    display_name: str | None = None,
    org_admin: bool = False,
) -> LocalUser:
    """Give a person a local account, creating the person when the e-mail is new."""
    org = await session.run_sync(lambda s: service.managed_organisation(s, principal, organisation))
    check = Checker()
    service.check_password(check, password, email=email.strip())
    check.raise_if_any()
    person = await orgs_repo.person_by_email(session, email)
    created = person is None
    if person is None:
        person = await orgs_service.create_person(
            session,
            principal,
            organisation_id=org.id,
            email=email,
            display_name=display_name or email.strip(),
        )
    elif person.organisation_id != org.id:
        raise Conflict(f"{email.strip().lower()!r} is a person of another organisation")
    person_id = person.id
    updated = await session.run_sync(
        lambda s: service.set_local_account(
            s, principal, person_id, password=password, org_admin=org_admin
        )
    )
    return LocalUser(person=updated, created=created)
