"""Fetching a member's JWKS: which addresses are refused, and the limits on what comes back."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from alliance.auth.jwks_fetch import (
    FetchPolicy,
    JwksFetchError,
    address_refusal,
    fetch_jwks,
    validated_jwks,
)

PUBLIC_KEY = RSAKey.generate_key(2048, private=True, parameters={"kid": "k1"}).as_dict(
    private=False
)


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.7", "private"),
        ("172.16.4.4", "private"),
        ("192.168.1.20", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "not a public address"),
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str, label: str) -> None:
    reason = address_refusal(address, allow_private_hosts=False)
    assert reason is not None
    assert label in reason


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1"])
def test_the_operator_may_allow_private_addresses(address: str) -> None:
    assert address_refusal(address, allow_private_hosts=True) is None


@pytest.mark.parametrize("address", ["0.0.0.0", "224.0.0.1", "ff02::1"])
def test_unspecified_and_multicast_are_never_fetched(address: str) -> None:
    assert address_refusal(address, allow_private_hosts=True) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "93.184.216.34"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(address, allow_private_hosts=False) is None


def resolving_to(*addresses: str) -> Any:
    """DNS, the edge of the world: a resolver that answers what the test says."""

    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(2, 1, 6, "", (address, port)) for address in addresses]

    return resolve


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(JwksFetchError, match=r"refusing to connect to 'idp\.example'.*private"):
        fetch_jwks("https://idp.example/jwks", FetchPolicy(), resolve=resolving_to("10.1.2.3"))


def test_every_address_of_the_name_must_be_public() -> None:
    resolve = resolving_to("8.8.8.8", "169.254.169.254")
    with pytest.raises(JwksFetchError, match="link-local"):
        fetch_jwks("https://idp.example/jwks", FetchPolicy(), resolve=resolve)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://idp.example/jwks", "https"),
        ("ftp://idp.example/jwks", "https"),
        ("https://user:pw@idp.example/jwks", "credentials"),
    ],
)
def test_only_plain_https_urls(url: str, message: str) -> None:
    with pytest.raises(JwksFetchError, match=message):
        fetch_jwks(url, FetchPolicy(), resolve=resolving_to("8.8.8.8"))


class Behaviour:
    status = 200
    body = json.dumps({"keys": [PUBLIC_KEY]}).encode()
    delay = 0.0
    headers: dict[str, str] = {}


@pytest.fixture
def idp() -> Iterator[tuple[str, type[Behaviour]]]:
    class Now(Behaviour):
        pass

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            time.sleep(Now.delay)
            self.send_response(Now.status)
            for name, value in Now.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(Now.body)))
            self.end_headers()
            self.wfile.write(Now.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks", Now
    server.shutdown()
    server.server_close()


ALLOW_LOOPBACK = FetchPolicy(allow_private_hosts=True, timeout_seconds=2, max_bytes=8 * 1024)


def test_a_good_jwks_is_fetched(idp: tuple[str, type[Behaviour]]) -> None:
    url, _ = idp
    assert fetch_jwks(url, ALLOW_LOOPBACK) == {"keys": [PUBLIC_KEY]}


def test_loopback_is_refused_without_the_setting(idp: tuple[str, type[Behaviour]]) -> None:
    url, _ = idp
    with pytest.raises(JwksFetchError):
        fetch_jwks(url, FetchPolicy())
    with pytest.raises(JwksFetchError, match="loopback"):
        fetch_jwks(url.replace("http:", "https:"), FetchPolicy())


def test_redirects_are_not_followed(idp: tuple[str, type[Behaviour]]) -> None:
    url, now = idp
    now.status, now.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data"}
    with pytest.raises(JwksFetchError, match="HTTP 302"):
        fetch_jwks(url, ALLOW_LOOPBACK)


def test_a_large_answer_is_cut_off(idp: tuple[str, type[Behaviour]]) -> None:
    url, now = idp
    now.body = json.dumps({"keys": [PUBLIC_KEY] * 50}).encode()
    with pytest.raises(JwksFetchError, match="larger than 8192 bytes"):
        fetch_jwks(url, ALLOW_LOOPBACK)


def test_a_slow_answer_times_out(idp: tuple[str, type[Behaviour]]) -> None:
    url, now = idp
    now.delay = 1.5
    started = time.monotonic()
    with pytest.raises(JwksFetchError, match="Timeout"):
        fetch_jwks(url, FetchPolicy(allow_private_hosts=True, timeout_seconds=0.3))
    assert time.monotonic() - started < 1.4


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not JSON"),
        (json.dumps({"keys": "nope"}), "'keys' list"),
        (json.dumps({"keys": []}), "no keys"),
        (json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), "public keys only"),
    ],
)
def test_what_is_not_a_public_jwks_is_refused(
    idp: tuple[str, type[Behaviour]], document: str, message: str
) -> None:
    url, now = idp
    now.body = document.encode()
    with pytest.raises(JwksFetchError, match=message):
        fetch_jwks(url, ALLOW_LOOPBACK)


def test_private_keys_are_never_stored() -> None:
    private = RSAKey.generate_key(2048, private=True).as_dict(private=True)
    with pytest.raises(JwksFetchError, match="public keys only"):
        validated_jwks({"keys": [private]})
