"""The members page of the portal: an organisation admin's people and seats, and what the
page refuses (another organisation's people, non-admins, a missing CSRF token, removing the
last admin). Disabling a person is followed through to sign-in and refresh."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alliance.auth.models import RefreshToken
from alliance.orgs.models import Person
from alliance.portal.models import PortalSession
from tests.portal.conftest import ANALYST, INVESTIGATOR, Alliance
from tests.portal.test_portal_http import hidden, sign_in

PAGE = "/portal/admin/members"
OPERATOR = "operator@alliance-office.example"
TRUST = "trust@shopmart.example"
NEW_PASSWORD = "a long enough initial password"


@pytest.fixture
def admin(alliance: Alliance) -> httpx.Client:
    """The acme-motors analyst, its one admin, signed in."""
    alliance.person(ANALYST, org_admin=True)
    with alliance.http() as client:
        sign_in(client)
        yield client


def csrf(http: httpx.Client) -> str:
    return hidden(http.get(PAGE).text)["csrf_token"]


def person_id(page: str, email: str) -> str:
    found = re.search(
        rf'<tr id="person-([0-9a-f-]{{36}})"><td>[^<]*</td><td>{re.escape(email)}<', page
    )
    assert found is not None, page
    return found.group(1)


def flags(alliance: Alliance, email: str) -> tuple[bool, bool]:
    def read(session: Session) -> tuple[bool, bool]:
        found = session.scalar(select(Person).where(Person.email == email))
        assert found is not None
        return found.org_admin, found.disabled

    return alliance.read(read)


def add(http: httpx.Client, email: str, **extra: str) -> httpx.Response:
    form = {"csrf_token": csrf(http), "email": email, "display_name": "New Person"}
    return http.post(PAGE, data=form | {"password": NEW_PASSWORD} | extra)


def try_sign_in(alliance: Alliance, email: str, password: str) -> httpx.Response:
    """The authorization page's answer to this e-mail and password."""
    with alliance.http() as client:
        start = client.get("/portal/login")
        page = client.get(start.headers["location"])
        form = hidden(page.text) | {"email": email, "password": password, "decision": "allow"}
        return client.post("/oauth/authorize", data=form)


def test_an_org_admin_sees_only_their_own_organisations_people(admin: httpx.Client) -> None:
    page = admin.get(PAGE)

    assert page.status_code == 200
    assert 'href="/portal/admin/members"' in page.text  # in the admin navigation
    assert ANALYST in page.text
    assert TRUST not in page.text
    assert "Sam Trust" not in page.text
    seats = page.text.split('id="seats"', 1)[1]
    assert "automotive-parts" in seats
    assert "CHAIR" in seats
    assert 'name="role"' in seats  # the chair may change its own seat's role
    assert "luxury-goods" not in seats
    other = admin.get(PAGE, params={"organisation": "shopmart"})
    assert other.status_code == 403
    assert TRUST not in other.text
    assert admin.get(PAGE, params={"organisation": "no-such-org"}).status_code == 404


def test_a_person_who_is_not_an_admin_is_refused(alliance: Alliance) -> None:
    alliance.person(INVESTIGATOR)
    with alliance.http() as member:
        sign_in(member, email=INVESTIGATOR)
        token = hidden(member.get("/portal").text)["csrf_token"]
        assert 'href="/portal/admin/members"' not in member.get("/portal").text
        assert member.get(PAGE).status_code == 403
        refused = member.post(
            PAGE, data={"csrf_token": token, "email": "x@city-police.example", "password": "p"}
        )
        assert refused.status_code == 403
        analyst = alliance.read(
            lambda s: s.scalar(select(Person.id).where(Person.email == ANALYST))
        )
        disable = member.post(f"{PAGE}/{analyst}/disable", data={"csrf_token": token})
        assert disable.status_code == 403
    assert flags(alliance, ANALYST)[1] is False
    assert (
        alliance.read(
            lambda s: s.scalar(select(Person.id).where(Person.email == "x@city-police.example"))
        )
        is None
    )


def test_adding_a_person_shows_errors_next_to_fields(
    alliance: Alliance, admin: httpx.Client
) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@acme-motors.example"

    bad = admin.post(
        PAGE,
        data={"csrf_token": csrf(admin), "email": "not-an-address", "password": "short"},
    )
    assert bad.status_code == 400
    assert 'id="email-error"' in bad.text
    assert 'id="password-error"' in bad.text
    assert 'value="not-an-address"' in bad.text
    assert "short" not in re.findall(r'<input id="password"[^>]*>', bad.text)[0]

    added = add(admin, email, org_admin="on")
    assert added.status_code == 200, added.text
    assert 'id="members-done"' in added.text
    assert email in added.text
    assert flags(alliance, email) == (True, False)
    again = add(admin, email)
    assert again.status_code == 409
    assert 'id="email-error"' in again.text
    assert try_sign_in(alliance, email, NEW_PASSWORD).status_code == 302
    # The analyst stays acme-motors' one admin for the tests that follow.
    target = person_id(admin.get(PAGE).text, email)
    assert (
        admin.post(f"{PAGE}/{target}/withdraw", data={"csrf_token": csrf(admin)}).status_code == 303
    )


def test_a_missing_csrf_token_is_refused(alliance: Alliance, admin: httpx.Client) -> None:
    email = f"csrf-{uuid.uuid4().hex[:8]}@acme-motors.example"
    target = person_id(admin.get(PAGE).text, ANALYST)

    assert admin.post(PAGE, data={"email": email, "password": NEW_PASSWORD}).status_code == 400
    assert admin.post(f"{PAGE}/{target}/withdraw", data={}).status_code == 400
    wrong = admin.post(f"{PAGE}/{target}/withdraw", data={"csrf_token": "guess"})
    assert wrong.status_code == 400
    assert "did not come from this page" in wrong.text
    assert flags(alliance, ANALYST) == (True, False)
    assert alliance.read(lambda s: s.scalar(select(Person.id).where(Person.email == email))) is None


def test_the_last_admin_cannot_be_removed(alliance: Alliance, admin: httpx.Client) -> None:
    target = person_id(admin.get(PAGE).text, ANALYST)

    withdrawn = admin.post(f"{PAGE}/{target}/withdraw", data={"csrf_token": csrf(admin)})
    assert withdrawn.status_code == 409
    assert f'id="person-{target}-error"' in withdrawn.text
    assert "at least one enabled admin" in withdrawn.text
    own = admin.post(f"{PAGE}/{target}/disable", data={"csrf_token": csrf(admin)})
    assert own.status_code == 409
    alliance.person(OPERATOR, org_admin=True)
    with alliance.http() as operator:
        sign_in(operator, email=OPERATOR)
        page = operator.get(PAGE, params={"organisation": "acme-motors"})
        assert page.status_code == 200
        refused = operator.post(
            f"{PAGE}/{target}/disable",
            data={"csrf_token": hidden(page.text)["csrf_token"], "organisation": "acme-motors"},
        )
        assert refused.status_code == 409
        assert "at least one enabled admin" in refused.text
    assert flags(alliance, ANALYST) == (True, False)
    assert admin.get(PAGE).status_code == 200  # still an admin, still signed in


def live_refresh_tokens(alliance: Alliance, email: str) -> int:
    def read(session: Session) -> int:
        person = session.scalar(select(Person.id).where(Person.email == email))
        return len(
            list(
                session.scalars(
                    select(RefreshToken.id).where(
                        RefreshToken.person_id == person, RefreshToken.revoked_at.is_(None)
                    )
                )
            )
        )

    return alliance.read(read)


def test_disabling_a_person_ends_their_sign_in_and_refresh(
    alliance: Alliance, admin: httpx.Client
) -> None:
    email = f"leaver-{uuid.uuid4().hex[:8]}@acme-motors.example"
    assert add(admin, email).status_code == 200
    with alliance.http() as leaver:
        sign_in(leaver, email=email, password=NEW_PASSWORD)
        assert leaver.get("/portal/indicators").status_code == 200
        assert live_refresh_tokens(alliance, email) == 1
        target = person_id(admin.get(PAGE).text, email)

        disabled = admin.post(f"{PAGE}/{target}/disable", data={"csrf_token": csrf(admin)})

        assert disabled.status_code == 303
        assert disabled.headers["location"] == PAGE
        assert flags(alliance, email) == (False, True)
        assert live_refresh_tokens(alliance, email) == 0
        assert (
            alliance.read(
                lambda s: s.scalar(
                    select(PortalSession.id).where(
                        PortalSession.person_id
                        == s.scalar(select(Person.id).where(Person.email == email))
                    )
                )
            )
            is None
        )
        gone = leaver.get("/portal/indicators")
        assert gone.status_code == 303
        assert gone.headers["location"].startswith("/portal/login")
    refused = try_sign_in(alliance, email, NEW_PASSWORD)
    assert refused.status_code == 400
    assert "disabled" in refused.text
    row = re.search(rf'<tr id="person-{target}">.*?</tr>', admin.get(PAGE).text, re.S)
    assert row is not None
    assert "<td>disabled</td>" in row.group(0)
    assert f"/{target}/enable" in row.group(0)

    enabled = admin.post(f"{PAGE}/{target}/enable", data={"csrf_token": csrf(admin)})
    assert enabled.status_code == 303
    assert try_sign_in(alliance, email, NEW_PASSWORD).status_code == 302


def test_granting_and_withdrawing_the_admin_role(alliance: Alliance, admin: httpx.Client) -> None:
    email = f"deputy-{uuid.uuid4().hex[:8]}@acme-motors.example"
    assert add(admin, email).status_code == 200
    target = person_id(admin.get(PAGE).text, email)

    assert admin.post(f"{PAGE}/{target}/grant", data={"csrf_token": csrf(admin)}).status_code == 303
    assert flags(alliance, email) == (True, False)
    assert (
        admin.post(f"{PAGE}/{target}/withdraw", data={"csrf_token": csrf(admin)}).status_code == 303
    )
    assert flags(alliance, email) == (False, False)
    assert (
        admin.post(f"{PAGE}/{target}/explode", data={"csrf_token": csrf(admin)}).status_code == 404
    )
    assert (
        admin.post(f"{PAGE}/not-an-id/grant", data={"csrf_token": csrf(admin)}).status_code == 404
    )
    trust = alliance.read(lambda s: s.scalar(select(Person.id).where(Person.email == TRUST)))
    assert admin.post(f"{PAGE}/{trust}/grant", data={"csrf_token": csrf(admin)}).status_code == 404
    assert flags(alliance, TRUST) == (False, False)


def test_seat_roles_change_where_the_caller_manages_the_group(alliance: Alliance) -> None:
    alliance.person(OPERATOR, org_admin=True)
    with alliance.http() as operator:
        sign_in(operator, email=OPERATOR)
        page = operator.get(PAGE, params={"organisation": "shopmart"})
        assert page.status_code == 200
        assert TRUST in page.text
        token = hidden(page.text)["csrf_token"]
        group = alliance.ids()["wg:luxury-goods"]
        form = {"csrf_token": token, "organisation": "shopmart"}

        changed = operator.post(f"{PAGE}/seats/{group}", data=form | {"role": "OBSERVER"})
        assert changed.status_code == 303
        assert parse_qs(urlsplit(changed.headers["location"]).query) == {
            "organisation": ["shopmart"]
        }
        seat = operator.get(PAGE, params={"organisation": "shopmart"}).text
        assert re.search(rf'id="seat-{group}">.*?<td>OBSERVER</td>', seat)
        bad = operator.post(f"{PAGE}/seats/{group}", data=form | {"role": "KING"})
        assert bad.status_code == 400
        assert f'id="seat-{group}-error"' in bad.text
        assert (
            operator.post(f"{PAGE}/seats/{group}", data=form | {"role": "MEMBER"}).status_code
            == 303
        )
        automotive = alliance.ids()["wg:automotive-parts"]
        last_chair = operator.post(
            f"{PAGE}/seats/{automotive}",
            data={"csrf_token": token, "organisation": "acme-motors", "role": "MEMBER"},
        )
        assert last_chair.status_code == 409
        assert f'id="seat-{automotive}-error"' in last_chair.text


def test_the_members_page_in_chinese(admin: httpx.Client) -> None:
    admin.get("/portal/language", params={"to": "zh"})
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert "成员与角色" in page.text
    assert "添加人员" in page.text
