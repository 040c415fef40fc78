"""Signing and verifying deliveries, with the README's own copy of ``verify``; backoff."""

from __future__ import annotations

import inspect
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.webhooks import signing
from alliance.webhooks.retry import backoff_ceiling, retry_delay

README = Path(__file__).resolve().parents[3] / "README.md"
SECRET = "whsec_test-secret"
BODY = b'{"subscriptionId":"s","deliveryId":"d","changes":[],"cursor":"YzE6MQ"}'
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def documented_verify() -> Callable[..., bool]:
    """The snippet of the README's Webhooks section, run as a receiver would paste it."""
    section = README.read_text(encoding="utf-8").split("## Webhooks", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet, "the README's Webhooks section has no Python snippet"
    assert inspect.getsource(signing.verify) in snippet.group(1), "README and code differ"
    namespace: dict[str, object] = {}
    exec(snippet.group(1), namespace)  # noqa: S102  (our own README)
    verify = namespace["verify"]
    assert callable(verify)
    return verify  # type: ignore[return-value]


def test_a_signed_delivery_verifies(documented_verify: Callable[..., bool]) -> None:
    headers = signing.signed_headers(SECRET, BODY, timestamp=NOW)
    assert headers[signing.TIMESTAMP_HEADER] == str(NOW)
    assert headers[signing.SIGNATURE_HEADER] == "v1=" + signing.signature(SECRET, NOW, BODY)
    assert documented_verify(
        SECRET, BODY, headers["X-Alliance-Timestamp"], headers["X-Alliance-Signature"], now=NOW
    )
    # Another signature beside ours (e.g. during a rotation) does not get in the way.
    both = f"v1={'0' * 64}, {headers['X-Alliance-Signature']}"
    assert documented_verify(SECRET, BODY, str(NOW), both, now=NOW + 10)


@pytest.mark.parametrize(
    ("secret", "body", "timestamp", "now"),
    [
        pytest.param(SECRET, BODY + b" ", str(NOW), NOW, id="body-altered"),
        pytest.param(SECRET, BODY.replace(b'"d"', b'"e"'), str(NOW), NOW, id="body-edited"),
        pytest.param(SECRET, BODY, str(NOW + 1), NOW, id="timestamp-altered"),
        pytest.param("whsec_other", BODY, str(NOW), NOW, id="wrong-secret"),
        pytest.param(SECRET, BODY, str(NOW), NOW + 301, id="too-old"),
        pytest.param(SECRET, BODY, str(NOW), NOW - 301, id="from-the-future"),
        pytest.param(SECRET, BODY, "", NOW, id="no-timestamp"),
        pytest.param(SECRET, BODY, "-5", NOW, id="bad-timestamp"),
    ],
)
def test_tampered_or_stale_deliveries_fail(
    documented_verify: Callable[..., bool], secret: str, body: bytes, timestamp: str, now: int
) -> None:
    signed = signing.signed_headers(SECRET, BODY, timestamp=NOW)[signing.SIGNATURE_HEADER]
    assert not documented_verify(secret, body, timestamp, signed, now=now)


def test_a_missing_or_foreign_signature_fails(documented_verify: Callable[..., bool]) -> None:
    assert not documented_verify(SECRET, BODY, str(NOW), None, now=NOW)
    assert not documented_verify(SECRET, BODY, str(NOW), "", now=NOW)
    v0 = "v0=" + signing.signature(SECRET, NOW, BODY)
    assert not documented_verify(SECRET, BODY, str(NOW), v0, now=NOW)


def test_the_window_is_the_receivers_choice(documented_verify: Callable[..., bool]) -> None:
    signed = signing.signed_headers(SECRET, BODY, timestamp=NOW)[signing.SIGNATURE_HEADER]
    assert documented_verify(SECRET, BODY, str(NOW), signed, now=NOW + 300)
    assert not documented_verify(SECRET, BODY, str(NOW), signed, now=NOW + 60, tolerance_seconds=30)


def test_secrets_are_random_and_prefixed() -> None:
    secrets = {signing.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) > 40 for s in secrets)


@given(
    attempt=st.integers(min_value=1, max_value=500),
    base=st.floats(min_value=0.001, max_value=100),
    cap=st.floats(min_value=0.001, max_value=10_000),
    seed=st.integers(),
)
def test_full_jitter_stays_under_the_capped_exponential(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    ceiling = backoff_ceiling(attempt, base_seconds=base, cap_seconds=cap)
    assert ceiling == min(cap, base * 2 ** min(attempt - 1, 60))
    delay = retry_delay(attempt, base_seconds=base, cap_seconds=cap, rng=random.Random(seed))
    assert 0 <= delay <= ceiling


def test_the_ceiling_doubles_until_the_cap() -> None:
    ceilings = [backoff_ceiling(n, base_seconds=2, cap_seconds=900) for n in range(1, 13)]
    assert ceilings == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
