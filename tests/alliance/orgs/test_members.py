"""Managing an organisation's people: who may list and change them, the admin an organisation
always keeps, and what disabling a person ends. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.audit import service as audit
from alliance.auth import service as auth_service
from alliance.auth.accounts import create_local_user
from alliance.auth.models import RefreshToken
from alliance.auth.principal import Principal
from alliance.db import utcnow
from alliance.errors import Conflict, Forbidden, NotFound
from alliance.orgs import members
from alliance.orgs import repository as repo
from alliance.orgs.models import MembershipRole, Organisation, Person
from alliance.portal.models import PortalSession

PASSWORD = "correct horse battery staple"
ANALYST = "analyst@acme-motors.example"
TRUST = "trust@shopmart.example"


def principal_of(org: Organisation, *scopes: str, person: Person | None = None) -> Principal:
    return Principal(
        organisation_id=org.id,
        organisation_slug=org.slug,
        client_id="tests",
        subject=str(person.id) if person else f"test:{org.slug}",
        scopes=frozenset(scopes),
        token_id=uuid.uuid4().hex,
        person_id=person.id if person else None,
    )


async def person(session: AsyncSession, email: str) -> Person:
    found = await repo.person_by_email(session, email)
    assert found is not None, email
    return found


async def add_person(
    session: AsyncSession, org: Organisation, email: str, *, org_admin: bool = False
) -> Person:
    account = await create_local_user(
        session, None, organisation=org.id, email=email, password=PASSWORD, org_admin=org_admin
    )
    return account.person


@pytest.fixture
async def acme(session: AsyncSession, demo: dict[str, Any]) -> dict[str, Any]:
    """acme-motors with its analyst as its one admin, and a second, ordinary person."""
    org = demo["orgs"]["acme-motors"]
    analyst = await add_person(session, org, ANALYST, org_admin=True)
    colleague = await add_person(session, org, "colleague@acme-motors.example")
    return {
        "org": org,
        "analyst": analyst,
        "colleague": colleague,
        "admin": principal_of(org, "org:admin", "indicators:read", person=analyst),
    }


def audited(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    return [(e.action, e.detail) for e in audit.pending_entries(session)]


async def test_an_org_admin_lists_their_own_people_only(
    session: AsyncSession, demo: dict[str, Any], acme: dict[str, Any]
) -> None:
    page = await members.page_people(session, acme["admin"], None, after=None, limit=50)

    emails = [p.email for p in page.items]
    assert emails == sorted([ANALYST, "colleague@acme-motors.example"])
    assert TRUST not in emails
    assert await members.count_people(session, acme["admin"], None) == 2
    with pytest.raises(Forbidden):
        await members.page_people(
            session, acme["admin"], demo["orgs"]["shopmart"].id, after=None, limit=50
        )


async def test_paging_people_by_email(session: AsyncSession, acme: dict[str, Any]) -> None:
    first = await members.page_people(session, acme["admin"], None, after=None, limit=1)
    rest = await members.page_people(
        session, acme["admin"], None, after=first.items[0].email, limit=1
    )

    assert [p.email for p in first.items + rest.items] == [
        ANALYST,
        "colleague@acme-motors.example",
    ]
    assert first.has_next_page
    assert not rest.has_next_page


async def test_an_operator_lists_any_organisation_and_others_are_refused(
    session: AsyncSession, demo: dict[str, Any], acme: dict[str, Any]
) -> None:
    operator = principal_of(demo["orgs"]["alliance-office"], "admin")
    shopmart = demo["orgs"]["shopmart"]

    page = await members.page_people(session, operator, shopmart.id, after=None, limit=50)

    assert [p.email for p in page.items] == [TRUST]
    member = principal_of(acme["org"], "indicators:read", person=acme["colleague"])
    with pytest.raises(Forbidden):
        await members.page_people(session, member, None, after=None, limit=50)
    with pytest.raises(Forbidden):
        await members.set_organisation_admin(session, member, acme["colleague"].id, org_admin=True)


async def test_grant_then_withdraw_the_admin_role_audited(
    session: AsyncSession, acme: dict[str, Any]
) -> None:
    colleague = acme["colleague"]

    granted = await members.set_organisation_admin(
        session, acme["admin"], colleague.id, org_admin=True
    )
    assert granted.org_admin
    withdrawn = await members.set_organisation_admin(
        session, acme["admin"], acme["analyst"].id, org_admin=False
    )

    assert not withdrawn.org_admin
    assert [a for a, _ in audited(session)][-2:] == [
        "person.grant_org_admin",
        "person.withdraw_org_admin",
    ]
    assert audited(session)[-1][1]["organisation_id"] == str(acme["org"].id)


async def test_the_last_enabled_admin_cannot_be_withdrawn_or_disabled(
    session: AsyncSession, demo: dict[str, Any], acme: dict[str, Any]
) -> None:
    operator = principal_of(demo["orgs"]["alliance-office"], "admin")
    before = len(audited(session))

    with pytest.raises(Conflict, match="at least one enabled admin"):
        await members.set_organisation_admin(
            session, acme["admin"], acme["analyst"].id, org_admin=False
        )
    with pytest.raises(Conflict, match="at least one enabled admin"):
        await members.set_person_disabled(session, operator, acme["analyst"].id, disabled=True)

    # A disabled admin does not count: the colleague made admin but disabled leaves one.
    await members.set_organisation_admin(session, operator, acme["colleague"].id, org_admin=True)
    await members.set_person_disabled(session, operator, acme["colleague"].id, disabled=True)
    with pytest.raises(Conflict):
        await members.set_organisation_admin(session, operator, acme["analyst"].id, org_admin=False)
    assert (await person(session, ANALYST)).org_admin
    assert not (await person(session, ANALYST)).disabled
    assert [a for a, _ in audited(session)[before:]] == [
        "person.grant_org_admin",
        "person.disable",
    ]


async def test_a_local_account_through_the_api_keeps_an_admin_too(
    session: AsyncSession, acme: dict[str, Any]
) -> None:
    admin, analyst_id = acme["admin"], acme["analyst"].id

    with pytest.raises(Conflict):
        await session.run_sync(
            lambda s: auth_service.set_local_account(
                s, admin, analyst_id, password=PASSWORD + "!", org_admin=False
            )
        )

    assert (await person(session, ANALYST)).org_admin


async def test_another_organisations_person_is_not_found_and_unchanged(
    session: AsyncSession, acme: dict[str, Any]
) -> None:
    trust = await person(session, TRUST)

    with pytest.raises(NotFound):
        await members.set_person_disabled(session, acme["admin"], trust.id, disabled=True)
    with pytest.raises(NotFound):
        await members.set_organisation_admin(session, acme["admin"], trust.id, org_admin=True)
    with pytest.raises(NotFound):
        await members.set_person_disabled(session, acme["admin"], uuid.uuid4(), disabled=True)

    await session.refresh(trust)
    assert not trust.disabled
    assert not trust.org_admin


async def test_nobody_disables_themselves(session: AsyncSession, acme: dict[str, Any]) -> None:
    await members.set_organisation_admin(
        session, acme["admin"], acme["colleague"].id, org_admin=True
    )

    with pytest.raises(Conflict, match="yourself"):
        await members.set_person_disabled(session, acme["admin"], acme["analyst"].id, disabled=True)


async def _refresh_token_and_portal_session(session: AsyncSession, target: Person) -> None:
    org = await session.get(Organisation, target.organisation_id)
    assert org is not None
    created = await session.run_sync(
        lambda s: auth_service.create_client(
            s,
            None,
            auth_service.ClientData(
                organisation=org.id,
                name="Console",
                scopes=["indicators:read"],
                grant_types=["authorization_code", "refresh_token"],
                redirect_uris=["https://console.acme-motors.example/callback"],
            ),
        )
    )
    now = utcnow()
    for n in range(2):
        session.add(
            RefreshToken(
                token_hash=f"{n}{uuid.uuid4().hex}"[:64],
                family_id=uuid.uuid4(),
                client_id=created.client.id,
                person_id=target.id,
                organisation_id=org.id,
                scope="indicators:read",
                expires_at=now + timedelta(days=1),
            )
        )
    session.add(
        PortalSession(
            cookie_digest=uuid.uuid4().hex,
            csrf_token="x",
            person_id=target.id,
            expires_at=now + timedelta(hours=1),
        )
    )
    await session.flush()


async def test_disabling_revokes_refresh_tokens_and_ends_portal_sessions(
    session: AsyncSession, acme: dict[str, Any]
) -> None:
    colleague = acme["colleague"]
    await _refresh_token_and_portal_session(session, colleague)
    await _refresh_token_and_portal_session(session, acme["analyst"])

    disabled = await members.set_person_disabled(
        session, acme["admin"], colleague.id, disabled=True
    )

    assert disabled.disabled
    live = select(RefreshToken.person_id).where(RefreshToken.revoked_at.is_(None))
    assert list(await session.scalars(live)) == [acme["analyst"].id] * 2
    sessions = select(PortalSession.person_id).where(PortalSession.person_id.is_not(None))
    assert list(await session.scalars(sessions)) == [acme["analyst"].id]
    action, detail = audited(session)[-1]
    assert action == "person.disable"
    assert detail["refresh_tokens_revoked"] == 2
    assert detail["portal_sessions_ended"] == 1

    enabled = await members.set_person_disabled(
        session, acme["admin"], colleague.id, disabled=False
    )
    assert not enabled.disabled
    assert audited(session)[-1][0] == "person.enable"
    revoked = select(func.count()).where(RefreshToken.revoked_at.is_not(None))
    assert await session.scalar(revoked) == 2  # enabling does not bring old tokens back


async def test_seats_say_where_the_caller_may_change_a_role(
    session: AsyncSession, demo: dict[str, Any], acme: dict[str, Any]
) -> None:
    shopmart = demo["orgs"]["shopmart"]
    chair = await members.organisation_seats(session, acme["admin"], acme["org"].id)
    member = await members.organisation_seats(
        session, principal_of(shopmart, "org:admin"), shopmart.id
    )

    assert [(s.membership.role, s.may_change_role) for s in chair] == [(MembershipRole.CHAIR, True)]
    assert len(member) == 3
    assert {(s.membership.role, s.may_change_role) for s in member} == {
        (MembershipRole.MEMBER, False)
    }
    assert {s.membership.organisation_id for s in member} == {shopmart.id}
    operator = principal_of(demo["orgs"]["alliance-office"], "admin")
    assert all(
        s.may_change_role for s in await members.organisation_seats(session, operator, shopmart.id)
    )
    with pytest.raises(Forbidden):
        await members.organisation_seats(session, acme["admin"], demo["orgs"]["shopmart"].id)
