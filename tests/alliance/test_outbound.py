"""Outbound calls: refused destinations, no redirects, bounded size, against a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from alliance.config import load_settings
from alliance.outbound import (
    OutboundError,
    OutboundPolicy,
    address_refusal,
    policy_from_settings,
    request,
    stream_lines,
)

LOOPBACK = OutboundPolicy(allow_private_hosts=True, timeout_seconds=2.0, max_response_bytes=4096)


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes, dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        Receiver.received.append((self.command, self.path, body, dict(self.headers)))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":
            payload = b"x" * 10_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif self.path == "/big-undeclared":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"3e8\r\n" + b"y" * 1000 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/lines":
            payload = b'{"a": 1}\n\n{"b": 2}\n{"c": 3}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif self.path == "/slow":
            time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/down":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.7", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("fe80::1", "link-local"),
    ],
)
def test_private_destinations_are_refused_unless_allowed(address: str, label: str) -> None:
    refusal = address_refusal(address, allow_private_hosts=False)
    assert refusal is not None
    assert label in refusal
    assert "ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS" in refusal
    assert address_refusal(address, allow_private_hosts=True) is None


def test_public_addresses_pass_and_multicast_never_does() -> None:
    assert address_refusal("8.8.8.8", allow_private_hosts=False) is None
    assert address_refusal("224.0.0.1", allow_private_hosts=True) is not None


def test_a_call_to_loopback_is_refused_before_anything_is_sent(receiver: str) -> None:
    before = len(Receiver.received)
    with pytest.raises(OutboundError, match="refusing to connect") as caught:
        request("POST", receiver.replace("http://", "https://"), policy=OutboundPolicy())
    assert caught.value.retryable is False
    # Plain http is refused too where private hosts are not allowed.
    with pytest.raises(OutboundError, match="https"):
        request("POST", f"{receiver}/", policy=OutboundPolicy(), content=b"secret")
    assert len(Receiver.received) == before


def test_a_hostname_resolving_to_a_private_address_is_refused() -> None:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(2, 1, 6, "", ("8.8.8.8", port)), (2, 1, 6, "", ("10.0.0.1", port))]

    with pytest.raises(OutboundError, match="10.0.0.1 is a private address"):
        request("GET", "https://hooks.example/", policy=OutboundPolicy(), resolve=resolve)


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example/", "https://user:pw@hooks.example/", "not a url"]
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(OutboundError) as caught:
        request("GET", url, policy=LOOPBACK)
    assert caught.value.retryable is False


def test_allowed_loopback_call_sends_body_and_host(receiver: str) -> None:
    response = request(
        "POST", f"{receiver}/echo", policy=LOOPBACK, headers={"X-Test": "1"}, content=b"hello"
    )
    assert response.status_code == 200
    assert response.body == b"hello"
    method, path, body, headers = Receiver.received[-1]
    assert (method, path, body) == ("POST", "/echo", b"hello")
    assert headers["X-Test"] == "1"
    assert headers["Host"] == receiver.removeprefix("http://")


def test_redirects_come_back_and_are_not_followed(receiver: str) -> None:
    before = len(Receiver.received)
    response = request("GET", f"{receiver}/redirect", policy=LOOPBACK)
    assert response.status_code == 302
    assert len(Receiver.received) == before + 1


@pytest.mark.parametrize("path", ["/big", "/big-undeclared"])
def test_bodies_over_the_cap_are_refused(receiver: str, path: str) -> None:
    with pytest.raises(OutboundError, match="larger than 4096 bytes") as caught:
        request("GET", f"{receiver}{path}", policy=LOOPBACK)
    assert caught.value.retryable is False


def test_a_slow_receiver_times_out_as_retryable(receiver: str) -> None:
    policy = OutboundPolicy(allow_private_hosts=True, timeout_seconds=0.5)
    with pytest.raises(OutboundError, match="Timeout") as caught:
        request("GET", f"{receiver}/slow", policy=policy)
    assert caught.value.retryable is True


def test_a_closed_port_is_retryable() -> None:
    with pytest.raises(OutboundError) as caught:
        request("GET", "http://127.0.0.1:9/", policy=LOOPBACK)
    assert caught.value.retryable is True


def test_stream_lines_yields_non_empty_lines(receiver: str) -> None:
    with stream_lines("GET", f"{receiver}/lines", policy=LOOPBACK) as lines:
        assert list(lines) == [b'{"a": 1}', b'{"b": 2}', b'{"c": 3}']


def test_stream_lines_raises_on_an_error_status(receiver: str) -> None:
    with (
        pytest.raises(OutboundError, match="HTTP 503") as caught,
        stream_lines("GET", f"{receiver}/down", policy=LOOPBACK) as lines,
    ):
        list(lines)
    assert caught.value.retryable is True
    assert caught.value.status_code == 503


def test_stream_lines_caps_the_whole_stream(receiver: str) -> None:
    with (
        pytest.raises(OutboundError, match="larger than"),
        stream_lines("GET", f"{receiver}/big-undeclared", policy=LOOPBACK) as lines,
    ):
        list(lines)
    unbounded = OutboundPolicy(allow_private_hosts=True, max_response_bytes=None)
    with stream_lines("GET", f"{receiver}/big-undeclared", policy=unbounded) as lines:
        assert sum(len(line) for line in lines) == 10_000


def test_policy_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS", "true")
    monkeypatch.setenv("ALLIANCE_OUTBOUND_TIMEOUT_SECONDS", "3.5")
    policy = policy_from_settings(load_settings())
    assert policy.allow_private_hosts is True
    assert policy.timeout_seconds == 3.5
    monkeypatch.delenv("ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS")
    assert policy_from_settings(load_settings()).allow_private_hosts is False
