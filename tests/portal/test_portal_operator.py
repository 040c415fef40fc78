"""The operator page edits the directory: organisations, working groups and seats, and
switches federation peers on and off, through the same services as the API; only for
operators, only with the session's CSRF token, never a partial write."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from alliance.federation import sealing
from alliance.federation import service as federation
from alliance.federation.models import Peer
from alliance.orgs.models import Membership, Organisation, WorkingGroup
from tests.portal.conftest import ANALYST, Alliance
from tests.portal.test_portal_http import hidden, sign_in
from tests.portal.workers import in_transaction

OPERATOR = "operator@alliance-office.example"


@pytest.fixture
def operator(alliance: Alliance) -> Iterator[httpx.Client]:
    alliance.person(OPERATOR, org_admin=True)
    with alliance.http() as client:
        sign_in(client, email=OPERATOR)
        yield client


def csrf_of(client: httpx.Client, path: str = "/portal/operator") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return hidden(page.text)["csrf_token"]


def count(alliance: Alliance, model: Any) -> int:
    return int(alliance.read(lambda s: s.scalar(select(func.count()).select_from(model))))


def counts(alliance: Alliance) -> tuple[int, int, int]:
    return count(alliance, Organisation), count(alliance, WorkingGroup), count(alliance, Membership)


def option_value(page: str, select_id: str, label_part: str) -> str:
    chosen = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert chosen is not None, select_id
    found = re.search(rf'<option value="([^"]+)"[^>]*>[^<]*{re.escape(label_part)}', chosen[1])
    assert found is not None, label_part
    return found[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_every_field_of_the_operator_page_has_a_label(operator: httpx.Client) -> None:
    page = operator.get("/portal/operator").text
    fields = re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page)
    assert {"org-slug", "org-kind", "group-charter", "seat-role"} <= set(fields)
    for field in fields:
        assert f'<label for="{field}">' in page, field


def test_the_operator_creates_an_organisation_a_group_and_a_seat(
    alliance: Alliance, operator: httpx.Client
) -> None:
    csrf = csrf_of(operator)
    org_slug, group_slug = unique("fake-watch-hunters"), unique("watches")
    made = operator.post(
        "/portal/operator/organisations",
        data={
            "csrf_token": csrf,
            "slug": org_slug,
            "name": "Fake Watch Hunters",
            "kind": "BRAND",
            "country": "ch",
        },
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"].startswith("/portal/operator")
    group = operator.post(
        "/portal/operator/working-groups",
        data={
            "csrf_token": csrf,
            "slug": group_slug,
            "name": "Watches",
            "sector": "luxury goods",
            "charter": "Counterfeit watches sold online.",
        },
    )
    assert group.status_code == 303, group.text
    page = operator.get("/portal/operator").text
    assert (
        f"<td><code>{org_slug}</code></td><td>Fake Watch Hunters</td><td>BRAND</td><td>CH</td>"
        in (page)
    )
    assert f"<td><code>{group_slug}</code></td><td>Watches</td><td>luxury goods</td>" in page
    seat = operator.post(
        "/portal/operator/seats",
        data={
            "csrf_token": csrf,
            "working_group": option_value(page, "seat-working_group", f"({group_slug})"),
            "organisation": option_value(page, "seat-organisation", f"({org_slug})"),
            "role": "CHAIR",
        },
    )
    assert seat.status_code == 303, seat.text
    listed = operator.get("/portal/operator").text
    row = re.search(rf"<tr><td><code>{group_slug}</code></td>.*?</tr>", listed, re.S)
    assert row is not None
    assert f"<code>{org_slug}</code> (CHAIR)" in row[0]

    def stored(session: Any) -> tuple[str, str]:
        org = session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        wg = session.scalar(select(WorkingGroup).where(WorkingGroup.slug == group_slug))
        seat_row = session.scalar(
            select(Membership).where(
                Membership.organisation_id == org.id, Membership.working_group_id == wg.id
            )
        )
        return wg.charter, seat_row.role.value

    assert alliance.read(stored) == ("Counterfeit watches sold online.", "CHAIR")


def test_a_duplicate_slug_or_seat_is_shown_on_its_form_and_writes_nothing(
    alliance: Alliance, operator: httpx.Client
) -> None:
    csrf = csrf_of(operator)
    before = counts(alliance)
    org = operator.post(
        "/portal/operator/organisations",
        data={"csrf_token": csrf, "slug": "city-police", "name": "Again", "kind": "ENFORCEMENT"},
    )
    assert org.status_code == 409
    assert 'id="org-slug-error"' in org.text
    assert 'aria-describedby="org-slug-error"' in org.text
    assert "already exists" in org.text
    assert 'value="Again"' in org.text  # what was typed is kept
    group = operator.post(
        "/portal/operator/working-groups",
        data={"csrf_token": csrf, "slug": "luxury-goods", "name": "Again", "sector": "luxury"},
    )
    assert group.status_code == 409
    assert 'id="group-slug-error"' in group.text
    page = operator.get("/portal/operator").text
    seat_form = {
        "csrf_token": csrf,
        "working_group": option_value(page, "seat-working_group", "(luxury-goods)"),
        "organisation": option_value(page, "seat-organisation", "(alliance-office)"),
        "role": "MEMBER",
    }
    seat = operator.post("/portal/operator/seats", data=seat_form)
    assert seat.status_code == 409, seat.text
    assert 'id="seat-form-error"' in seat.text
    assert "already a member" in seat.text
    assert counts(alliance) == before


def test_bad_input_gets_a_message_next_to_each_field(
    alliance: Alliance, operator: httpx.Client
) -> None:
    csrf = csrf_of(operator)
    before = counts(alliance)
    org = operator.post(
        "/portal/operator/organisations",
        data={
            "csrf_token": csrf,
            "slug": "Not A Slug",
            "name": "",
            "kind": "EMPIRE",
            "country": "XX",
        },
    )
    assert org.status_code == 400
    for field in ("slug", "name", "kind", "country"):
        assert f'id="org-{field}-error"' in org.text, field
    assert "ISO 3166-1 alpha-2" in org.text
    group = operator.post(
        "/portal/operator/working-groups",
        data={"csrf_token": csrf, "slug": unique("ok"), "name": "Fine", "sector": ""},
    )
    assert group.status_code == 400
    assert 'id="group-sector-error"' in group.text
    assert 'id="org-slug-error"' not in group.text
    not_chosen = operator.post(
        "/portal/operator/seats",
        data={"csrf_token": csrf, "working_group": "x", "organisation": "", "role": "MEMBER"},
    )
    assert not_chosen.status_code == 400
    assert 'id="seat-working_group-error"' in not_chosen.text
    assert 'id="seat-organisation-error"' in not_chosen.text
    page = operator.get("/portal/operator").text
    group_id = option_value(page, "seat-working_group", "(luxury-goods)")
    missing = operator.post(
        "/portal/operator/seats",
        data={
            "csrf_token": csrf,
            "working_group": group_id,
            "organisation": str(uuid.uuid4()),
            "role": "MEMBER",
        },
    )
    assert missing.status_code == 400
    assert 'id="seat-organisation-error"' in missing.text
    bad_role = operator.post(
        "/portal/operator/seats",
        data={
            "csrf_token": csrf,
            "working_group": group_id,
            "organisation": option_value(page, "seat-organisation", "(shopmart)"),
            "role": "KING",
        },
    )
    assert bad_role.status_code == 400
    assert 'id="seat-role-error"' in bad_role.text
    assert counts(alliance) == before


@pytest.mark.parametrize("org_admin", [False, True], ids=["analyst", "org-admin"])
def test_non_operators_get_403_and_nothing_is_written(alliance: Alliance, org_admin: bool) -> None:
    peer = unique("peer")
    in_transaction(
        alliance,
        lambda s: federation.add_peer(
            s,
            None,
            federation.PeerData(
                name=peer,
                base_url="https://alliance-b.example",
                client_id="b-client",
                client_secret="b-secret-never-shown",
            ),
            sealing_key=Fernet(sealing.generate_key()),
        ),
    )
    alliance.person(ANALYST, org_admin=org_admin)
    before = counts(alliance)
    ids = alliance.ids()
    with alliance.http() as analyst:
        sign_in(analyst)
        page = analyst.get("/portal/operator")
        assert page.status_code == 403
        assert "city-police" not in page.text
        assert peer not in page.text
        csrf = csrf_of(analyst, "/portal")
        slug = unique("sneaky")
        posts = {
            "/portal/operator/organisations": {"slug": slug, "name": "S", "kind": "BRAND"},
            "/portal/operator/working-groups": {"slug": slug, "name": "S", "sector": "s"},
            "/portal/operator/seats": {
                "working_group": str(ids["wg:luxury-goods"]),
                "organisation": str(ids["acme-motors"]),
                "role": "CHAIR",
            },
            f"/portal/operator/peers/{peer}/disable": {},
        }
        for path, data in posts.items():
            refused = analyst.post(path, data={"csrf_token": csrf} | data)
            assert refused.status_code == 403, path
    assert counts(alliance) == before
    assert alliance.read(lambda s: s.scalar(select(Peer.active).where(Peer.name == peer)))
    alliance.person(ANALYST)


def test_forms_without_the_session_csrf_token_are_refused(
    alliance: Alliance, operator: httpx.Client
) -> None:
    before = counts(alliance)
    form = {"slug": unique("no-token"), "name": "No token", "kind": "BRAND"}
    assert operator.post("/portal/operator/organisations", data=form).status_code == 400
    wrong = operator.post("/portal/operator/organisations", data=form | {"csrf_token": "guess"})
    assert wrong.status_code == 400
    assert "did not come from this page" in wrong.text
    group = {"slug": unique("no-token"), "name": "No token", "sector": "x"}
    assert operator.post("/portal/operator/working-groups", data=group).status_code == 400
    assert operator.post("/portal/operator/seats", data={"role": "MEMBER"}).status_code == 400
    assert counts(alliance) == before


def test_the_operator_disables_and_enables_a_peer(
    alliance: Alliance, operator: httpx.Client
) -> None:
    peer = unique("peer")
    in_transaction(
        alliance,
        lambda s: federation.add_peer(
            s,
            None,
            federation.PeerData(
                name=peer,
                base_url="https://alliance-c.example",
                client_id="c-client",
                client_secret="c-secret-never-shown",
            ),
            sealing_key=Fernet(sealing.generate_key()),
        ),
    )

    def active() -> bool:
        return bool(alliance.read(lambda s: s.scalar(select(Peer.active).where(Peer.name == peer))))

    page = operator.get("/portal/operator").text
    assert f'action="/portal/operator/peers/{peer}/disable"' in page
    assert "c-secret-never-shown" not in page
    csrf = hidden(page)["csrf_token"]
    assert operator.post(f"/portal/operator/peers/{peer}/disable").status_code == 400
    assert active()
    off = operator.post(f"/portal/operator/peers/{peer}/disable", data={"csrf_token": csrf})
    assert off.status_code == 303
    assert not active()
    assert f'action="/portal/operator/peers/{peer}/enable"' in operator.get("/portal/operator").text
    on = operator.post(f"/portal/operator/peers/{peer}/enable", data={"csrf_token": csrf})
    assert on.status_code == 303
    assert active()
    gone = operator.post("/portal/operator/peers/no-such-peer/enable", data={"csrf_token": csrf})
    assert gone.status_code == 404
    odd = operator.post(f"/portal/operator/peers/{peer}/explode", data={"csrf_token": csrf})
    assert odd.status_code == 404
    assert active()
