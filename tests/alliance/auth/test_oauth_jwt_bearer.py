"""RFC 7523: a member organisation's identity provider vouches for its people and services.

The provider's keys are served over HTTP from loopback (allowed in these tests' settings)
or registered inline; assertions are signed with authlib's own signer."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from authlib.oauth2.rfc7523 import JWTBearerGrant
from joserfc.jwk import RSAKey

from alliance.auth import service
from tests.alliance.auth.conftest import Alliance, KeyServer

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
INVESTIGATOR = "investigator@city-police.example"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, private=True, parameters={"kid": kid})


def assertion(
    alliance: Alliance,
    key: RSAKey,
    issuer: str,
    subject: str,
    *,
    audience: str | None = None,
    issued_at: int | None = None,
    expires_in: int = 300,
    jti: str | None = None,
) -> str:
    issued = int(time.time()) if issued_at is None else issued_at
    return JWTBearerGrant.sign(
        key,
        issuer=issuer,
        audience=audience or f"{alliance.base_url}/oauth/token",
        subject=subject,
        issued_at=issued,
        expires_at=issued + expires_in,
        claims={"jti": jti or uuid.uuid4().hex},
        header={"alg": "RS256", "kid": key.kid},
    )


def exchange(alliance: Alliance, signed: str, scope: str | None = None) -> httpx.Response:
    data = {"grant_type": GRANT, "assertion": signed}
    if scope:
        data["scope"] = scope
    with alliance.http() as http:
        return http.post("/oauth/token", data=data)


def trust(alliance: Alliance, org: str, **keys: Any) -> str:
    issuer = f"https://idp-{uuid.uuid4().hex[:8]}.{org}.example"
    alliance.write(lambda s: service.add_issuer(s, None, organisation=org, issuer=issuer, **keys))
    return issuer


@pytest.fixture
def served_issuer(alliance: Alliance, key_server: KeyServer) -> tuple[str, RSAKey, KeyServer]:
    key = new_key("idp-2026")
    key_server.publish(key)
    return trust(alliance, "city-police", jwks_uri=key_server.url), key, key_server


def test_a_person_vouched_for_by_their_organisation(
    alliance: Alliance, served_issuer: tuple[str, RSAKey, KeyServer]
) -> None:
    issuer, key, server = served_issuer
    answer = exchange(alliance, assertion(alliance, key, issuer, INVESTIGATOR))
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert "refresh_token" not in token
    claims = alliance.verify(token["access_token"])
    ids = alliance.ids()
    assert claims["org"] == str(ids["city-police"])
    assert claims["client_id"] == issuer
    assert claims["person"] == claims["sub"]
    # A person's ceiling: no machine-only or administrative scope.
    granted = set(claims["scope"].split())
    assert "indicators:read" in granted
    assert not granted & {"federation", "admin", "org:admin"}
    # The organisation's seats: all three groups (it observes consumer-electronics).
    assert len(claims["wg"]) == 3
    # The keys were fetched once and are cached for the next assertion.
    again = exchange(alliance, assertion(alliance, key, issuer, INVESTIGATOR), "indicators:read")
    assert alliance.verify(again.json()["access_token"])["scope"] == "indicators:read"
    assert server.requests == 1


def test_a_service_vouched_for_by_its_organisation(
    alliance: Alliance, served_issuer: tuple[str, RSAKey, KeyServer]
) -> None:
    issuer, key, _ = served_issuer
    service_id, _ = alliance.client(
        "city-police",
        scopes=["indicators:read", "sync:read"],
        grant_types=[GRANT],
        working_groups=["luxury-goods"],
    )
    answer = exchange(alliance, assertion(alliance, key, issuer, service_id), "sync:read")
    assert answer.status_code == 200, answer.text
    claims = alliance.verify(answer.json()["access_token"])
    assert claims["sub"] == service_id
    assert claims["client_id"] == service_id
    assert claims["scope"] == "sync:read"
    assert claims["wg"] == [str(alliance.ids()["wg:luxury-goods"])]
    # Beyond the service client's own limits: refused.
    for scope in ("indicators:write", "wg:automotive-parts"):
        wider = exchange(alliance, assertion(alliance, key, issuer, service_id), scope)
        assert wider.json()["error"] == "invalid_scope", scope


def test_an_inline_jwks(alliance: Alliance) -> None:
    key = new_key("inline-1")
    issuer = trust(alliance, "city-police", jwks={"keys": [key.as_dict(private=False)]})
    answer = exchange(alliance, assertion(alliance, key, issuer, INVESTIGATOR))
    assert answer.status_code == 200, answer.text


def test_the_organisations_entitlements_bound_the_token(alliance: Alliance) -> None:
    key = new_key("inline-2")
    issuer = trust(alliance, "city-police", jwks={"keys": [key.as_dict(private=False)]})
    for scope in ("admin", "federation", "wg:not-a-group", "indicators:read bogus"):
        answer = exchange(alliance, assertion(alliance, key, issuer, INVESTIGATOR), scope)
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_scope", scope


@pytest.mark.parametrize(
    "case", ["expired", "forged", "unknown issuer", "wrong audience", "replayed", "stranger"]
)
def test_bad_assertions_are_invalid_grant(
    alliance: Alliance, served_issuer: tuple[str, RSAKey, KeyServer], case: str
) -> None:
    issuer, key, _ = served_issuer
    kwargs: dict[str, Any] = {}
    signer, who, subject = key, issuer, INVESTIGATOR
    if case == "expired":
        kwargs = {"issued_at": int(time.time()) - 3600, "expires_in": 600}
    elif case == "forged":
        signer = new_key(key.kid)  # claims the issuer's kid, signed by someone else
    elif case == "unknown issuer":
        who = "https://idp.not-a-member.example"
    elif case == "wrong audience":
        kwargs = {"audience": "https://another-alliance.example/oauth/token"}
    elif case == "stranger":
        subject = "analyst@acme-motors.example"  # a person of another organisation
    signed = assertion(alliance, signer, who, subject, **kwargs)
    if case == "replayed":
        assert exchange(alliance, signed).status_code == 200
    answer = exchange(alliance, signed)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_grant"


def test_an_issuer_that_rotated_its_key_is_fetched_again(
    alliance: Alliance, key_server: KeyServer
) -> None:
    from alliance.auth import repository as repo

    old, new = new_key("gen-1"), new_key("gen-2")
    key_server.publish(old)
    issuer = trust(alliance, "city-police", jwks_uri=key_server.url)
    assert exchange(alliance, assertion(alliance, old, issuer, INVESTIGATOR)).status_code == 200
    key_server.publish(old, new)

    def age_cache(session: Any) -> None:
        # As if the keys had been fetched more than a minute ago.
        row = repo.issuer_by_url(session, issuer)
        row.jwks_fetched_at = row.jwks_fetched_at.replace(year=row.jwks_fetched_at.year - 1)

    alliance.write(age_cache)
    answer = exchange(alliance, assertion(alliance, new, issuer, INVESTIGATOR))
    assert answer.status_code == 200, answer.text
    assert key_server.requests == 2


def test_a_jwks_on_a_private_address_is_refused_unless_allowed(
    alliance: Alliance, key_server: KeyServer
) -> None:
    """The running instance allows loopback (these tests' setting); the same server with the
    default settings does not (see test_jwks_fetch for the address checks themselves)."""
    from alliance.auth.jwks_fetch import FetchPolicy, JwksFetchError, fetch_jwks

    key_server.publish(new_key("k"))
    assert fetch_jwks(key_server.url, FetchPolicy(allow_private_hosts=True))["keys"]
    with pytest.raises(JwksFetchError, match="loopback"):
        fetch_jwks(key_server.url.replace("http://", "https://"), FetchPolicy())
