"""Guides over GraphQL: the whole workflow with two people, the four-eyes rule, tiers,
versions and diffs, translations, serial validation, notifications, and tells → indicators."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select, text

from alliance.db import unit_of_work
from alliance.guides import service
from alliance.guides.models import GuideTellIndicator
from alliance.indicators.models import AssertionStatus, IndicatorAssertion
from schema.relay import from_global_id
from tests.schema.guide_helpers import (
    AIRBAG,
    APPROVE,
    ARCHIVE,
    CREATE,
    PUBLISH,
    READ,
    REQUEST_CHANGES,
    SUBMIT,
    TRANSLATE,
    UPDATE,
    advance,
    guide_world,
    publish_guide,
)
from tests.schema.test_query_counts import recorded_statements


@pytest.fixture
async def world(demo: dict[str, Any], sessions: Any, issue_token: Any) -> dict[str, Any]:
    return await guide_world(demo, sessions, issue_token)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every element of an HTML fragment with its attributes, as a browser would parse it."""
    found: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def field(answer: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in answer, answer
    return next(iter(answer["data"].values()))  # type: ignore[no-any-return]


async def test_the_workflow_with_two_people(gql: Any, world: Any) -> None:
    created = field(
        await gql(
            CREATE,
            {"input": {"workingGroupId": world["group"], "content": AIRBAG}},
            world["trainer"],
        )
    )
    guide = created["guide"]
    assert (guide["status"], guide["readVersion"], guide["owner"]["slug"]) == (
        "DRAFT",
        None,
        "guild-of-trainers",
    )
    guide_id = guide["id"]
    # Not published yet: a platform in the group does not read drafts of others… it does hold
    # a seat, so it may; an outsider organisation does not see the guide at all.
    assert (await gql(READ, {"id": guide_id}, world["outsider"]))["data"]["guide"] is None

    early = field(await gql(APPROVE, {"input": {"guideId": guide_id}}, world["reviewer"]))
    assert early["__typename"] == "Conflict"
    submitted = field(await gql(SUBMIT, {"input": {"guideId": guide_id}}, world["trainer"]))
    assert submitted["guide"]["status"] == "IN_REVIEW"
    assert submitted["guide"]["submittedBy"].startswith("person:")

    # The same person, even holding guides:review, cannot approve their own guide.
    own = field(await gql(APPROVE, {"input": {"guideId": guide_id}}, world["trainer_reviewing"]))
    assert own["__typename"] == "Forbidden"
    assert "different person" in own["message"]
    # A reader without guides:review is refused by the field's declaration.
    refused = field(await gql(APPROVE, {"input": {"guideId": guide_id}}, world["platform"]))
    assert refused["__typename"] == "Forbidden"
    # Publishing before approval is a conflict.
    too_soon = field(await gql(PUBLISH, {"input": {"guideId": guide_id}}, world["trainer"]))
    assert too_soon["__typename"] == "Conflict"

    sent_back = field(
        await gql(
            REQUEST_CHANGES,
            {"input": {"guideId": guide_id, "note": "Add the carton photo."}},
            world["reviewer"],
        )
    )
    assert (sent_back["guide"]["status"], sent_back["guide"]["reviewNote"]) == (
        "DRAFT",
        "Add the carton photo.",
    )
    published = await advance(gql, world, guide_id)
    assert published["guide"]["status"] == "PUBLISHED"
    assert published["guide"]["readVersion"] == 1
    assert published["guide"]["approvedBy"].startswith("person:")

    # Editing opens a new draft; readers keep reading version 1.
    changed = copy.deepcopy(AIRBAG)
    changed["packaging"] = "Sealed antistatic bag, hologram seal on the carton."
    changed["features"] = [f for f in changed["features"] if f["id"] != "cheap-oem"]
    changed["features"].append(
        {"id": "hologram", "kind": "AUTHENTIC", "title": "Hologram seal", "text": "Shifts colour."}
    )
    edited = field(
        await gql(UPDATE, {"input": {"guideId": guide_id, "content": changed}}, world["trainer"])
    )
    assert (edited["guide"]["status"], edited["guide"]["readVersion"]) == ("DRAFT", None)
    reading = (await gql(READ, {"id": guide_id}, world["platform"]))["data"]["guide"]
    assert reading["readVersion"] == 1
    assert reading["content"]["packaging"] == AIRBAG["packaging"]

    second = await advance(gql, world, guide_id)
    assert (second["guide"]["readVersion"], second["guide"]["latestVersion"]) == (2, 2)
    first = (await gql(READ, {"id": guide_id, "version": 1}, world["platform"]))["data"]["guide"]
    assert first["content"]["packaging"] == AIRBAG["packaging"]

    diff = await gql(
        """query ($id: ID!) { guideDiff(id: $id, from: 1, to: 2) {
             section change items { id change } } }""",
        {"id": guide_id},
        world["platform"],
    )
    sections = {d["section"]: d for d in diff["data"]["guideDiff"]}
    assert sections["packaging"]["change"] == "CHANGED"
    assert {(i["id"], i["change"]) for i in sections["features"]["items"]} == {
        ("hologram", "ADDED"),
        ("cheap-oem", "REMOVED"),
    }
    archived = field(await gql(ARCHIVE, {"input": {"guideId": guide_id}}, world["trainer"]))
    assert archived["guide"]["status"] == "ARCHIVED"
    again = field(
        await gql(UPDATE, {"input": {"guideId": guide_id, "content": AIRBAG}}, world["trainer"])
    )
    assert again["__typename"] == "Conflict"


async def test_bad_content_is_a_field_error_and_writes_nothing(
    gql: Any, world: Any, session: Any
) -> None:
    before = await session.scalar(text("SELECT count(*) FROM guides"))
    bad = copy.deepcopy(AIRBAG)
    bad["gtins"] = ["123"]
    bad["serialFormats"] = [{"name": "x", "pattern": "(a{1,9}){1,9}", "examples": ["aaa"]}]
    bad["features"][0]["keywords"] = ["not a tell"]
    answer = field(
        await gql(
            CREATE, {"input": {"workingGroupId": world["group"], "content": bad}}, world["trainer"]
        )
    )
    assert answer["__typename"] == "ValidationError"
    codes = {(".".join(f["path"]), f["code"]) for f in answer["fields"]}
    assert ("gtins.0", "TOO_SHORT") in codes or any(p == "gtins.0" for p, _ in codes)
    assert ("serial_formats.0.pattern", "INVALID_PATTERN") in codes
    assert ("features.0.keywords", "NOT_A_TELL") in codes
    assert await session.scalar(text("SELECT count(*) FROM guides")) == before


async def test_covert_features_by_reader(gql: Any, world: Any) -> None:
    guide_id = await publish_guide(gql, world)

    def titles(answer: dict[str, Any]) -> set[str]:
        return {f["id"] for f in answer["data"]["guide"]["content"]["features"]}

    for who in ("police", "trainer", "reviewer"):
        seen = await gql(READ, {"id": guide_id}, world[who])
        assert "uv-mark" in titles(seen), who
        assert seen["data"]["guide"]["restrictedTiersVisible"] is True
    platform = await gql(READ, {"id": guide_id}, world["platform"])
    assert titles(platform) == {"label", "cheap-oem"}
    assert "SECRET-UV-MARK" not in str(platform)
    listed = await gql(
        "{ guides(first: 10) { totalCount edges { node { content { features { id } } } } } }",
        token=world["platform"],
    )
    assert listed["data"]["guides"]["totalCount"] == 1
    assert "uv-mark" not in str(listed)
    diff = await gql(
        """query ($id: ID!) { guideDiff(id: $id, from: 1, to: 1) { section } }""",
        {"id": guide_id},
        world["platform"],
    )
    assert diff["data"]["guideDiff"] == []


async def test_markdown_is_rendered_safely(gql: Any, world: Any) -> None:
    content = copy.deepcopy(AIRBAG)
    payloads = [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<iframe src='https://evil.example'></iframe>",
        '<a href="https://ok.example" onclick="alert(1)">raw</a>',
        "![x](javascript:alert(1))",
    ]
    content["summary"] = "\n\n".join(payloads)
    content["features"][0]["text"] = "**bold** [site](https://acme.example) <b onmouseover=x>hi</b>"
    created = field(
        await gql(
            CREATE,
            {"input": {"workingGroupId": world["group"], "content": content}},
            world["trainer"],
        )
    )
    html = created["guide"]["content"]["summaryHtml"]
    tags = elements(html)
    assert {t for t, _ in tags} <= {"p", "a"}, tags
    for _, attrs in tags:
        assert not any(name.startswith("on") for name in attrs), attrs
        assert not str(attrs.get("href", "")).lower().startswith(("javascript:", "data:"))
    feature = created["guide"]["content"]["features"][0]["textHtml"]
    assert "<strong>bold</strong>" in feature
    assert (
        "a",
        {"href": "https://acme.example", "rel": "noopener noreferrer nofollow"},
    ) in elements(feature)
    assert all(not any(n.startswith("on") for n in a) for _, a in elements(feature))


async def test_validate_serial(gql: Any, world: Any) -> None:
    guide_id = await publish_guide(gql, world)
    query = """query ($id: ID!, $value: String!) {
      validateSerial(guideId: $id, value: $value) { valid formats { formatId valid reason } } }"""
    ok = await gql(query, {"id": guide_id, "value": "AB2-654321-FR"}, world["platform"])
    assert ok["data"]["validateSerial"]["valid"] is True
    bad = await gql(query, {"id": guide_id, "value": "AB2-65432-FR"}, world["platform"])
    assert bad["data"]["validateSerial"] == {
        "valid": False,
        "formats": [{"formatId": "sn", "valid": False, "reason": "does not match the format"}],
    }
    hidden = await gql(query, {"id": guide_id, "value": "x"}, world["outsider"])
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_translations_and_their_status(gql: Any, world: Any) -> None:
    guide_id = await publish_guide(gql, world)
    translated = field(
        await gql(
            TRANSLATE,
            {
                "input": {
                    "guideId": guide_id,
                    "language": "zh",
                    "sections": [
                        {"section": "title", "text": "Acme 驾驶员安全气囊模块 AB-200"},
                        {"section": "packaging", "text": "密封防静电袋，装在印刷纸箱内。"},
                        {
                            "section": "feature:label",
                            "title": "激光蚀刻标签",
                            "text": "标签为激光蚀刻。",
                        },
                    ],
                }
            },
            world["trainer"],
        )
    )
    assert translated["__typename"] == "GuidePayload"
    zh = (await gql(READ, {"id": guide_id, "language": "zh"}, world["platform"]))["data"]["guide"]
    assert zh["language"] == "zh"
    assert zh["title"].startswith("Acme 驾驶员")
    assert zh["content"]["features"][0]["title"] == "激光蚀刻标签"
    # Untranslated sections fall back to the source.
    assert zh["content"]["features"][1]["title"] == AIRBAG["features"][2]["title"]
    status = {t["section"]: t["status"] for t in zh["translations"]}
    assert (status["packaging"], status["summary"]) == ("CURRENT", "MISSING")
    assert "feature:uv-mark" not in status  # the platform does not see the covert feature

    changed = copy.deepcopy(AIRBAG)
    changed["packaging"] = "A new carton with a hologram seal."
    await gql(UPDATE, {"input": {"guideId": guide_id, "content": changed}}, world["trainer"])
    await advance(gql, world, guide_id)
    zh = (await gql(READ, {"id": guide_id, "language": "zh"}, world["platform"]))["data"]["guide"]
    status = {t["section"]: t["status"] for t in zh["translations"]}
    assert (status["packaging"], status["title"], status["feature:label"]) == (
        "OUTDATED",
        "CURRENT",
        "CURRENT",
    )
    unknown = field(
        await gql(
            TRANSLATE,
            {"input": {"guideId": guide_id, "language": "zh", "sections": [{"section": "nope"}]}},
            world["trainer"],
        )
    )
    assert unknown["__typename"] == "ValidationError"


async def test_tells_compile_into_indicators_and_archiving_revokes_them(
    gql: Any, world: Any, session: Any
) -> None:
    content = copy.deepcopy(AIRBAG)
    content["features"].append(
        {
            "id": "covert-tell",
            "kind": "TELL",
            "tier": "COVERT",
            "title": "Wrong UV response",
            "keywords": ["covert keyword never compiled"],
        }
    )
    guide_id = await publish_guide(gql, world, content)
    raw = from_global_id(guide_id)[1]
    rows = list(
        await session.scalars(select(GuideTellIndicator).where(GuideTellIndicator.guide_id == raw))
    )
    assert sorted({r.tell_id for r in rows}) == ["cheap-oem"]
    assert len(rows) == 2  # a keyword and a brand misspelling
    assertions = list(
        await session.scalars(
            select(IndicatorAssertion).where(
                IndicatorAssertion.id.in_([r.assertion_id for r in rows])
            )
        )
    )
    assert {a.owner_org_id for a in assertions} == {world["orgs"]["guild-of-trainers"].id}
    assert all(a.status == AssertionStatus.ACTIVE for a in assertions)
    assert all(f"guide:{raw}" in a.tags for a in assertions)
    covert = await session.scalar(
        select(func.count())
        .select_from(IndicatorAssertion)
        .where(IndicatorAssertion.note.contains("Wrong UV response"))
    )
    assert covert == 0

    await gql(ARCHIVE, {"input": {"guideId": guide_id}}, world["trainer"])
    session.expire_all()
    for a in assertions:
        await session.refresh(a)
        assert a.status == AssertionStatus.REVOKED
        assert "GUIDE_ARCHIVED" in (a.revocation_note or "")


async def test_subscribers_are_notified_on_publish_and_owners_when_stale(
    gql: Any, world: Any, sessions: Any
) -> None:
    guide_id = await publish_guide(gql, world, reviewBy="2020-01-01")
    sub = await gql(
        """mutation ($id: ID!) { subscribeToGuide(guideId: $id) { __typename } }""",
        {"id": guide_id},
        world["platform"],
    )
    assert sub["data"]["subscribeToGuide"]["__typename"] == "GuidePayload"
    changed = copy.deepcopy(AIRBAG)
    changed["labels"] = "New label layout from 2027."
    await gql(UPDATE, {"input": {"guideId": guide_id, "content": changed}}, world["trainer"])
    await advance(gql, world, guide_id)
    notes = (
        "{ guideNotifications(first: 10) { totalCount edges { node { kind version guideId } } } }"
    )
    seen = await gql(notes, token=world["platform"])
    assert [e["node"] for e in seen["data"]["guideNotifications"]["edges"]] == [
        {"kind": "PUBLISHED", "version": 2, "guideId": guide_id}
    ]

    async with unit_of_work(sessions) as s:
        stale = await service.mark_stale(s)
    assert len(stale) == 1
    async with unit_of_work(sessions) as s:
        assert await service.mark_stale(s) == []  # once
    owner = await gql(notes, token=world["trainer"])
    assert [e["node"]["kind"] for e in owner["data"]["guideNotifications"]["edges"]] == ["STALE"]
    note_id = (
        await gql("{ guideNotifications { edges { node { id } } } }", token=world["trainer"])
    )["data"]["guideNotifications"]["edges"][0]["node"]["id"]
    mark = """mutation ($id: ID!) { markGuideNotificationRead(id: $id) { __typename
      ... on GuideNotificationPayload { notification { readAt } } } }"""
    not_theirs = await gql(mark, {"id": note_id}, world["platform"])
    assert not_theirs["data"]["markGuideNotificationRead"]["__typename"] == "NotFound"
    read = await gql(mark, {"id": note_id}, world["trainer"])
    assert read["data"]["markGuideNotificationRead"]["notification"]["readAt"]
    unread = await gql(
        "{ guideNotifications(unreadOnly: true) { totalCount } }", token=world["trainer"]
    )
    assert unread["data"]["guideNotifications"]["totalCount"] == 0
    reading = (await gql(READ, {"id": guide_id}, world["platform"]))["data"]["guide"]
    assert reading["stale"] is True


async def test_the_list_costs_the_same_whatever_the_page_size(
    gql: Any, world: Any, engine: Any
) -> None:
    for n in range(6):
        content = copy.deepcopy(AIRBAG) | {"title": f"Guide {n}"}
        if n % 2:
            await publish_guide(gql, world, content)
        else:
            await gql(
                CREATE,
                {"input": {"workingGroupId": world["group"], "content": content}},
                world["trainer"],
            )
    query = """query ($first: Int!) { guides(first: $first) { totalCount edges { node {
      id title readVersion owner { slug } workingGroup { slug }
      content { features { id photos { url } } } } } } }"""
    used = []
    for first in (2, 6):
        with recorded_statements(engine) as statements:
            answer = await gql(query, {"first": first}, world["trainer"])
        assert len(answer["data"]["guides"]["edges"]) == first
        used.append(len(statements))
    assert used[0] == used[1]
    assert answer["data"]["guides"]["totalCount"] == 6
    # The platform holds a seat in the group, so it reads the drafts too; an outsider nothing.
    platform = await gql(query, {"first": 10}, world["platform"])
    assert platform["data"]["guides"]["totalCount"] == 6
    outsider = await gql(query, {"first": 10}, world["outsider"])
    assert outsider["data"]["guides"]["totalCount"] == 0


async def test_an_editor_who_cannot_read_covert_features_keeps_them(
    gql: Any, world: Any, issue_token: Any
) -> None:
    guide_id = await publish_guide(gql, world)
    editor = issue_token(world["orgs"]["shopmart"], "guides:write guides:read")
    draft = (await gql(READ, {"id": guide_id, "draft": True}, editor))["data"]["guide"]
    assert [f["id"] for f in draft["content"]["features"]] == ["label", "cheap-oem"]
    changed = copy.deepcopy(AIRBAG)
    changed["features"] = [f for f in changed["features"] if f["tier"] == "OVERT"]
    changed["features"][0]["text"] = "Etched, and the etching is 0.2 mm deep."
    edited = field(await gql(UPDATE, {"input": {"guideId": guide_id, "content": changed}}, editor))
    assert edited["__typename"] == "GuidePayload"
    owner = (await gql(READ, {"id": guide_id, "draft": True}, world["trainer"]))["data"]["guide"]
    assert {f["id"] for f in owner["content"]["features"]} == {"label", "cheap-oem", "uv-mark"}
    # Naming a covert feature's id (to overwrite it unseen) is refused.
    sneaky = copy.deepcopy(AIRBAG)
    sneaky["features"] = [{"id": "uv-mark", "title": "overwritten"}]
    refused = field(await gql(UPDATE, {"input": {"guideId": guide_id, "content": sneaky}}, editor))
    assert refused["__typename"] == "Forbidden"
