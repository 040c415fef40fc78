"""The portal's search page over HTTP, on the live server's own index: highlights, facets,
pages, what the sharing policy hides, bad input, the engine down, and Chinese."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from alliance.db import make_engine, make_sessionmaker
from alliance.jobs import SENDER_KEY
from alliance.portal.search_pages import marked
from search import indexer
from search.factory import make_backend
from search.status import tantivy_path
from tests.conftest import RecordingSender
from tests.portal.conftest import ANALYST, INVESTIGATOR, Alliance
from tests.portal.test_portal_http import sign_in
from tests.portal.workers import in_transaction

OWNER = "trust@shopmart.example"  # ShopMart's person: owns the private indicator
PRIVATE_VALUE = "hidden-shopmart-stock.example"
PRIVATE_WORD = "quetzalcoatl"  # only in the private indicator's note
HOSTILE_VALUE = "hostile-markup.example"
HOSTILE_NOTE = 'Seen with <script>alert("x")</script> and </em><b>bold</b> quetzal'
LUXURY_VALUE = "luxe-house-outlet.shop"  # the demo's: luxury-goods members only


def _run(work: Any) -> None:
    """``work()`` on an event loop of its own thread (the test's may be running)."""
    errors: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:  # reported on the test's thread
            errors.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the work did not finish"
    if errors:
        raise errors[0]


def index_everything(alliance: Alliance) -> None:
    """Drains the change log into the index the live server searches, as the worker would."""

    async def work() -> None:
        engine = make_engine(alliance.settings.database_url)
        backend = make_backend(alliance.settings)
        try:
            sessions = make_sessionmaker(engine, **{SENDER_KEY: RecordingSender()})
            reports = await indexer.drain(sessions, backend)
            assert not any(r.locked for r in reports)
        finally:
            await backend.close()
            await engine.dispose()

    _run(work)


def indexed_ids(alliance: Alliance) -> set[str]:
    found: set[str] = set()

    async def work() -> None:
        backend = make_backend(alliance.settings)
        try:
            found.update(await backend.versions())
        finally:
            await backend.close()

    _run(work)
    return found


@pytest.fixture(scope="module")
def indexed(alliance: Alliance) -> dict[str, str]:
    """The demo data, ShopMart's private RED indicator and one with hostile markup, indexed;
    returns the private indicator's assertion id."""
    from alliance.demo import seed
    from alliance.indicators import service
    from alliance.orgs import repository as orgs_repo

    async def work(session: Any) -> dict[str, str]:
        await seed(session, with_indicators=True, with_guides=True, settings=alliance.settings)
        shopmart = await orgs_repo.organisation_by_slug(session, "shopmart")
        group = await orgs_repo.working_group_by_slug(session, "automotive-parts")
        assert shopmart is not None
        assert group is not None
        viewer = await service.viewer_of_organisation(session, shopmart.id)
        private, hostile = await service.submit(
            session,
            viewer,
            [
                service.Submission(
                    type="domain",
                    value=PRIVATE_VALUE,
                    working_group_id=group.id,
                    distribution="ORGANISATION",
                    tlp="RED",
                    note=f"Internal lead, {PRIVATE_WORD} batch.",
                ),
                service.Submission(
                    type="domain",
                    value=HOSTILE_VALUE,
                    working_group_id=group.id,
                    note=HOSTILE_NOTE,
                ),
            ],
        )
        assert private.assertion is not None, private
        assert hostile.assertion is not None, hostile
        return {"private": str(private.assertion.id)}

    ids = in_transaction(alliance, work)
    for person in (ANALYST, INVESTIGATOR, OWNER):
        alliance.person(person)
    index_everything(alliance)
    return ids


@contextmanager
def signed_in(alliance: Alliance, email: str) -> Iterator[httpx.Client]:
    with alliance.http() as client:
        assert sign_in(client, email).status_code == 303
        yield client


@pytest.fixture
def analyst(alliance: Alliance, indexed: dict[str, str]) -> Any:
    with signed_in(alliance, ANALYST) as client:
        yield client


def hits(page: str) -> list[tuple[str, str]]:
    """(kind, inner HTML of the hit) for each result."""
    return re.findall(r'<li class="hit" data-kind="([^"]+)">(.*?)</li>', page, re.S)


def total(page: str) -> int:
    found = re.search(r'<p id="search-count">(\d+) results</p>', page)
    assert found, page
    return int(found.group(1))


def facet_links(page: str, facet: str) -> dict[str, str]:
    """value -> href of one facet's links."""
    return {
        value: href.replace("&amp;", "&")
        for href, value in re.findall(
            rf'<a href="([^"]+)" class="facet"[^>]* data-facet="{facet}" data-value="([^"]+)"',
            page,
        )
    }


def next_page(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next" id="next-page">', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_highlights_are_escaped_and_only_the_engines_markers_become_mark() -> None:
    assert marked("Acme <em>Motors</em>") == "Acme <mark>Motors</mark>"
    hostile = marked('<script>x</script> <em>a&b</em> </em><img src=x onerror="y"><em>z')
    assert hostile == (
        "&lt;script&gt;x&lt;/script&gt; <mark>a&amp;b</mark> &lt;/em&gt;"
        "&lt;img src=x onerror=&#34;y&#34;&gt;<mark>z</mark>"
    )
    assert marked("<em><em>twice</em></em>") == "<mark>&lt;em&gt;twice</mark>&lt;/em&gt;"


def test_results_appear_with_highlights_and_link_to_their_pages(analyst: httpx.Client) -> None:
    page = analyst.get("/portal/search", params={"q": "airbag"})
    assert page.status_code == 200, page.text
    found = hits(page.text)
    assert found, page.text
    kinds = {kind for kind, _ in found}
    assert "indicator.assertion" in kinds
    assert "rule" in kinds
    assert "<mark>" in page.text
    assert "<em>" not in page.text
    indicator = next(body for kind, body in found if kind == "indicator.assertion")
    link = re.search(r'<a href="(/portal/indicators/[0-9a-f-]{36})">', indicator)
    assert link, indicator
    assert analyst.get(link.group(1)).status_code == 200
    rule = next(body for kind, body in found if kind == "rule")
    rule_link = re.search(r'<a href="(/portal/rules/[0-9a-f-]{36})">', rule)
    assert rule_link, rule
    assert analyst.get(rule_link.group(1)).status_code == 200
    assert 'href="/portal/search"' in page.text  # the navigation's link

    directory = analyst.get("/portal/search", params={"q": "Acme Motors"})
    org = [body for kind, body in hits(directory.text) if kind == "organisation"]
    assert org, directory.text
    assert (
        "<strong><mark>Acme</mark> <mark>Motors</mark></strong>" in org[0]
    )  # no portal page: plain text


def test_guides_are_found_and_link_to_the_guide_page(analyst: httpx.Client) -> None:
    everything = analyst.get("/portal/search", params={"kind": "guide"})
    assert everything.status_code == 200
    guides = hits(everything.text)
    assert guides, everything.text
    assert {kind for kind, _ in guides} == {"guide"}
    link = re.search(r'<a href="(/portal/guides/[0-9a-f-]{36})">', guides[0][1])
    assert link, guides[0][1]
    assert analyst.get(link.group(1)).status_code == 200


def test_a_facet_link_narrows_and_its_chip_widens_again(analyst: httpx.Client) -> None:
    broad = analyst.get("/portal/search", params={"q": "airbag"})
    before = total(broad.text)
    kinds = facet_links(broad.text, "kind")
    assert "rule" in kinds, broad.text
    assert "indicator.assertion" in kinds
    narrowed = analyst.get(kinds["rule"])
    assert narrowed.status_code == 200
    after = total(narrowed.text)
    assert 0 < after < before
    assert {kind for kind, _ in hits(narrowed.text)} == {"rule"}
    assert "checked> Banned-category rule" in narrowed.text

    types = facet_links(broad.text, "type")
    assert "seller_account" in types, broad.text
    by_type = analyst.get(types["seller_account"])
    assert 0 < total(by_type.text) < before
    assert all("seller_account" in body for _, body in hits(by_type.text))
    chip = re.search(r'<a href="([^"]+)" aria-label="Remove filter seller_account">', by_type.text)
    assert chip, by_type.text
    widened = analyst.get(chip.group(1).replace("&amp;", "&"))
    assert total(widened.text) == before


def test_next_page_follows_the_engines_cursor_to_the_end(analyst: httpx.Client) -> None:
    first = analyst.get("/portal/search")
    assert first.status_code == 200
    count = total(first.text)
    assert count > 20  # more than one page of what the analyst may see
    seen = [body for _, body in hits(first.text)]
    assert len(seen) == 20
    href = next_page(first.text)
    pages = 1
    while href is not None:
        assert "after=" in href
        page = analyst.get(href)
        assert page.status_code == 200, page.text
        assert total(page.text) == count
        seen += [body for _, body in hits(page.text)]
        href = next_page(page.text)
        pages += 1
        assert pages < 20
    assert pages >= 2
    assert len(seen) == count
    assert len(set(seen)) == count  # no hit twice


def test_what_the_analyst_may_not_see_never_appears(
    alliance: Alliance, indexed: dict[str, str], analyst: httpx.Client
) -> None:
    # It is in the index, and its owner finds it, counts it and facets it.
    assert f"indicator.assertion:{indexed['private']}" in indexed_ids(alliance)
    with signed_in(alliance, OWNER) as owner:
        own = owner.get("/portal/search", params={"q": PRIVATE_WORD})
        assert total(own.text) == 1
        assert PRIVATE_VALUE in own.text
        assert "RED" in facet_links(own.text, "tlp")
        own_all = owner.get("/portal/search", params={"tlp": "RED"})
        assert total(own_all.text) == 1
    # The analyst (same working group, another organisation) gets nothing of it.
    for params in (
        {"q": PRIVATE_WORD},
        {"q": PRIVATE_VALUE},
        {"tlp": "RED"},
        {"q": PRIVATE_WORD, "kind": "indicator.assertion", "type": "domain"},
    ):
        page = analyst.get("/portal/search", params=params)
        assert page.status_code == 200, page.text
        assert total(page.text) == 0, params
        assert hits(page.text) == []
        answer = page.text.split('id="search-count"', 1)[1]  # after the echoed question
        assert 'id="facets"' not in answer
        assert PRIVATE_VALUE not in answer
    everything = analyst.get("/portal/search")
    assert "RED" not in facet_links(everything.text, "tlp")
    domains = analyst.get("/portal/search", params={"type": "domain"})
    assert PRIVATE_VALUE not in domains.text
    with signed_in(alliance, OWNER) as owner:
        theirs = owner.get("/portal/search", params={"type": "domain"})
    seen_by_analyst = {body for _, body in hits(domains.text)}
    seen_by_owner = {body for _, body in hits(theirs.text)}
    assert seen_by_analyst < seen_by_owner
    assert any(PRIVATE_VALUE in body for body in seen_by_owner - seen_by_analyst)

    # Working-group sharing: luxury goods' indicators reach that group's members only.
    with signed_in(alliance, INVESTIGATOR) as investigator:
        member = investigator.get("/portal/search", params={"q": LUXURY_VALUE})
        assert LUXURY_VALUE in member.text
        assert total(member.text) >= 1
    outsider = analyst.get("/portal/search", params={"q": LUXURY_VALUE})
    assert LUXURY_VALUE not in outsider.text.split('id="search-count"', 1)[1]


def test_indexed_markup_is_shown_as_text(analyst: httpx.Client) -> None:
    page = analyst.get("/portal/search", params={"q": "quetzal"})
    assert page.status_code == 200
    (hit,) = [body for _, body in hits(page.text) if HOSTILE_VALUE in body]
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in hit
    assert "<b>bold</b>" not in hit
    assert "<mark>quetzal</mark>" in hit


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 501}, "q"),
        ({"q": "brake", "after": "not-a-cursor"}, "after"),
        ({"q": "brake", "after": "o:99999999999"}, "after"),
        ({"after": "o:" + "9" * 200}, "after"),
        ({"kind": "spaceship"}, "kind"),
        ({"type": "nonsense"}, "type"),
        ({"group": "not-a-group"}, "group"),
        ({"group": "00000000-0000-0000-0000-000000000000"}, "group"),
        ({"status": "MAYBE"}, "status"),
        ({"tlp": "PURPLE"}, "tlp"),
        ({"lang": "<script>"}, "lang"),
        ({"brand": "b" * 201}, "brand"),
        ({"brand": [f"b{i}" for i in range(21)]}, "brand"),
        ({"from": "yesterday"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01"}, "from"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to"),
    ],
)
def test_bad_input_answers_with_a_message_next_to_the_field(
    analyst: httpx.Client, params: dict[str, Any], field: str
) -> None:
    page = analyst.get("/portal/search", params=params)
    assert page.status_code == 400, page.text
    assert f'id="{field}-error"' in page.text
    assert "Nothing was searched" in page.text
    assert 'id="search-count"' not in page.text
    assert "<script>" not in page.text


def test_dates_narrow_and_anonymous_callers_are_sent_to_sign_in(
    alliance: Alliance, analyst: httpx.Client
) -> None:
    everything = total(analyst.get("/portal/search").text)
    today = analyst.get("/portal/search", params={"from": "2000-01-01", "to": "2199-12-31"})
    assert total(today.text) == everything
    ancient = analyst.get("/portal/search", params={"to": "2000-01-01"})
    assert total(ancient.text) == 0
    with alliance.http() as anonymous:
        away = anonymous.get("/portal/search", params={"q": "airbag"})
        assert away.status_code == 303
        assert away.headers["location"].startswith("/portal/login?next=")


def test_the_engine_down_is_a_clear_503(alliance: Alliance, analyst: httpx.Client) -> None:
    """The live index made unreadable (its pointer names a broken index), then restored."""
    root = tantivy_path(alliance.settings.search_url)
    pointer = root / "current"
    live = pointer.read_text(encoding="utf-8")
    broken = Path(root / "broken-index")
    broken.write_text("not an index", encoding="utf-8")
    pointer.write_text(broken.name, encoding="utf-8")
    try:
        down = analyst.get("/portal/search", params={"q": "airbag"})
    finally:
        pointer.write_text(live, encoding="utf-8")
        broken.unlink()
    assert down.status_code == 503, down.text
    assert "Search is unavailable right now" in down.text
    assert 'href="/portal/indicators"' in down.text
    assert analyst.get("/portal/search", params={"q": "airbag"}).status_code == 200


def test_chinese_interface(analyst: httpx.Client) -> None:
    analyst.get("/portal/language", params={"to": "zh", "next": "/portal/search"})
    page = analyst.get("/portal/search", params={"q": "airbag"})
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text
    assert "<h1>搜索</h1>" in page.text
    assert re.search(r"共 \d+ 条结果", page.text)
    assert "禁售类目规则" in page.text
    bad = analyst.get("/portal/search", params={"from": "tomorrow"})
    assert bad.status_code == 400
    assert "请按 YYYY-MM-DD 填写日期。" in bad.text
    too_long = analyst.get("/portal/search", params={"q": "长" * 501})
    assert "搜索内容最多 500 个字符。" in too_long.text
