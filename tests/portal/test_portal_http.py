"""The portal over HTTP: its own authorization-code + PKCE sign-in, cookies, CSRF, field
errors, sign-out, and no 500 for the odd inputs a browser can send."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from alliance.portal.catalogue import LANGUAGES, MESSAGES
from tests.alliance.auth.conftest import PASSWORD
from tests.portal.conftest import ANALYST, Alliance

COOKIE = "alliance_portal"


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def set_cookie(response: httpx.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert found, response.headers
    return found[0]


def sign_in(http: httpx.Client, email: str = ANALYST, password: str = PASSWORD) -> httpx.Response:
    """Through the instance's own authorization page; returns the callback's response."""
    start = http.get("/portal/login", params={"next": "/portal/indicators"})
    assert start.status_code == 303
    location = start.headers["location"]
    assert location.startswith("/oauth/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"][0].endswith("/portal/callback")
    page = http.get(location)
    assert page.status_code == 200, page.text
    form = hidden(page.text) | {"email": email, "password": password, "decision": "allow"}
    granted = http.post("/oauth/authorize", data=form)
    assert granted.status_code == 302, granted.text
    callback = urlsplit(granted.headers["location"])
    assert callback.path == "/portal/callback"
    return http.get(f"{callback.path}?{callback.query}")


@pytest.fixture
def http(alliance: Alliance) -> httpx.Client:
    alliance.person(ANALYST)
    with alliance.http() as client:
        yield client


def test_every_message_has_both_languages() -> None:
    assert set(LANGUAGES) == {"en", "zh"}
    assert [k for k, v in MESSAGES.items() if set(v) != set(LANGUAGES)] == []


def test_sign_in_sets_a_fresh_opaque_lax_httponly_cookie(http: httpx.Client) -> None:
    landing = http.get("/portal")
    assert landing.status_code == 200
    assert 'href="/portal/login"' in landing.text
    start = http.get("/portal/login")
    pending = set_cookie(start, COOKIE)
    assert "HttpOnly" in pending
    assert "SameSite=lax" in pending
    assert "Path=/portal" in pending
    assert "Secure" not in pending  # served over plain http on loopback
    before = http.cookies.get(COOKIE)
    done = sign_in(http)
    assert done.status_code == 303
    assert done.headers["location"] == "/portal/indicators"
    cookie = set_cookie(done, COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert http.cookies.get(COOKIE) != before  # a new session after sign-in
    home = http.get("/portal")
    assert home.status_code == 200
    assert "Automotive Parts" in home.text
    assert "Ada Analyst" in home.text
    assert home.headers["x-frame-options"] == "DENY"


def test_the_callback_refuses_a_foreign_state_and_a_denial(http: httpx.Client) -> None:
    http.get("/portal/login")
    wrong = http.get("/portal/callback", params={"code": "x", "state": "not-ours"})
    assert wrong.status_code == 400
    assert "Sign-in did not complete" in wrong.text
    no_session = httpx.get(f"{http.base_url}/portal/callback", params={"state": "s", "code": "c"})
    assert no_session.status_code == 400


def test_forms_refuse_a_missing_or_wrong_csrf_token(http: httpx.Client) -> None:
    sign_in(http)
    form = {"type": "domain", "value": "fake-shop.example", "confidence": "50"}
    assert http.post("/portal/indicators/new", data=form).status_code == 400
    bad = http.post("/portal/indicators/new", data=form | {"csrf_token": "guess"})
    assert bad.status_code == 400
    assert "did not come from this page" in bad.text
    assert http.post("/portal/logout", data={"csrf_token": "guess"}).status_code == 400
    assert http.get("/portal").status_code == 200
    assert "Ada Analyst" in http.get("/portal").text  # still signed in


def test_submit_shows_errors_next_to_fields_then_submits(http: httpx.Client) -> None:
    sign_in(http)
    page = http.get("/portal/indicators/new")
    assert page.status_code == 200
    csrf = hidden(page.text)["csrf_token"]
    group = re.search(
        r'<select id="working_group" name="working_group">\s*<option value="([^"]+)"', page.text
    )
    assert group is not None
    base = {"csrf_token": csrf, "type": "domain", "working_group": group.group(1)}
    not_number = http.post(
        "/portal/indicators/new", data=base | {"value": "x.example", "confidence": "lots"}
    )
    assert not_number.status_code == 400
    assert 'id="confidence-error"' in not_number.text
    assert 'aria-describedby="confidence-error"' in not_number.text
    empty = http.post("/portal/indicators/new", data=base | {"value": "", "confidence": "50"})
    assert empty.status_code == 400
    assert 'id="value-error"' in empty.text
    bad_type = http.post("/portal/indicators/new", data=base | {"type": "nonsense", "value": "a"})
    assert bad_type.status_code == 400
    assert "field-error" in bad_type.text
    done = http.post(
        "/portal/indicators/new",
        data=base
        | {"value": "HTTPS://Fake-Brake-Pads.example/", "confidence": "70", "brands": "Acme"},
    )
    assert done.status_code == 303, done.text
    shown = http.get(done.headers["location"])
    assert shown.status_code == 200
    assert "fake-brake-pads.example" in shown.text
    listed = http.get("/portal/indicators", params={"type": "domain"})
    assert "fake-brake-pads.example" in listed.text


@pytest.mark.parametrize(
    "path",
    [
        "/portal/indicators?type=%00&group=nope&after=zzz",
        "/portal/indicators/not-a-uuid",
        "/portal/indicators/00000000-0000-0000-0000-000000000000",
        "/portal/language?to=xx&next=https://evil.example/",
        "/portal/language?to=zh&next=//evil.example",
        "/portal/static/../../etc/passwd",
        "/portal/callback?error=access_denied",
        "/portal/login?next=%0d%0aSet-Cookie:x",
    ],
)
def test_odd_input_never_answers_500(http: httpx.Client, path: str) -> None:
    sign_in(http)
    raw = http.post(
        "/portal/indicators/new", content=b"\xff\xfe", headers={"content-type": "text/plain"}
    )
    assert raw.status_code == 400
    response = http.get(path)
    assert response.status_code < 500
    if response.status_code in (302, 303):
        location = response.headers["location"]
        assert location.startswith("/portal") or location.startswith("/oauth/authorize")


def test_sign_out_revokes_the_session(http: httpx.Client) -> None:
    sign_in(http)
    cookie = http.cookies.get(COOKIE)
    csrf = hidden(http.get("/portal").text)["csrf_token"]
    out = http.post("/portal/logout", data={"csrf_token": csrf})
    assert out.status_code == 200
    assert "You have signed out" in out.text
    again = httpx.get(f"{http.base_url}/portal", cookies={COOKIE: cookie or ""})
    assert again.status_code == 200
    assert "Ada Analyst" not in again.text
    assert 'href="/portal/login"' in again.text


def test_chinese_interface(http: httpx.Client) -> None:
    sign_in(http)
    switched = http.get("/portal/language", params={"to": "zh", "next": "/portal"})
    assert switched.status_code == 303
    home = http.get("/portal")
    assert '<html lang="zh-Hans">' in home.text
    assert "您的工作组" in home.text
