"""The guides' pure modules: serial formats, Markdown rendering, content validation, diffs,
the tier cut and the policy's tier rule."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.errors import InvalidInput
from alliance.guides import serial
from alliance.guides.diff import Change, diff
from alliance.guides.markdown import render
from alliance.guides.sections import fingerprint, parse_content, translatable
from alliance.guides.tiers import hidden_feature_ids, visible_content
from alliance.orgs.models import MembershipRole
from alliance.sharing.policy import Viewer, can_see_restricted_tier

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](  javascript:alert(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[a](vbscript:msgbox(1))",
    "![a](javascript:alert(1))",
    "![a](https://tracker.example/pixel.gif)",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<!-- <script>alert(1)</script> -->",
    "<<script>script>alert(1)<</script>/script>",
    '[a](https://ok.example "t" onmouseover=alert(1))',
    "`<script>alert(1)</script>`",
]


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    found: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def assert_safe(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag not in {"script", "img", "iframe", "svg", "style", "div"}, html
        assert not any(name.startswith("on") or name == "style" for name in attrs), html
        href = (attrs.get("href") or "").strip().lower()
        assert not href or href.startswith(("http://", "https://", "mailto:")), html


@pytest.mark.parametrize("source", XSS)
def test_xss_payloads_do_not_survive(source: str) -> None:
    assert_safe(render(source))


@given(st.text(alphabet=st.sampled_from(list("<>\"'=/:()[]! \nascriptjvonerhf")), max_size=80))
def test_any_markup_renders_safe(source: str) -> None:
    assert_safe(render(source))


def test_markdown_keeps_ordinary_formatting() -> None:
    html = render("# Title\n\n- **bold** and *em*\n- [site](https://acme.example)\n\n`code`")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert ("a", {"href": "https://acme.example", "rel": "noopener noreferrer nofollow"}) in (
        elements(html)
    )
    assert render("") == ""


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (r"AB2-\d{6}-[A-Z]{2}", "AB2-123456-DE", "AB2-12345-DE"),
        (r"(?:LH|LX)\d{4}[A-Z]?", "LH1234", "LH12345"),
        (r"(19|20)\d{2}-W\d{2}", "2026-W07", "2126-W07"),
        (r"[0-9A-F]{8}", "DEADBEEF", "deadbeef"),
    ],
)
def test_serial_patterns_match_the_whole_value(pattern: str, good: str, bad: str) -> None:
    assert serial.check_value(pattern, good).valid
    assert serial.check_value(pattern, f"  {good} ").valid
    assert not serial.check_value(pattern, bad).valid
    assert not serial.check_value(pattern, good + "-9").valid


@pytest.mark.parametrize(
    "pattern",
    [
        "a+",
        "a*",
        "(a{1,9}){1,9}",
        "(a|aa){1,30}",
        "(?=a)a",
        "(?P<x>a)",
        r"(a)\1",
        "a{1,100}",
        "[a-z",
        "(ab",
        "ab)",
        "{2}",
        "[A-Z]{0,64}[A-Z]{0,64}-",  # polynomial backtracking past MAX_AMBIGUITY
        r"\w{0,9}\w{0,9}\w{0,9}\w{0,9}!",
        "",
        "x" * 201,
    ],
)
def test_unsafe_or_broken_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(serial.PatternError):
        serial.compile_pattern(pattern)


@given(st.text(max_size=40))
def test_a_refused_or_accepted_pattern_never_raises_anything_else(pattern: str) -> None:
    try:
        compiled = serial.compile_pattern(pattern)
    except serial.PatternError:
        return
    serial.check_value(pattern, "A" * 128)
    assert compiled.pattern == pattern


def test_long_values_are_refused_not_run() -> None:
    result = serial.check_value(r"\d{1,8}", "1" * 500)
    assert (result.valid, result.reason) == (False, "the value is longer than 128 characters")


BASE = {
    "title": "Guide",
    "features": [
        {"id": "a", "title": "A", "text": "overt"},
        {"id": "c", "title": "C", "tier": "COVERT", "text": "covert"},
        {"id": "t", "title": "T", "kind": "TELL", "keywords": ["fake"], "tier": "FORENSIC"},
    ],
    "serial_formats": [{"id": "s", "name": "S", "pattern": r"\d{4}", "examples": ["1234"]}],
}


def test_content_is_canonical_and_ids_are_stable() -> None:
    content = parse_content(BASE)
    assert [f["id"] for f in content["features"]] == ["a", "c", "t"]
    assert content["features"][0] | {"kind": "AUTHENTIC", "tier": "OVERT"} == content["features"][0]
    assert parse_content(content) == content  # parsing stored content changes nothing
    generated = parse_content({"title": "x", "features": [{"title": "no id"}]})
    assert len(generated["features"][0]["id"]) == 12


def test_every_problem_is_reported_with_its_path() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_content(
            {
                "title": " ",
                "features": [
                    {"id": "x", "title": "a"},
                    {"id": "x", "title": "b", "tier": "SECRET"},
                ],
                "serial_formats": [{"name": "n", "pattern": r"\d{2}", "examples": ["123"]}],
                "supply_chain": [{"role": "SMUGGLER", "name": "n"}],
                "gtins": ["4006381333932"],
            }
        )
    paths = {(".".join(p.path), p.code) for p in raised.value.problems}
    assert {
        ("title", "BLANK"),
        ("features.1.id", "DUPLICATE"),
        ("features.1.tier", "INVALID_CHOICE"),
        ("serial_formats.0.examples.0", "EXAMPLE_MISMATCH"),
        ("supply_chain.0.role", "INVALID_CHOICE"),
    } <= paths
    assert any(p.startswith("gtins.0") for p, _ in paths)


def test_the_tier_cut() -> None:
    content = parse_content(BASE)
    assert [f["id"] for f in visible_content(content, restricted=False)["features"]] == ["a"]
    assert visible_content(content, restricted=True) == content
    assert hidden_feature_ids(content, restricted=False) == {"c", "t"}
    assert hidden_feature_ids(content, restricted=True) == set()


def test_the_policy_tier_rule() -> None:
    owner, group, other_group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    member = Viewer.member(uuid.uuid4(), [(group, MembershipRole.MEMBER)])
    elsewhere = Viewer.member(uuid.uuid4(), [(other_group, MembershipRole.CHAIR)])

    def rule(viewer: Viewer, **kw: bool) -> bool:
        args = {"enforcement": False, "holds_review_scope": False} | kw
        return can_see_restricted_tier(viewer, owner, group, **args)

    assert rule(Viewer.member(owner))
    assert rule(member, enforcement=True)
    assert rule(member, holds_review_scope=True)
    assert not rule(member)
    assert not rule(elsewhere, holds_review_scope=True)  # a reviewer of another group
    assert not rule(Viewer.anonymous(), enforcement=True)
    assert not rule(Viewer.federated_peer())


def test_diff_by_section_and_item() -> None:
    before = parse_content(BASE)
    after = parse_content(
        {
            **BASE,
            "packaging": "new box",
            "features": [
                {"id": "a", "title": "A", "text": "changed"},
                {"id": "n", "title": "N"},
                BASE["features"][1],
            ],
        }
    )
    changes = {c.section: c for c in diff(before, after)}
    assert set(changes) == {"packaging", "features"}
    assert changes["packaging"].change == Change.ADDED
    assert {(i.id, i.change) for i in changes["features"].items} == {
        ("a", Change.CHANGED),
        ("n", Change.ADDED),
        ("t", Change.REMOVED),
    }
    assert diff(before, before) == []


def test_translatable_sections_and_their_fingerprints() -> None:
    content = parse_content(BASE)
    sections = translatable(content)
    assert {"title", "packaging", "feature:a", "feature:c"} <= set(sections)
    changed = parse_content({**BASE, "features": [{"id": "a", "title": "A2"}]})
    assert fingerprint(translatable(changed)["feature:a"]) != fingerprint(sections["feature:a"])
    assert fingerprint(translatable(changed)["title"]) == fingerprint(sections["title"])
