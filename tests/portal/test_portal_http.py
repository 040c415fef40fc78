"""The portal over HTTP: its own authorization-code + PKCE sign-in, cookies, CSRF, field
errors, sign-out, and no 500 for the odd inputs a browser can send."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from alliance.portal.catalogue import LANGUAGES, MESSAGES
from tests.alliance.auth.conftest import PASSWORD
from tests.portal.conftest import ANALYST, Alliance
from tests.portal.workers import in_transaction, run_import_job

COOKIE = "alliance_portal"


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def set_cookie(response: httpx.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert found, response.headers
    return found[0]


def sign_in(http: httpx.Client, email: str = ANALYST, password: str = PASSWORD) -> httpx.Response:
    """Through the instance's own authorization page; returns the callback's response."""
    start = http.get("/portal/login", params={"next": "/portal/indicators"})
    assert start.status_code == 303
    location = start.headers["location"]
    assert location.startswith("/oauth/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"][0].endswith("/portal/callback")
    page = http.get(location)
    assert page.status_code == 200, page.text
    form = hidden(page.text) | {"email": email, "password": password, "decision": "allow"}
    granted = http.post("/oauth/authorize", data=form)
    assert granted.status_code == 302, granted.text
    callback = urlsplit(granted.headers["location"])
    assert callback.path == "/portal/callback"
    return http.get(f"{callback.path}?{callback.query}")


@pytest.fixture
def http(alliance: Alliance) -> httpx.Client:
    alliance.person(ANALYST)
    with alliance.http() as client:
        yield client


def test_every_message_has_both_languages() -> None:
    assert set(LANGUAGES) == {"en", "zh"}
    assert [k for k, v in MESSAGES.items() if set(v) != set(LANGUAGES)] == []


def test_sign_in_sets_a_fresh_opaque_lax_httponly_cookie(http: httpx.Client) -> None:
    landing = http.get("/portal")
    assert landing.status_code == 200
    assert 'href="/portal/login"' in landing.text
    start = http.get("/portal/login")
    pending = set_cookie(start, COOKIE)
    assert "HttpOnly" in pending
    assert "SameSite=lax" in pending
    assert "Path=/portal" in pending
    assert "Secure" not in pending  # served over plain http on loopback
    before = http.cookies.get(COOKIE)
    done = sign_in(http)
    assert done.status_code == 303
    assert done.headers["location"] == "/portal/indicators"
    cookie = set_cookie(done, COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert http.cookies.get(COOKIE) != before  # a new session after sign-in
    home = http.get("/portal")
    assert home.status_code == 200
    assert "Automotive Parts" in home.text
    assert "Ada Analyst" in home.text
    assert home.headers["x-frame-options"] == "DENY"


def test_the_callback_refuses_a_foreign_state_and_a_denial(http: httpx.Client) -> None:
    http.get("/portal/login")
    wrong = http.get("/portal/callback", params={"code": "x", "state": "not-ours"})
    assert wrong.status_code == 400
    assert "Sign-in did not complete" in wrong.text
    no_session = httpx.get(f"{http.base_url}/portal/callback", params={"state": "s", "code": "c"})
    assert no_session.status_code == 400


def test_forms_refuse_a_missing_or_wrong_csrf_token(http: httpx.Client) -> None:
    sign_in(http)
    form = {"type": "domain", "value": "fake-shop.example", "confidence": "50"}
    assert http.post("/portal/indicators/new", data=form).status_code == 400
    bad = http.post("/portal/indicators/new", data=form | {"csrf_token": "guess"})
    assert bad.status_code == 400
    assert "did not come from this page" in bad.text
    assert http.post("/portal/logout", data={"csrf_token": "guess"}).status_code == 400
    assert http.get("/portal").status_code == 200
    assert "Ada Analyst" in http.get("/portal").text  # still signed in


def test_submit_shows_errors_next_to_fields_then_submits(http: httpx.Client) -> None:
    sign_in(http)
    page = http.get("/portal/indicators/new")
    assert page.status_code == 200
    csrf = hidden(page.text)["csrf_token"]
    group = re.search(
        r'<select id="working_group" name="working_group">\s*<option value="([^"]+)"', page.text
    )
    assert group is not None
    base = {"csrf_token": csrf, "type": "domain", "working_group": group.group(1)}
    not_number = http.post(
        "/portal/indicators/new", data=base | {"value": "x.example", "confidence": "lots"}
    )
    assert not_number.status_code == 400
    assert 'id="confidence-error"' in not_number.text
    assert 'aria-describedby="confidence-error"' in not_number.text
    empty = http.post("/portal/indicators/new", data=base | {"value": "", "confidence": "50"})
    assert empty.status_code == 400
    assert 'id="value-error"' in empty.text
    bad_type = http.post("/portal/indicators/new", data=base | {"type": "nonsense", "value": "a"})
    assert bad_type.status_code == 400
    assert "field-error" in bad_type.text
    done = http.post(
        "/portal/indicators/new",
        data=base
        | {"value": "HTTPS://Fake-Brake-Pads.example/", "confidence": "70", "brands": "Acme"},
    )
    assert done.status_code == 303, done.text
    shown = http.get(done.headers["location"])
    assert shown.status_code == 200
    assert "fake-brake-pads.example" in shown.text
    listed = http.get("/portal/indicators", params={"type": "domain"})
    assert "fake-brake-pads.example" in listed.text


@pytest.mark.parametrize(
    "path",
    [
        "/portal/indicators?type=%00&group=nope&after=zzz",
        "/portal/indicators/not-a-uuid",
        "/portal/indicators/00000000-0000-0000-0000-000000000000",
        "/portal/language?to=xx&next=https://evil.example/",
        "/portal/language?to=zh&next=//evil.example",
        "/portal/static/../../etc/passwd",
        "/portal/callback?error=access_denied",
        "/portal/login?next=%0d%0aSet-Cookie:x",
    ],
)
def test_odd_input_never_answers_500(http: httpx.Client, path: str) -> None:
    sign_in(http)
    raw = http.post(
        "/portal/indicators/new", content=b"\xff\xfe", headers={"content-type": "text/plain"}
    )
    assert raw.status_code == 400
    response = http.get(path)
    assert response.status_code < 500
    if response.status_code in (302, 303):
        location = response.headers["location"]
        assert location.startswith("/portal") or location.startswith("/oauth/authorize")


def test_sign_out_revokes_the_session(http: httpx.Client) -> None:
    sign_in(http)
    cookie = http.cookies.get(COOKIE)
    csrf = hidden(http.get("/portal").text)["csrf_token"]
    out = http.post("/portal/logout", data={"csrf_token": csrf})
    assert out.status_code == 200
    assert "You have signed out" in out.text
    again = httpx.get(f"{http.base_url}/portal", cookies={COOKIE: cookie or ""})
    assert again.status_code == 200
    assert "Ada Analyst" not in again.text
    assert 'href="/portal/login"' in again.text


def test_chinese_interface(http: httpx.Client) -> None:
    sign_in(http)
    switched = http.get("/portal/language", params={"to": "zh", "next": "/portal"})
    assert switched.status_code == 303
    home = http.get("/portal")
    assert '<html lang="zh-Hans">' in home.text
    assert "您的工作组" in home.text


CSV = (
    "type,value,brands,confidence\n"
    "domain,imported-fakes.example,Acme,60\n"
    "domain,,Acme,60\n"
    "phone,+49 30 1234567,Acme,not-a-number\n"
    "email,counterfeit@imported-fakes.example,Acme,70\n"
)


def test_import_a_csv_then_follow_its_progress_and_report(
    alliance: Alliance, http: httpx.Client
) -> None:
    sign_in(http)
    form = http.get("/portal/indicators/import")
    assert form.status_code == 200
    csrf = hidden(form.text)["csrf_token"]
    group = re.search(r'<option value="([0-9a-f-]{36})">Automotive Parts', form.text)
    assert group is not None
    no_file = http.post(
        "/portal/indicators/import", data={"csrf_token": csrf}, files={"x": ("", b"")}
    )
    assert no_file.status_code == 400
    assert 'id="file-error"' in no_file.text
    wrong_format = http.post(
        "/portal/indicators/import",
        data={"csrf_token": csrf},
        files={"file": ("list.xlsx", b"\x00\x01")},
    )
    assert wrong_format.status_code == 400
    assert 'id="format-error"' in wrong_format.text
    no_csrf = http.post("/portal/indicators/import", files={"file": ("a.csv", CSV.encode())})
    assert no_csrf.status_code == 400
    started = http.post(
        "/portal/indicators/import",
        data={"csrf_token": csrf, "working_group": group.group(1)},
        files={"file": ("fakes.csv", CSV.encode(), "text/csv")},
    )
    assert started.status_code == 303, started.text
    job_path = started.headers["location"]
    job_id = uuid.UUID(job_path.rsplit("/", 1)[1])
    pending = http.get(f"{job_path}/progress").json()
    assert pending["finished"] is False
    run_import_job(alliance, job_id)
    done = http.get(f"{job_path}/progress").json()
    assert done == {
        "state": "DONE",
        "rowsTotal": 4,
        "rowsDone": 4,
        "rowsFailed": 2,
        "finished": True,
    }
    report = http.get(job_path)
    assert report.status_code == 200
    assert "2 created" in report.text
    assert re.search(r"<tr><td>3</td><td>value</td>", report.text)
    assert re.search(r"<tr><td>4</td><td>confidence</td>", report.text)
    assert http.get("/portal/imports/not-a-job").status_code == 404
    other = httpx.get(f"{http.base_url}{job_path}/progress")
    assert other.status_code == 401


def test_react_to_an_assertion(http: httpx.Client) -> None:
    sign_in(http)
    page = http.get("/portal/indicators/new")
    csrf = hidden(page.text)["csrf_token"]
    no_group = http.post(
        "/portal/indicators/new",
        data={"csrf_token": csrf, "type": "domain", "value": "react-to-me.example"},
    )
    assert no_group.status_code == 400
    assert 'id="working_group-error"' in no_group.text
    group = re.search(r'<option value="([0-9a-f-]{36})">Automotive Parts', page.text)
    assert group is not None
    made = http.post(
        "/portal/indicators/new",
        data={
            "csrf_token": csrf,
            "type": "domain",
            "value": "react-to-me.example",
            "working_group": group.group(1),
        },
    )
    assert made.status_code == 303
    shown = http.get(made.headers["location"])
    assertion = re.search(
        r'<select id="assertion" name="assertion">\s*<option value="([^"]+)"', shown.text
    )
    assert assertion is not None
    react = made.headers["location"].split("?")[0] + "/react"
    bad = http.post(
        react, data={"csrf_token": csrf, "assertion": assertion.group(1), "kind": "LOVED_IT"}
    )
    assert bad.status_code == 400
    assert 'id="kind-error"' in bad.text
    missing = http.post(react, data={"csrf_token": csrf, "assertion": "nope", "kind": "SEEN_TOO"})
    assert missing.status_code < 500
    good = http.post(
        react,
        data={
            "csrf_token": csrf,
            "assertion": assertion.group(1),
            "kind": "SEEN_TOO",
            "platform": "shopmart",
        },
    )
    assert good.status_code == 303, good.text
    after = http.get(good.headers["location"])
    assert "Reaction recorded." in after.text
    assert "Seen too: 1" in after.text


def test_listing_playground(http: httpx.Client) -> None:
    sign_in(http)
    page = http.get("/portal/check")
    assert page.status_code == 200
    csrf = hidden(page.text)["csrf_token"]
    bad = http.post("/portal/check", data={"csrf_token": csrf, "title": "x", "price": "cheap"})
    assert bad.status_code == 400
    assert 'id="price-error"' in bad.text
    checked = http.post(
        "/portal/check",
        data={"csrf_token": csrf, "title": "Brake pads, original quality", "platform": "shopmart"},
    )
    assert checked.status_code == 200
    assert re.search(r'<h2 id="verdict">Verdict: (ALLOW|REVIEW|BLOCK)', checked.text)


@pytest.fixture(scope="module")
def demo_data(alliance: Alliance) -> None:
    """The demo indicators and rules (the directory is seeded already)."""
    from alliance.demo import seed

    in_transaction(alliance, lambda session: seed(session, with_indicators=True))


def test_rules_list_and_rule_page(demo_data: None, http: httpx.Client) -> None:
    sign_in(http)
    home = http.get("/portal")
    assert "Rules in force" in home.text
    listed = http.get("/portal/rules", params={"status": "ACTIVE"})
    assert listed.status_code == 200
    rule = re.search(r'<a href="(/portal/rules/[0-9a-f-]{36})">([^<]+)</a>', listed.text)
    assert rule is not None, listed.text
    page = http.get(rule.group(1))
    assert page.status_code == 200
    assert rule.group(2) in page.text
    assert "Version 1" in page.text
    for odd in ("/portal/rules?status=NOPE&group=x&after=y", "/portal/rules/123"):
        assert http.get(odd).status_code < 500
    assert http.get("/portal/rules/00000000-0000-0000-0000-000000000000").status_code == 404


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


REVIEWER = "trust@shopmart.example"


def test_write_review_publish_and_translate_a_guide(alliance: Alliance, http: httpx.Client) -> None:
    alliance.person(REVIEWER)
    sign_in(http)
    new = http.get("/portal/guides/new")
    assert new.status_code == 200
    csrf = hidden(new.text)["csrf_token"]
    group = re.search(r'<option value="([0-9a-f-]{36})">Automotive Parts', new.text)
    assert group is not None
    base = {"csrf_token": csrf, "working_group": group.group(1), "features": "1"}
    blank = http.post("/portal/guides/new", data=base | {"title": "  "})
    assert blank.status_code == 400
    assert 'id="title-error"' in blank.text
    bad_date = http.post("/portal/guides/new", data=base | {"title": "x", "review_by": "soon"})
    assert bad_date.status_code == 400
    assert 'id="review_by-error"' in bad_date.text
    created = http.post(
        "/portal/guides/new",
        data=base
        | {
            "title": "Genuine Acme brake pads",
            "summary": "How to tell genuine pads from fakes.",
            "f0_id": "",
            "f0_title": "Laser-etched batch code",
            "f0_text": "Every genuine pad carries an etched code.",
            "f0_kind": "AUTHENTIC",
            "f0_tier": "OVERT",
        },
    )
    assert created.status_code == 303, created.text
    edit_path = created.headers["location"]
    guide_path = edit_path.removesuffix("/edit")
    editor = http.get(edit_path)
    assert editor.status_code == 200
    feature = re.search(
        r'<select id="photo-feature" name="feature"[^>]*>\s*<option value="([^"]+)"', editor.text
    )
    assert feature is not None
    not_image = http.post(
        f"{guide_path}/photos",
        data={"csrf_token": csrf, "feature": feature.group(1)},
        files={"file": ("notes.txt", b"hello")},
    )
    assert not_image.status_code == 400
    assert 'id="file-error"' in not_image.text
    photo = http.post(
        f"{guide_path}/photos",
        data={"csrf_token": csrf, "feature": feature.group(1), "caption": "The code"},
        files={"file": ("code.png", png_bytes(), "image/png")},
    )
    assert photo.status_code == 303, photo.text
    draft = http.get(f"{guide_path}?draft=1")
    img = re.search(r'<img src="(/portal/photos/[0-9a-f-]{36})\?thumbnail=1"', draft.text)
    assert img is not None
    served = http.get(img.group(1) + "?thumbnail=1")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("image/")
    assert httpx.get(f"{http.base_url}{img.group(1)}").status_code == 404  # not signed in
    submitted = http.post(f"{guide_path}/workflow/submit", data={"csrf_token": csrf})
    assert submitted.status_code == 303
    own = http.post(f"{guide_path}/workflow/approve", data={"csrf_token": csrf})
    assert own.status_code == 403  # the one who submitted does not approve

    with alliance.http() as second:
        sign_in(second, email=REVIEWER)
        csrf2 = hidden(second.get("/portal").text)["csrf_token"]
        in_review = second.get(f"{guide_path}?draft=1")
        assert "IN_REVIEW" in in_review.text
        assert (
            second.post(f"{guide_path}/workflow/approve", data={"csrf_token": csrf2}).status_code
            == 303
        )
        assert (
            second.post(f"{guide_path}/workflow/publish", data={"csrf_token": csrf2}).status_code
            == 303
        )
        assert (
            second.post(f"{guide_path}/workflow/publish", data={"csrf_token": csrf2}).status_code
            == 409
        )
        assert (
            second.post(f"{guide_path}/workflow/delete", data={"csrf_token": csrf2}).status_code
            == 404
        )

    published = http.get(guide_path)
    assert "PUBLISHED" in published.text
    assert "Genuine Acme brake pads" in published.text
    translate = http.get(f"{guide_path}/translate", params={"to": "zh"})
    assert translate.status_code == 200
    done = http.post(
        f"{guide_path}/translate",
        data={
            "csrf_token": csrf,
            "language": "zh",
            "s|title|text": "正品 Acme 刹车片",
            f"s|feature:{feature.group(1)}|title": "激光蚀刻批号",
        },
    )
    assert done.status_code == 303, done.text
    chinese = http.get(guide_path, params={"lang": "zh"})
    assert '<h1 id="guide-title">正品 Acme 刹车片</h1>' in chinese.text
    assert "激光蚀刻批号" in chinese.text
    printed = http.get(guide_path, params={"lang": "zh", "print": "1"})
    assert printed.status_code == 200
    assert "<header>" not in printed.text
    assert http.get("/portal/guides").status_code == 200
    for odd in (
        f"{guide_path}/diff?before=1&after=9",
        f"{guide_path}?version=x&lang=%00",
        "/portal/guides/nope",
    ):
        assert http.get(odd).status_code < 500

    # A second version: edit, review and publish again, then compare the two.
    editor = http.get(edit_path)
    form = hidden(editor.text) | {
        "title": "Genuine Acme brake pads",
        "summary": "How to tell genuine pads from fakes, 2027 edition.",
        "f0_title": "Laser-etched batch code",
        "f0_text": "Every genuine pad carries an etched code.",
    }
    assert http.post(edit_path, data=form).status_code == 303
    assert http.post(f"{guide_path}/workflow/submit", data={"csrf_token": csrf}).status_code == 303
    with alliance.http() as second:
        sign_in(second, email=REVIEWER)
        csrf2 = hidden(second.get("/portal").text)["csrf_token"]
        for step in ("approve", "publish"):
            answer = second.post(f"{guide_path}/workflow/{step}", data={"csrf_token": csrf2})
            assert answer.status_code == 303
    diff = http.get(f"{guide_path}/diff", params={"before": "1", "after": "2"})
    assert diff.status_code == 200
    assert re.search(r"<td>summary</td><td>CHANGED</td>", diff.text)
    assert "2027 edition" in diff.text


def token_status(http: httpx.Client, client_id: str, secret: str) -> int:
    return http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).status_code


def test_organisation_admin_manages_oauth_clients(alliance: Alliance, http: httpx.Client) -> None:
    sign_in(http)
    assert http.get("/portal/admin/clients").status_code == 403  # not an admin (yet)
    http.post("/portal/logout", data={"csrf_token": hidden(http.get("/portal").text)["csrf_token"]})
    alliance.person(ANALYST, org_admin=True)
    sign_in(http)
    page = http.get("/portal/admin/clients")
    assert page.status_code == 200
    csrf = hidden(page.text)["csrf_token"]
    no_scope = http.post("/portal/admin/clients", data={"csrf_token": csrf, "name": "Feed reader"})
    assert no_scope.status_code == 400
    assert 'id="scopes-error"' in no_scope.text
    no_redirect = http.post(
        "/portal/admin/clients",
        data={
            "csrf_token": csrf,
            "name": "Console",
            "scope": "indicators:read",
            "grant_type": "authorization_code",
        },
    )
    assert no_redirect.status_code == 400
    assert 'id="redirect_uri-error"' in no_redirect.text
    created = http.post(
        "/portal/admin/clients",
        content=urlencode(
            [
                ("csrf_token", csrf),
                ("name", "Feed reader"),
                ("scope", "indicators:read"),
                ("scope", "sync:read"),
                ("grant_type", "client_credentials"),
            ]
        ),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert created.status_code == 200, created.text
    found = re.search(
        r"The secret of (\S+), shown this once.*?<code id=\"secret-value\">([^<]+)</code>",
        created.text,
        re.S,
    )
    assert found is not None
    client_id, secret = found.group(1), found.group(2)
    assert token_status(http, client_id, secret) == 200
    listed = http.get("/portal/admin/clients")
    assert client_id in listed.text
    assert secret not in listed.text  # shown once only
    rotated = http.post(f"/portal/admin/clients/{client_id}/rotate", data={"csrf_token": csrf})
    new_secret = re.search(r'<code id="secret-value">([^<]+)</code>', rotated.text)
    assert new_secret is not None
    assert token_status(http, client_id, secret) == 401
    assert token_status(http, client_id, new_secret.group(1)) == 200
    disabled = http.post(f"/portal/admin/clients/{client_id}/disable", data={"csrf_token": csrf})
    assert disabled.status_code == 303
    assert token_status(http, client_id, new_secret.group(1)) in (400, 401)
    assert (
        http.post("/portal/admin/clients/nope/rotate", data={"csrf_token": csrf}).status_code == 404
    )
    assert (
        http.post(
            f"/portal/admin/clients/{client_id}/explode", data={"csrf_token": csrf}
        ).status_code
        == 404
    )


def test_charts_are_inline_svg(demo_data: None, http: httpx.Client) -> None:
    sign_in(http)
    page = http.get("/portal/charts")
    assert page.status_code == 200
    assert page.text.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 4
    ids = re.findall(r' id="([^"]+)"', page.text)
    assert len(ids) == len(set(ids)), "every chart's title and desc ids are the page's own"
    assert "Automotive Parts" in page.text
    assert "Test buys" in page.text or "Takedowns" in page.text


def test_webhook_subscriptions_and_their_delivery_log(http: httpx.Client) -> None:
    sign_in(http)
    page = http.get("/portal/admin/webhooks")
    assert page.status_code == 200
    csrf = hidden(page.text)["csrf_token"]
    insecure = http.post("/portal/admin/webhooks", data={"csrf_token": csrf, "url": "ftp://x"})
    assert insecure.status_code == 400
    assert 'id="url-error"' in insecure.text
    created = http.post(
        "/portal/admin/webhooks",
        data={"csrf_token": csrf, "url": "https://hooks.acme-motors.example/alliance"},
    )
    assert created.status_code == 200, created.text
    secret = re.search(r'<code id="secret-value">([^<]+)</code>', created.text)
    log_link = re.search(
        r'<a href="(/portal/admin/webhooks/[0-9a-f-]{36})">Delivery log', created.text
    )
    assert secret is not None
    assert log_link is not None
    log = http.get(log_link.group(1))
    assert log.status_code == 200
    assert secret.group(1) not in log.text
    rotated = http.post(f"{log_link.group(1)}/rotate", data={"csrf_token": csrf})
    again = re.search(r'<code id="secret-value">([^<]+)</code>', rotated.text)
    assert again is not None
    assert again.group(1) != secret.group(1)
    missing = http.post(
        f"{log_link.group(1)}/redeliver", data={"csrf_token": csrf, "delivery": "x"}
    )
    assert missing.status_code == 404
    gone = http.post(f"{log_link.group(1)}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 303
    assert http.get(log_link.group(1)).status_code == 404


def test_the_audit_log_is_for_organisation_admins(alliance: Alliance, http: httpx.Client) -> None:
    sign_in(http)
    assert http.get("/portal/admin/audit").status_code == 403
    http.post("/portal/logout", data={"csrf_token": hidden(http.get("/portal").text)["csrf_token"]})
    alliance.person(ANALYST, org_admin=True)
    sign_in(http)
    log = http.get("/portal/admin/audit")
    assert log.status_code == 200
    assert "<code>authorization.granted</code>" in log.text
    assert "<code>token.issued</code>" in log.text
    only = http.get("/portal/admin/audit", params={"action": "authorization.granted"})
    assert "<code>authorization.granted</code>" in only.text
    assert "<code>token.issued</code>" not in only.text
    assert http.get("/portal/admin/audit", params={"action": "x" * 500}).status_code == 400
    assert http.get("/portal/admin/audit", params={"before": "abc"}).status_code == 200


OPERATOR = "operator@alliance-office.example"


def test_the_operator_sees_organisations_groups_and_peers(
    alliance: Alliance, http: httpx.Client
) -> None:
    sign_in(http)
    assert http.get("/portal/operator").status_code == 403
    alliance.person(OPERATOR, org_admin=True)
    with alliance.http() as operator:
        sign_in(operator, email=OPERATOR)
        page = operator.get("/portal/operator")
        assert page.status_code == 200
        assert "<code>city-police</code>" in page.text
        assert "<code>luxury-goods</code>" in page.text
        assert 'id="peers"' in page.text


def test_home_lists_guides_due_for_review(http: httpx.Client) -> None:
    sign_in(http)
    new = http.get("/portal/guides/new")
    csrf = hidden(new.text)["csrf_token"]
    group = re.search(r'<option value="([0-9a-f-]{36})">Automotive Parts', new.text)
    assert group is not None
    created = http.post(
        "/portal/guides/new",
        data={
            "csrf_token": csrf,
            "working_group": group.group(1),
            "title": "Overdue filter guide",
            "review_by": "2020-01-31",
            "features": "0",
        },
    )
    assert created.status_code == 303, created.text
    home = http.get("/portal")
    due = home.text.split("Guides due for review or stale", 1)[1].split("Rules in force", 1)[0]
    assert "Overdue filter guide" in due
    assert "review due" in due
    listed = http.get("/portal/guides")
    assert "Overdue filter guide" in listed.text


def test_an_expired_access_token_is_refreshed_once_for_concurrent_requests(
    alliance: Alliance, http: httpx.Client
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from sqlalchemy import update

    from alliance.db import utcnow
    from alliance.portal.models import PortalSession

    sign_in(http)
    cookie = http.cookies.get(COOKIE)
    assert cookie

    async def expire(session):  # type: ignore[no-untyped-def]
        await session.execute(
            update(PortalSession).values(access_expires_at=utcnow() - timedelta(minutes=5))
        )
        return True

    in_transaction(alliance, expire)

    def signed_in(_: int) -> bool:
        page = httpx.get(f"{http.base_url}/portal", cookies={COOKIE: cookie}, timeout=20)
        return page.status_code == 200 and "Ada Analyst" in page.text

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(signed_in, range(4))) == [True] * 4
    assert signed_in(0)  # the refreshed tokens are kept, the family is alive


def test_an_indicator_page_draws_its_seller_network(demo_data: None, http: httpx.Client) -> None:
    sign_in(http)
    listed = http.get("/portal/indicators", params={"type": "seller_account"})
    shop = re.search(r'<a href="(/portal/indicators/[0-9a-f-]{36})">[^<]*58200417', listed.text)
    assert shop is not None, listed.text
    page = http.get(shop.group(1))
    assert page.status_code == 200
    assert 'id="seller-network"' in page.text
    assert "106532" in page.text.split('id="seller-network"', 1)[1]


def test_propose_a_correction_and_the_owner_accepts_it(
    alliance: Alliance, http: httpx.Client
) -> None:
    alliance.person(REVIEWER)
    sign_in(http)
    page = http.get("/portal/indicators/new")
    csrf = hidden(page.text)["csrf_token"]
    group = re.search(r'<option value="([0-9a-f-]{36})">Automotive Parts', page.text)
    assert group is not None
    made = http.post(
        "/portal/indicators/new",
        data={
            "csrf_token": csrf,
            "type": "domain",
            "value": "propose-to-me.example",
            "working_group": group.group(1),
            "confidence": "40",
        },
    )
    assert made.status_code == 303
    indicator_path = made.headers["location"].split("?")[0]
    assert 'id="p_assertion"' not in http.get(indicator_path).text  # not to one's own
    with alliance.http() as other:
        sign_in(other, email=REVIEWER)
        csrf2 = hidden(other.get("/portal").text)["csrf_token"]
        shown = other.get(indicator_path)
        assertion = re.search(
            r'<select id="p_assertion" name="assertion">\s*<option value="([^"]+)"', shown.text
        )
        assert assertion is not None
        nothing = other.post(
            f"{indicator_path}/propose",
            data={"csrf_token": csrf2, "assertion": assertion.group(1), "reason": "seen more"},
        )
        assert nothing.status_code == 400
        assert 'id="p_reason-error"' in nothing.text
        sent = other.post(
            f"{indicator_path}/propose",
            data={
                "csrf_token": csrf2,
                "assertion": assertion.group(1),
                "confidence": "90",
                "reason": "we test-bought from it",
            },
        )
        assert sent.status_code == 303, sent.text
    inbox = http.get("/portal/proposals")
    assert "propose-to-me.example" in inbox.text
    assert "we test-bought from it" in inbox.text
    proposal = re.search(r'action="(/portal/proposals/[0-9a-f-]{36})/reject"', inbox.text)
    assert proposal is not None
    refused = http.post(f"{proposal.group(1)}/reject", data={"csrf_token": csrf, "reason": ""})
    assert refused.status_code == 400
    assert "field-error" in refused.text
    accepted = http.post(f"{proposal.group(1)}/accept", data={"csrf_token": csrf})
    assert accepted.status_code == 303
    assert "propose-to-me.example" not in http.get("/portal/proposals").text
    assert "<td>90</td>" in http.get(indicator_path).text
    again = http.post(f"{proposal.group(1)}/accept", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_write_activate_and_back_test_a_rule(demo_data: None, http: httpx.Client) -> None:
    from alliance.listings.demo import AIRBAG_RULE

    sign_in(http)
    page = http.get("/portal/rules/new")
    assert page.status_code == 200
    csrf = hidden(page.text)["csrf_token"]
    group = re.search(r'<option value="([0-9a-f-]{36})">Automotive Parts', page.text)
    assert group is not None
    base = {"csrf_token": csrf, "working_group": group.group(1)}
    not_json = http.post("/portal/rules/new", data=base | {"definition": "{name: 1"})
    assert not_json.status_code == 400
    assert "not valid JSON" in not_json.text
    invalid = http.post("/portal/rules/new", data=base | {"definition": '{"name": ""}'})
    assert invalid.status_code == 400
    assert 'id="definition-error"' in invalid.text
    definition = dict(AIRBAG_RULE, name="Airbag parts, portal copy")
    created = http.post("/portal/rules/new", data=base | {"definition": json.dumps(definition)})
    assert created.status_code == 303, created.text
    rule_path = created.headers["location"]
    edited = http.post(
        f"{rule_path}/edit",
        data={
            "csrf_token": csrf,
            "definition": json.dumps(dict(definition, description="Sharper wording.")),
            "change_note": "wording",
        },
    )
    assert edited.status_code == 303, edited.text
    assert http.post(f"{rule_path}/activate", data={"csrf_token": csrf}).status_code == 303
    assert "ACTIVE" in http.get(rule_path).text
    catalogue = (
        Path(__file__).resolve().parents[2] / "alliance/listings/data/demo-catalogue.jsonl"
    ).read_bytes()
    report = http.post(
        f"{rule_path}/backtest",
        data={"csrf_token": csrf, "format": "jsonl"},
        files={"catalogue": ("catalogue.jsonl", catalogue)},
    )
    assert report.status_code == 200, report.text
    counts = re.search(r"(\d+) listings: (\d+) blocked", report.text)
    assert counts is not None
    assert int(counts.group(1)) > 0
    assert int(counts.group(2)) >= 1
    not_text = http.post(
        f"{rule_path}/backtest",
        data={"csrf_token": csrf, "format": "jsonl"},
        files={"catalogue": ("x.jsonl", b"\xff\xfe\x00")},
    )
    assert not_text.status_code == 400
    assert 'id="catalogue-error"' in not_text.text


def test_the_live_preview_normalises_as_the_service_does(http: httpx.Client) -> None:
    sign_in(http)
    ok = http.get(
        "/portal/indicators/preview", params={"type": "domain", "value": "WWW.Fake.Example."}
    )
    assert ok.status_code == 200
    assert ok.json()["value"] == "www.fake.example"
    bad = http.get("/portal/indicators/preview", params={"type": "email", "value": "not an email"})
    assert "error" in bad.json()
    odd = http.get("/portal/indicators/preview", params={"type": "nonsense", "value": "x"})
    assert odd.status_code == 200
    assert "error" in odd.json()
    huge = http.get("/portal/indicators/preview", params={"type": "keyword", "value": "x" * 5000})
    assert huge.json() == {"value": None}
    assert httpx.get(f"{http.base_url}/portal/indicators/preview").status_code == 401
