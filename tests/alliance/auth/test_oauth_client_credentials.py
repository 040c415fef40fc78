"""Client credentials over real HTTP: secrets, private_key_jwt, limits, introspection,
revocation and server metadata. Tokens are checked with PyJWT against the published JWKS."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc.jwk import RSAKey

from tests.alliance.auth.conftest import Alliance

ME = "{ me { organisation { slug } scopes } }"


def token_request(alliance: Alliance, data: dict[str, str], auth: Any = None) -> httpx.Response:
    with alliance.http() as http:
        return http.post("/oauth/token", data=data, auth=auth)


def test_client_credentials_with_authlibs_own_client(alliance: Alliance) -> None:
    client_id, secret = alliance.client("shopmart", scopes=["listings:check", "sync:read"])
    with OAuth2Client(client_id, secret, scope="listings:check") as oauth:
        token = oauth.fetch_token(
            f"{alliance.base_url}/oauth/token", grant_type="client_credentials"
        )

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == alliance.settings.token.ttl_seconds
    assert "refresh_token" not in token
    claims = alliance.verify(token["access_token"])
    ids = alliance.ids()
    assert claims["client_id"] == client_id
    assert claims["sub"] == client_id
    assert claims["scope"] == "listings:check"
    assert claims["org"] == str(ids["shopmart"])
    assert claims["org_slug"] == "shopmart"
    assert "person" not in claims
    # No working groups asked for: every group its organisation sits in.
    assert sorted(claims["wg"]) == sorted(
        str(ids[f"wg:{g}"]) for g in ("automotive-parts", "luxury-goods", "consumer-electronics")
    )
    assert token["scope"] == (
        "listings:check wg:automotive-parts wg:consumer-electronics wg:luxury-goods"
    )


def test_the_token_works_on_the_api_until_it_is_revoked(alliance: Alliance) -> None:
    client_id, secret = alliance.client("shopmart", scopes=["indicators:read"])
    issued = token_request(alliance, {"grant_type": "client_credentials"}, (client_id, secret))
    access = issued.json()["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}

    with alliance.http() as http:
        me = http.post("/graphql", json={"query": ME}, headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json()["data"]["me"]["organisation"]["slug"] == "shopmart"
        active = http.post("/oauth/introspect", data={"token": access}, auth=(client_id, secret))
        assert active.json()["active"] is True
        assert active.json()["client_id"] == client_id
        assert active.json()["scope"] == "indicators:read"

        revoked = http.post(
            "/oauth/revoke",
            data={"token": access, "token_type_hint": "access_token"},
            auth=(client_id, secret),
        )
        assert revoked.status_code == 200

        after = http.post("/oauth/introspect", data={"token": access}, auth=(client_id, secret))
        assert after.json() == {"active": False}
        refused = http.post("/graphql", json={"query": ME}, headers=bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.headers["www-authenticate"]


def test_client_secret_post(alliance: Alliance) -> None:
    client_id, secret = alliance.client(
        "city-police", scopes=["indicators:read"], auth_method="client_secret_post"
    )
    ok = token_request(
        alliance,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret or ""},
    )
    assert ok.status_code == 200, ok.text
    assert alliance.verify(ok.json()["access_token"])["client_id"] == client_id
    # The registered method only: the same secret over HTTP Basic is refused.
    basic = token_request(alliance, {"grant_type": "client_credentials"}, (client_id, secret))
    assert basic.status_code == 401
    assert basic.json()["error"] == "invalid_client"


def test_private_key_jwt_client_authentication(alliance: Alliance) -> None:
    key = RSAKey.generate_key(2048, private=True, parameters={"kid": "partner-1"})
    client_id, secret = alliance.client(
        "shopmart",
        scopes=["listings:check"],
        auth_method="private_key_jwt",
        jwks={"keys": [key.as_dict(private=False)]},
    )
    assert secret is None, "a key-holding client gets no secret"
    token_url = f"{alliance.base_url}/oauth/token"
    with OAuth2Client(
        client_id,
        key,
        token_endpoint_auth_method=PrivateKeyJWT(token_url, alg="RS256"),
    ) as oauth:
        token = oauth.fetch_token(token_url, grant_type="client_credentials")
    assert alliance.verify(token["access_token"])["client_id"] == client_id

    # The same assertion cannot be played twice.
    assertion = private_key_jwt_sign(key, client_id, token_url, alg="RS256")
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    assert token_request(alliance, form).status_code == 200
    replay = token_request(alliance, form)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_client"

    other = RSAKey.generate_key(2048, private=True, parameters={"kid": "partner-1"})
    forged = token_request(
        alliance, form | {"client_assertion": private_key_jwt_sign(other, client_id, token_url)}
    )
    assert forged.json()["error"] == "invalid_client"


def test_bad_secret_is_invalid_client(alliance: Alliance) -> None:
    client_id, _ = alliance.client("shopmart")
    answer = token_request(alliance, {"grant_type": "client_credentials"}, (client_id, "wrong"))
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["cache-control"] == "no-store"


def test_unknown_client_is_invalid_client(alliance: Alliance) -> None:
    answer = token_request(alliance, {"grant_type": "client_credentials"}, ("cl_nobody", "x"))
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_disabled_client_is_invalid_client(alliance: Alliance) -> None:
    client_id, secret = alliance.client("shopmart")
    assert token_request(
        alliance, {"grant_type": "client_credentials"}, (client_id, secret)
    ).is_success
    alliance.disable(client_id)
    answer = token_request(alliance, {"grant_type": "client_credentials"}, (client_id, secret))
    assert answer.status_code in (400, 401)
    assert answer.json() == {
        "error": "invalid_client",
        "error_description": "the client is disabled",
    }


@pytest.mark.parametrize(
    ("scope", "reason"),
    [
        ("indicators:write", "not allowed"),
        ("admin", "not allowed"),
        ("listings:check bogus:scope", "unknown"),
        ("listings:check wg:luxury-goods", "working group"),
        ("wg:no-such-group", "working group"),
    ],
)
def test_escalation_is_invalid_scope(alliance: Alliance, scope: str, reason: str) -> None:
    client_id, secret = alliance.client(
        "shopmart", scopes=["listings:check"], working_groups=["automotive-parts"]
    )
    answer = token_request(
        alliance, {"grant_type": "client_credentials", "scope": scope}, (client_id, secret)
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"
    assert reason in answer.json()["error_description"]


def test_a_token_is_limited_to_the_clients_working_groups(alliance: Alliance) -> None:
    client_id, secret = alliance.client(
        "shopmart", scopes=["listings:check"], working_groups=["automotive-parts", "luxury-goods"]
    )
    answer = token_request(
        alliance,
        {"grant_type": "client_credentials", "scope": "wg:luxury-goods"},
        (client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    claims = alliance.verify(answer.json()["access_token"])
    assert claims["wg"] == [str(alliance.ids()["wg:luxury-goods"])]
    assert claims["scope"] == "listings:check"


def test_only_the_operator_organisation_may_hold_admin(alliance: Alliance) -> None:
    from alliance.errors import InvalidInput

    with pytest.raises(InvalidInput, match="may not hold scope"):
        alliance.client("shopmart", scopes=["admin"])
    client_id, secret = alliance.client("alliance-office", scopes=["admin"])
    answer = token_request(alliance, {"grant_type": "client_credentials"}, (client_id, secret))
    assert alliance.verify(answer.json()["access_token"])["scope"] == "admin"


def test_a_grant_type_the_client_lacks_is_refused(alliance: Alliance) -> None:
    client_id, secret = alliance.client("shopmart")
    answer = token_request(
        alliance, {"grant_type": "refresh_token", "refresh_token": "x"}, (client_id, secret)
    )
    assert answer.json()["error"] == "unauthorized_client"
    unknown = token_request(alliance, {"grant_type": "password"}, (client_id, secret))
    assert unknown.json()["error"] == "unsupported_grant_type"


def test_refusals_and_issues_are_audited(alliance: Alliance) -> None:
    from sqlalchemy import select

    from alliance.audit.models import AuditEntry

    client_id, secret = alliance.client("shopmart")
    token_request(alliance, {"grant_type": "client_credentials"}, (client_id, secret))
    token_request(alliance, {"grant_type": "client_credentials"}, (client_id, "wrong"))

    def entries(session: Any) -> list[tuple[str, str, dict[str, Any]]]:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.client_id == client_id).order_by(AuditEntry.seq)
        )
        return [(row.action, row.outcome, row.detail) for row in rows]

    found = alliance.read(entries)
    assert [(a, o) for a, o, _ in found] == [
        ("token.issued", "allowed"),
        ("token.denied", "denied"),
    ]
    assert found[1][2]["error"] == "invalid_client"


def test_introspection_needs_an_authenticated_client(alliance: Alliance) -> None:
    client_id, secret = alliance.client("shopmart")
    access = token_request(
        alliance, {"grant_type": "client_credentials"}, (client_id, secret)
    ).json()["access_token"]
    with alliance.http() as http:
        anonymous = http.post("/oauth/introspect", data={"token": access})
        wrong = http.post("/oauth/introspect", data={"token": access}, auth=(client_id, "nope"))
        garbage = http.post("/oauth/introspect", data={"token": "x.y.z"}, auth=(client_id, secret))
    assert anonymous.json()["error"] == "invalid_client"
    assert wrong.json()["error"] == "invalid_client"
    assert garbage.json() == {"active": False}


def test_another_organisation_cannot_introspect_or_revoke(alliance: Alliance) -> None:
    owner = alliance.client("shopmart")
    stranger = alliance.client("acme-motors", scopes=["indicators:read"])
    access = token_request(alliance, {"grant_type": "client_credentials"}, owner).json()[
        "access_token"
    ]
    with alliance.http() as http:
        peek = http.post("/oauth/introspect", data={"token": access}, auth=stranger)
        revoke = http.post("/oauth/revoke", data={"token": access}, auth=stranger)
        still = http.post("/oauth/introspect", data={"token": access}, auth=owner)
    assert peek.json() == {"active": False}
    assert revoke.status_code == 400
    assert revoke.json()["error"] == "invalid_grant"
    assert still.json()["active"] is True


def test_server_metadata_and_jwks(alliance: Alliance) -> None:
    with alliance.http() as http:
        document = http.get("/.well-known/oauth-authorization-server").json()
        jwks = http.get("/.well-known/jwks.json").json()
    metadata = AuthorizationServerMetadata(document)
    metadata.validate()
    assert document["issuer"] == alliance.base_url
    assert document["token_endpoint"] == f"{alliance.base_url}/oauth/token"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "urn:ietf:params:oauth:grant-type:jwt-bearer" in document["grant_types_supported"]
    assert jwks["keys"]
    assert all("d" not in key for key in jwks["keys"])


def test_form_encoding_is_required(alliance: Alliance) -> None:
    client_id, secret = alliance.client("shopmart")
    with alliance.http() as http:
        answer = http.post(
            "/oauth/token", json={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_expired_tokens_introspect_inactive(alliance: Alliance) -> None:
    from alliance.auth.tokens import TokenGrant, issue_access_token

    client_id, secret = alliance.client("shopmart")
    from alliance.auth.keys import load_key_ring

    keys = load_key_ring(pem=None, key_file=alliance.settings.signing_key_file)
    old, _ = issue_access_token(
        keys,
        TokenGrant(
            subject=client_id,
            client_id=client_id,
            organisation_id=alliance.ids()["shopmart"],
            organisation_slug="shopmart",
            scopes=("indicators:read",),
        ),
        issuer=alliance.base_url,
        audience=alliance.settings.token_audience,
        ttl_seconds=60,
        now=int(time.time()) - 3600,
    )
    with alliance.http() as http:
        answer = http.post("/oauth/introspect", data={"token": old}, auth=(client_id, secret))
    assert answer.json() == {"active": False}
    assert uuid.UUID(str(alliance.ids()["shopmart"]))
