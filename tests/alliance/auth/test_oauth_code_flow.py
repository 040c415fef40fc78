"""Authorization code + PKCE for people, the sign-in page, and rotating refresh tokens."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.alliance.auth.conftest import PASSWORD, Alliance

REDIRECT = "http://127.0.0.1:9/callback"
ANALYST = "analyst@acme-motors.example"


@pytest.fixture(scope="module")
def console(alliance: Alliance) -> str:
    """A public client (no secret, PKCE) of acme-motors, and its analyst's local account."""
    client_id, secret = alliance.client(
        "acme-motors",
        name="Acme brand-protection console",
        scopes=["indicators:read", "indicators:write", "guides:read", "org:admin"],
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT],
        auth_method="none",
    )
    assert secret is None
    alliance.person(ANALYST)
    return client_id


def authorization_params(client_id: str, verifier: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "indicators:read guides:read",
        "state": "st-123",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    } | extra


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def sign_in(
    http: httpx.Client,
    params: dict[str, str],
    *,
    email: str = ANALYST,
    password: str = PASSWORD,
    decision: str = "allow",
    tamper: Any = None,
) -> httpx.Response:
    page = http.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text) | {"email": email, "password": password, "decision": decision}
    if tamper:
        tamper(http, form)
    return http.post("/oauth/authorize", data=form)


def code_from(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def exchange(http: httpx.Client, client_id: str, code: str, verifier: str) -> httpx.Response:
    return http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )


def refresh(http: httpx.Client, client_id: str, token: str, **extra: str) -> httpx.Response:
    return http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
        | extra,
    )


# --- the page ---------------------------------------------------------------------------------


def test_the_page_is_plain_accessible_html(alliance: Alliance, console: str) -> None:
    with alliance.http() as http:
        page = http.get("/oauth/authorize", params=authorization_params(console, "v" * 50))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    html = page.text
    assert "<script" not in html
    assert '<html lang="en">' in html
    assert '<label for="email">' in html
    assert 'id="email"' in html
    assert '<label for="password">' in html
    assert 'id="password"' in html
    assert "Acme brand-protection console" in html
    assert "<code>indicators:read</code>: read counterfeit indicators" in html
    cookie = page.headers["set-cookie"]
    assert "alliance_csrf=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert hidden_fields(html)["csrf_token"]


def test_a_forged_form_is_refused(alliance: Alliance, console: str) -> None:
    def forge(http: httpx.Client, form: dict[str, str]) -> None:
        form["csrf_token"] = form["csrf_token"][:-4] + "abcd"

    def drop_cookie(http: httpx.Client, form: dict[str, str]) -> None:
        http.cookies.clear()

    for tamper in (forge, drop_cookie):
        with alliance.http() as http:
            answer = sign_in(http, authorization_params(console, "v" * 50), tamper=tamper)
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert 'role="alert"' in answer.text
        assert "expired or did not come from this page" in answer.text


def test_a_wrong_password_says_so(alliance: Alliance, console: str) -> None:
    with alliance.http() as http:
        answer = sign_in(http, authorization_params(console, "v" * 50), password="not it at all")
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "The e-mail address or password is not correct." in answer.text
    assert f'value="{ANALYST}"' in answer.text, "the e-mail is kept for the next try"
    assert 'aria-describedby="form-error"' in answer.text


def test_someone_of_another_organisation_cannot_sign_in_to_its_app(
    alliance: Alliance, console: str
) -> None:
    alliance.person("trust@shopmart.example")
    with alliance.http() as http:
        answer = sign_in(
            http, authorization_params(console, "v" * 50), email="trust@shopmart.example"
        )
    assert answer.status_code == 400
    assert "only its people can sign in" in answer.text


def test_denying_sends_access_denied_with_the_state(alliance: Alliance, console: str) -> None:
    with alliance.http() as http:
        answer = sign_in(http, authorization_params(console, "v" * 50), decision="deny")
    query = code_from(answer)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st-123"]
    assert "code" not in query


def test_an_unknown_redirect_uri_is_never_followed(alliance: Alliance, console: str) -> None:
    params = authorization_params(console, "v" * 50, redirect_uri="https://evil.example/cb")
    with alliance.http() as http:
        answer = http.get("/oauth/authorize", params=params)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "cannot be completed" in answer.text


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"code_challenge_method": "plain"}, "S256"),
        ({"code_challenge": ""}, "PKCE is required"),
        ({"scope": "admin"}, "not allowed"),
    ],
)
def test_bad_authorization_requests_go_back_with_an_error(
    alliance: Alliance, console: str, change: dict[str, str], description: str
) -> None:
    params = authorization_params(console, "v" * 50) | change
    with alliance.http() as http:
        answer = http.get("/oauth/authorize", params=params)
    query = code_from(answer)
    assert query["error"] == ["invalid_scope" if "scope" in change else "invalid_request"]
    assert description in query["error_description"][0]
    assert query["state"] == ["st-123"]


def test_a_person_cannot_consent_to_more_than_they_hold(alliance: Alliance, console: str) -> None:
    # org:admin is the client's to ask for, but the analyst does not administer acme-motors.
    params = authorization_params(console, "v" * 50, scope="indicators:read org:admin")
    with alliance.http() as http:
        answer = sign_in(http, params)
    query = code_from(answer)
    assert query["error"] == ["invalid_scope"]
    assert "org:admin" in query["error_description"][0]


# --- code, PKCE, refresh ----------------------------------------------------------------------


def test_code_pkce_and_refresh_with_authlibs_client(alliance: Alliance, console: str) -> None:
    verifier = generate_token(64)
    oauth = OAuth2Client(
        console,
        redirect_uri=REDIRECT,
        scope="indicators:read guides:read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    url, state = oauth.create_authorization_url(
        f"{alliance.base_url}/oauth/authorize", code_verifier=verifier
    )
    with alliance.http() as http:
        page = http.get(url)
        form = hidden_fields(page.text) | {
            "email": ANALYST,
            "password": PASSWORD,
            "decision": "allow",
        }
        answer = http.post("/oauth/authorize", data=form)
    location = answer.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    assert query["code"][0]

    token = oauth.fetch_token(
        f"{alliance.base_url}/oauth/token", authorization_response=location, code_verifier=verifier
    )
    claims = alliance.verify(token["access_token"])
    ids = alliance.ids()
    assert claims["org"] == str(ids["acme-motors"])
    assert claims["client_id"] == console
    assert claims["scope"] == "indicators:read guides:read"
    assert claims["person"] == claims["sub"]
    assert claims["wg"] == [str(ids["wg:automotive-parts"])]
    assert token["refresh_token"]

    renewed = oauth.refresh_token(
        f"{alliance.base_url}/oauth/token", refresh_token=token["refresh_token"]
    )
    assert renewed["refresh_token"] != token["refresh_token"]
    assert alliance.verify(renewed["access_token"])["sub"] == claims["sub"]
    oauth.close()


def test_a_wrong_verifier_is_invalid_grant(alliance: Alliance, console: str) -> None:
    verifier = generate_token(64)
    with alliance.http() as http:
        code = code_from(sign_in(http, authorization_params(console, verifier)))["code"][0]
        answer = exchange(http, console, code, generate_token(64))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_a_code_works_once_and_its_reuse_ends_what_it_started(
    alliance: Alliance, console: str
) -> None:
    verifier = generate_token(64)
    with alliance.http() as http:
        code = code_from(sign_in(http, authorization_params(console, verifier)))["code"][0]
        first = exchange(http, console, code, verifier)
        assert first.status_code == 200, first.text
        second = exchange(http, console, code, verifier)
        assert second.json()["error"] == "invalid_grant"
        # The refresh token the first exchange gave is revoked with it.
        assert refresh(http, console, first.json()["refresh_token"]).json()["error"] == (
            "invalid_grant"
        )


def test_refresh_rotation_and_reuse_detection(alliance: Alliance, console: str) -> None:
    verifier = generate_token(64)
    with alliance.http() as http:
        code = code_from(sign_in(http, authorization_params(console, verifier)))["code"][0]
        first = exchange(http, console, code, verifier).json()
        second = refresh(http, console, first["refresh_token"])
        assert second.status_code == 200, second.text
        second_tokens = second.json()
        third = refresh(http, console, second_tokens["refresh_token"])
        assert third.status_code == 200, third.text

        # The first refresh token again: someone holds a copy. The whole family ends.
        replay = refresh(http, console, first["refresh_token"])
        assert replay.status_code == 400
        assert replay.json()["error"] == "invalid_grant"
        latest = refresh(http, console, third.json()["refresh_token"])
        assert latest.json()["error"] == "invalid_grant"
        inspected = http.post(
            "/oauth/introspect",
            data={"token": third.json()["refresh_token"]},
            auth=alliance.client("acme-motors", scopes=["indicators:read"]),
        )
    assert inspected.json() == {"active": False}


def test_refresh_may_narrow_but_not_widen(alliance: Alliance, console: str) -> None:
    verifier = generate_token(64)
    with alliance.http() as http:
        code = code_from(sign_in(http, authorization_params(console, verifier)))["code"][0]
        tokens = exchange(http, console, code, verifier).json()
        wider = refresh(http, console, tokens["refresh_token"], scope="indicators:write")
        assert wider.json()["error"] == "invalid_scope"
        narrower = refresh(http, console, tokens["refresh_token"], scope="guides:read")
    assert narrower.status_code == 200, narrower.text
    assert alliance.verify(narrower.json()["access_token"])["scope"] == "guides:read"


def test_another_clients_refresh_token_is_refused(alliance: Alliance, console: str) -> None:
    verifier = generate_token(64)
    other, _ = alliance.client(
        "acme-motors",
        scopes=["indicators:read"],
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT],
        auth_method="none",
    )
    with alliance.http() as http:
        code = code_from(sign_in(http, authorization_params(console, verifier)))["code"][0]
        tokens = exchange(http, console, code, verifier).json()
        stolen = refresh(http, other, tokens["refresh_token"])
        assert stolen.json()["error"] == "invalid_grant"
        # ...and the rightful client can still use it.
        assert refresh(http, console, tokens["refresh_token"]).status_code == 200
