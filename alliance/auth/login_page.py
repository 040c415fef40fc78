"""The sign-in and consent page: plain HTML, no script, every input labelled; and its CSRF guard.

The guard is a signed double-submit token: a random value with its issue time, signed
with a key derived from the instance signing key, set as a cookie and repeated in a
hidden field. A form posted from elsewhere has neither the cookie's value nor a
valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

CSRF_COOKIE = "alliance_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_SECONDS = 3600
# The OAuth parameters the page carries from its GET to its POST.
AUTHORIZATION_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class CsrfGuard:
    def __init__(self, secret: bytes, *, max_age: int = CSRF_MAX_AGE_SECONDS) -> None:
        self._secret = hashlib.sha256(b"alliance-csrf\x00" + secret).digest()
        self._max_age = max_age

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, now: float | None = None) -> str:
        payload = f"{secrets.token_urlsafe(18)}.{int(time.time() if now is None else now)}"
        return f"{payload}.{self._sign(payload)}"

    def check(self, cookie: str | None, submitted: str | None, now: float | None = None) -> bool:
        if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
            return False
        payload, _, signature = cookie.rpartition(".")
        if not payload or not hmac.compare_digest(self._sign(payload), signature):
            return False
        issued = payload.rpartition(".")[2]
        if not issued.isdigit():
            return False
        return (time.time() if now is None else now) - int(issued) <= self._max_age


@dataclass(frozen=True, slots=True)
class ConsentPage:
    client_name: str
    organisation_name: str
    scopes: Sequence[tuple[str, str]]  # (scope, what it allows)
    working_groups: Sequence[str] = ()
    message: str | None = None
    email: str = ""
    status: int = 200
    parameters: Mapping[str, str] = field(default_factory=dict)


_STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 0; color: #1a1a1a; }
main { max-width: 32rem; margin: 2rem auto; padding: 0 1rem; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input[type=email], input[type=password] { width: 100%; padding: .5rem; font-size: 1rem;
  border: 1px solid #555; border-radius: 4px; box-sizing: border-box; }
input:focus, button:focus { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.buttons { margin-top: 1.5rem; display: flex; gap: 1rem; }
button { font-size: 1rem; padding: .5rem 1rem; border-radius: 4px; border: 1px solid #1d4ed8; }
button[value=allow] { background: #1d4ed8; color: #fff; }
button[value=deny] { background: #fff; color: #1d4ed8; }
.error { border: 2px solid #b91c1c; background: #fef2f2; padding: .5rem 1rem; border-radius: 4px; }
"""


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def render_consent(page: ConsentPage, csrf_token: str) -> str:
    scopes = "\n".join(
        f"<li><code>{escape(name)}</code>: {escape(meaning)}</li>" for name, meaning in page.scopes
    )
    groups = ""
    if page.working_groups:
        groups = (
            "<p>In the working groups: "
            + ", ".join(f"<code>{escape(g)}</code>" for g in page.working_groups)
            + ".</p>"
        )
    error = ""
    described_by = ""
    if page.message:
        error = (
            '<div class="error" role="alert" id="form-error">'
            f"<p><strong>Not signed in:</strong> {escape(page.message)}</p></div>"
        )
        described_by = ' aria-describedby="form-error"'
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in page.parameters.items()
        if name in AUTHORIZATION_PARAMETERS
    )
    body = f"""<h1>Sign in to Alliance</h1>
<p><strong>{escape(page.client_name)}</strong> of {escape(page.organisation_name)} asks to act for
you with these permissions:</p>
<ul>
{scopes}
</ul>
{groups}
{error}
<form method="post" action="/oauth/authorize">
{hidden}
<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token)}">
<label for="email">E-mail address</label>
<input id="email" name="email" type="email" autocomplete="username" required
 value="{escape(page.email)}"{described_by}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required{described_by}>
<div class="buttons">
<button type="submit" name="decision" value="allow">Sign in and allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</div>
</form>"""
    return _document(f"Sign in to Alliance: {page.client_name}", body)


def render_problem(reason: str) -> str:
    """A request that cannot be sent back to the application (unknown client, bad redirect URI)."""
    body = f"""<h1>This sign-in request cannot be completed</h1>
<div class="error" role="alert"><p>{escape(reason)}</p></div>
<p>Go back to the application you came from and start again. If this keeps happening, tell
the application's owner.</p>"""
    return _document("Sign-in request refused: Alliance", body)
