"""Opaque session cookies and the tokens sealed with them. Pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


def new_cookie_value() -> str:
    return secrets.token_urlsafe(32)


def digest(cookie_value: str) -> str:
    return hashlib.sha256(b"alliance-portal-session\x00" + cookie_value.encode()).hexdigest()


def _fernet(cookie_value: str) -> Fernet:
    key = hashlib.sha256(b"alliance-portal-seal\x00" + cookie_value.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(cookie_value: str, tokens: dict[str, Any]) -> str:
    return _fernet(cookie_value).encrypt(json.dumps(tokens).encode()).decode()


def unseal(cookie_value: str, sealed: str) -> dict[str, Any] | None:
    try:
        found = json.loads(_fernet(cookie_value).decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return None
    return found if isinstance(found, dict) else None
