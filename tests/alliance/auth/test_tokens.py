"""Access tokens (RFC 9068) and the instance signing key.

Rejections are checked on tokens crafted by hand, so each case breaks exactly one
thing; acceptance is cross-checked with PyJWT against the JWKS the app publishes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet, RSAKey

from alliance.auth.keys import ALGORITHM, KeyRing, generate_key, load_key_ring
from alliance.auth.tokens import InvalidToken, TokenGrant, issue_access_token, verify_access_token

ISSUER = "https://alliance.example"
AUDIENCE = "https://alliance.example/graphql"
NOW = 1_750_000_000
TTL = 600
LEEWAY = 30  # what verify_access_token allows for clock skew

ORG_ID = uuid.UUID("0190f1c2-0000-7000-8000-000000000001")
PERSON_ID = uuid.UUID("0190f1c2-0000-7000-8000-0000000000aa")


def ring_of(key: RSAKey) -> KeyRing:
    return KeyRing(current=key, verifying=KeySet([key]))


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return ring_of(generate_key())


@pytest.fixture(scope="module")
def other_ring() -> KeyRing:
    return ring_of(generate_key())


def make_grant(**overrides: Any) -> TokenGrant:
    values: dict[str, Any] = {
        "subject": str(PERSON_ID),
        "client_id": "console",
        "organisation_id": ORG_ID,
        "organisation_slug": "acme-motors",
        "scopes": ("indicators:read", "guides:read"),
        "person_id": PERSON_ID,
    }
    values.update(overrides)
    return TokenGrant(**values)


def issue(keys: KeyRing, *, now: int = NOW, ttl: int = TTL, **grant: Any) -> tuple[str, dict]:
    return issue_access_token(
        keys, make_grant(**grant), issuer=ISSUER, audience=AUDIENCE, ttl_seconds=ttl, now=now
    )


def verify(keys: KeyRing, token: str, *, now: int = NOW + 1, **kwargs: Any) -> dict[str, Any]:
    options = {"issuer": ISSUER, "audience": AUDIENCE} | kwargs
    return verify_access_token(keys, token, now=now, **options)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: object) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def signed(keys: KeyRing, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token properly signed with ``keys``, with whatever header and claims the test wants."""
    return jose_jwt.encode(header, claims, keys.current, algorithms=[ALGORITHM])


def good_header(keys: KeyRing) -> dict[str, Any]:
    return {"alg": ALGORITHM, "typ": "at+jwt", "kid": keys.kid}


# --- issuing and verifying --------------------------------------------------------------------


def test_round_trip_carries_every_rfc9068_claim(ring: KeyRing) -> None:
    token, issued = issue(ring)

    claims = verify(ring, token)

    assert claims == issued
    assert claims["iss"] == ISSUER
    assert claims["sub"] == str(PERSON_ID)
    assert claims["aud"] == AUDIENCE
    assert claims["iat"] == NOW
    assert claims["exp"] == NOW + TTL
    assert claims["client_id"] == "console"
    assert claims["scope"] == "indicators:read guides:read"
    assert claims["org"] == str(ORG_ID)
    assert claims["org_slug"] == "acme-motors"
    assert claims["person"] == str(PERSON_ID)
    assert len(claims["jti"]) >= 16
    header, _, _ = segments(token)
    assert header == {"alg": "RS256", "typ": "at+jwt", "kid": ring.kid}


def test_each_token_has_its_own_jti(ring: KeyRing) -> None:
    first, _ = issue(ring)
    second, _ = issue(ring)
    assert verify(ring, first)["jti"] != verify(ring, second)["jti"]


def test_client_token_has_no_person_claim(ring: KeyRing) -> None:
    token, _ = issue(ring, person_id=None, subject="cli:acme-motors")
    claims = verify(ring, token)
    assert "person" not in claims
    assert claims["sub"] == "cli:acme-motors"


def test_token_is_valid_until_expiry_plus_leeway(ring: KeyRing) -> None:
    token, _ = issue(ring)
    assert verify(ring, token, now=NOW + TTL - 1)["exp"] == NOW + TTL
    assert verify(ring, token, now=NOW + TTL + LEEWAY - 1)["exp"] == NOW + TTL


@pytest.mark.parametrize("after_expiry", [LEEWAY, LEEWAY + 1, 86_400])
def test_expired_token_is_rejected(ring: KeyRing, after_expiry: int) -> None:
    token, _ = issue(ring)
    with pytest.raises(InvalidToken, match="exp"):
        verify(ring, token, now=NOW + TTL + after_expiry)


def test_token_issued_in_the_future_is_rejected(ring: KeyRing) -> None:
    token, _ = issue(ring, now=NOW + 3600)
    with pytest.raises(InvalidToken, match="issued in the future"):
        verify(ring, token, now=NOW)


def test_wrong_audience_is_rejected(ring: KeyRing) -> None:
    token, _ = issue(ring)
    with pytest.raises(InvalidToken, match="aud"):
        verify(ring, token, audience="https://other.example/graphql")


def test_wrong_issuer_is_rejected(ring: KeyRing) -> None:
    token, _ = issue(ring)
    with pytest.raises(InvalidToken, match="iss"):
        verify(ring, token, issuer="https://other.example")


def test_tampered_payload_is_rejected(ring: KeyRing) -> None:
    token, _ = issue(ring)
    header, _, signature = token.split(".")
    claims = segments(token)[1] | {"scope": "admin", "org": str(uuid.uuid4())}
    forged = f"{header}.{b64url_json(claims)}.{signature}"
    with pytest.raises(InvalidToken, match="signature or format"):
        verify(ring, forged)


def test_tampered_header_is_rejected(ring: KeyRing) -> None:
    token, _ = issue(ring)
    _, payload, signature = token.split(".")
    header = good_header(ring) | {"kid": ring.kid + "x"}
    with pytest.raises(InvalidToken, match="signature or format"):
        verify(ring, f"{b64url_json(header)}.{payload}.{signature}")


def test_token_signed_by_another_key_is_rejected(ring: KeyRing, other_ring: KeyRing) -> None:
    token, _ = issue(other_ring)
    with pytest.raises(InvalidToken, match="signature or format"):
        verify(ring, token)


def test_another_key_claiming_our_kid_is_rejected(ring: KeyRing, other_ring: KeyRing) -> None:
    _, claims = issue(ring)
    forged = signed(other_ring, good_header(ring), claims)
    assert segments(forged)[0]["kid"] == ring.kid
    with pytest.raises(InvalidToken, match="signature or format"):
        verify(ring, forged)


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt", "id_token+jwt", None])
def test_wrong_typ_header_is_rejected(ring: KeyRing, typ: str | None) -> None:
    _, claims = issue(ring)
    header = {"alg": ALGORITHM, "kid": ring.kid} | ({"typ": typ} if typ else {})
    with pytest.raises(InvalidToken, match="typ must be at\\+jwt"):
        verify(ring, signed(ring, header, claims))


def test_media_type_form_of_typ_is_accepted(ring: KeyRing) -> None:
    # RFC 9068 section 2.1: "application/at+jwt" is the same type, spelled in full.
    _, claims = issue(ring)
    token = signed(ring, good_header(ring) | {"typ": "application/at+jwt"}, claims)
    assert verify(ring, token)["org"] == str(ORG_ID)


@pytest.mark.parametrize(
    "claim", ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "org"]
)
def test_token_missing_a_required_claim_is_rejected(ring: KeyRing, claim: str) -> None:
    _, claims = issue(ring)
    del claims[claim]
    with pytest.raises(InvalidToken, match=f"lacks required claims: {claim}$"):
        verify(ring, signed(ring, good_header(ring), claims))


def test_org_claim_must_be_an_organisation_id(ring: KeyRing) -> None:
    _, claims = issue(ring)
    claims["org"] = "acme-motors"
    with pytest.raises(InvalidToken, match="org claim"):
        verify(ring, signed(ring, good_header(ring), claims))


def test_unsigned_alg_none_token_is_rejected(ring: KeyRing) -> None:
    _, claims = issue(ring)
    header = {"alg": "none", "typ": "at+jwt", "kid": ring.kid}
    for signature in ("", b64url(b"x")):
        token = f"{b64url_json(header)}.{b64url_json(claims)}.{signature}"
        with pytest.raises(InvalidToken, match="signature or format"):
            verify(ring, token)


def test_hs256_signed_with_the_public_key_is_rejected(ring: KeyRing) -> None:
    """The algorithm-confusion attack: the public key used as an HMAC secret."""
    _, claims = issue(ring)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": ring.kid}
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    public_pem = ring.current.as_pem(private=False)
    for secret in (public_pem, json.dumps(ring.public_jwks()).encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(InvalidToken, match="signature or format"):
            verify(ring, f"{signing_input}.{b64url(mac)}")


@given(garbage=st.text(max_size=300))
def test_arbitrary_text_is_an_invalid_token_never_a_crash(ring: KeyRing, garbage: str) -> None:
    # The header comes from anyone on the network: every failure must be InvalidToken (a 401).
    with pytest.raises(InvalidToken):
        verify(ring, garbage)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
HEADER_NAMES = ["alg", "typ", "kid", "crit", "b64", "jku", "jwk", "x5u", "x5c", "cty", "zip"]


@given(
    header=st.dictionaries(st.sampled_from(HEADER_NAMES), JSON) | JSON,
    payload=JSON.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=60),
    signature=st.binary(max_size=300),
)
def test_forged_segments_are_invalid_tokens(
    ring: KeyRing, header: object, payload: bytes, signature: bytes
) -> None:
    with pytest.raises(InvalidToken):
        verify(ring, f"{b64url_json(header)}.{b64url(payload)}.{b64url(signature)}")


@pytest.mark.parametrize("header", [{"alg": "RS256", "crit": None}, {"alg": "RS256", "crit": 1}])
def test_header_of_the_wrong_json_type_is_rejected(ring: KeyRing, header: dict) -> None:
    # Found by the property above: joserfc raised TypeError, which the API turned into a 500.
    with pytest.raises(InvalidToken, match="signature or format"):
        verify(ring, f"{b64url_json(header)}.{b64url_json({})}.{b64url(b'sig')}")


# --- independent verification against the published JWKS -------------------------------------


async def test_app_token_verifies_with_pyjwt_against_published_jwks(client, app, settings) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    jwks = response.json()
    [published] = jwks["keys"]
    assert published["kid"] == app.state.keys.kid
    assert published["kty"] == "RSA"
    assert published["alg"] == "RS256"
    assert published["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & published.keys(), "private parts published"

    token, issued = issue_access_token(
        app.state.keys,
        make_grant(),
        issuer=settings.base_url,
        audience=settings.token_audience,
        ttl_seconds=300,
    )
    header = pyjwt.get_unverified_header(token)
    key = pyjwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    claims = pyjwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=settings.token_audience,
        issuer=settings.base_url,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )

    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert claims == issued
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - time.time()) < 60


@pytest.mark.parametrize(
    "header", [{"alg": "RS256", "typ": "at+jwt", "crit": None}, {"alg": "none", "typ": "at+jwt"}]
)
async def test_app_answers_a_malformed_token_with_401(client, header: dict) -> None:
    token = f"{b64url_json(header)}.{b64url_json({'org': str(ORG_ID)})}.{b64url(b'sig')}"
    response = await client.post(
        "/graphql",
        json={"query": "{ workingGroups { totalCount } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


# --- the signing key --------------------------------------------------------------------------


def test_first_load_creates_a_private_key_file_readable_by_owner_only(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "signing-key.pem"

    first = load_key_ring(pem=None, key_file=key_file)

    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key_file.read_bytes()
    assert first.current.is_private
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name], "temporary file left"
    assert first.kid == first.current.thumbprint()

    second = load_key_ring(pem=None, key_file=key_file)
    assert second.kid == first.kid
    token, _ = issue(first)
    assert verify(second, token)["org"] == str(ORG_ID)


def _load_kid(key_file: str) -> str:
    try:
        return load_key_ring(pem=None, key_file=Path(key_file)).kid
    except Exception as exc:  # reported to the parent, which fails the test with it
        return f"{type(exc).__name__}: {exc}"


def test_concurrent_first_loads_agree_on_the_key_on_disk(tmp_path: Path) -> None:
    """Several processes starting at once (API, worker, CLI) end up with the one key that was stored."""
    with multiprocessing.get_context("spawn").Pool(12) as pool:
        for attempt in range(4):
            key_file = tmp_path / f"run{attempt}" / "signing-key.pem"
            kids = pool.map(_load_kid, [str(key_file)] * 12)
            stored = load_key_ring(pem=None, key_file=key_file).kid
            assert kids == [stored] * 12
            assert os.listdir(key_file.parent) == [key_file.name]


def test_pem_from_settings_wins_over_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "signing-key.pem"
    from_file = load_key_ring(pem=None, key_file=key_file)
    configured = generate_key()

    ring = load_key_ring(pem=configured.as_pem(private=True).decode(), key_file=key_file)

    assert ring.kid == configured.thumbprint()
    assert ring.kid != from_file.kid
    assert load_key_ring(pem=None, key_file=key_file).kid == from_file.kid


def test_pem_from_settings_does_not_create_a_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "signing-key.pem"
    load_key_ring(pem=generate_key().as_pem(private=True).decode(), key_file=key_file)
    assert not key_file.parent.exists()


@pytest.mark.parametrize(
    "pem",
    [
        "garbage",
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    ],
)
def test_garbage_pem_from_settings_raises(tmp_path: Path, pem: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  the message is the crypto library's
        load_key_ring(pem=pem, key_file=tmp_path / "unused.pem")


def test_garbage_key_file_raises(tmp_path: Path) -> None:
    key_file = tmp_path / "signing-key.pem"
    key_file.write_bytes(b"this is not a key\n")
    with pytest.raises(ValueError):  # noqa: PT011
        load_key_ring(pem=None, key_file=key_file)
    assert key_file.read_bytes() == b"this is not a key\n", "a bad key file must not be replaced"


def test_public_key_cannot_sign(tmp_path: Path) -> None:
    public = generate_key().as_pem(private=False).decode()
    with pytest.raises(ValueError, match="not a private key"):
        load_key_ring(pem=public, key_file=tmp_path / "unused.pem")
