"""Normalisation never reaches the network: the public-suffix list and the confusables data
ship inside their packages. Run in a fresh interpreter (no data cached) with sockets disabled."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_every_type_normalises_with_sockets_disabled() -> None:
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise AssertionError("normalisation tried to use the network")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from alliance.indicators import normalise

        assert normalise("domain", "shop.example.co.uk").match_key("registrable_domain") == (
            "example.co.uk"
        )
        assert normalise("listing_url", "https://a.b.myshopify.com/x").match_key(
            "registrable_domain"
        ) == "b.myshopify.com"
        assert normalise("keyword", "Nіke").match_key("skeleton") == "nike"
        assert normalise("phone", "138 1234 5678", country="CN").value == "+8613812345678"
        assert normalise("payment_account", "DE89370400440532013000").value.startswith("iban:")
        assert normalise("email", "a@例え.jp").value == "a@xn--r8jz45g.jp"
        print("offline ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "offline ok"
