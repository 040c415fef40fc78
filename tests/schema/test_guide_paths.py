"""The covert tier on every read path (guide query is in test_guides): search, print view,
export, photos — and uploads that are refused store nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import text

from alliance.guides import service
from alliance.guides.exporting import export_guide
from schema.relay import from_global_id
from search import indexer
from tests.alliance.blobs import samples
from tests.schema.guide_helpers import (
    AIRBAG,
    ERRORS,
    GUIDE,
    READ,
    TRANSLATE,
    UPDATE,
    advance,
    guide_world,
    publish_guide,
)

SEARCH = """
query ($q: String!) {
  search(query: $q, kinds: [GUIDE], first: 10) {
    totalCount
    edges { node { __typename ... on Guide { id content { features { id text } } } } }
  }
}
"""
ADD_PHOTO = f"""
mutation ($input: AddGuidePhotoInput!) {{
  addGuidePhoto(input: $input) {{ {ERRORS} ... on GuidePayload {{ guide {{ {GUIDE} }} }} }}
}}
"""


@pytest.fixture
async def world(demo: dict[str, Any], sessions: Any, issue_token: Any) -> dict[str, Any]:
    return await guide_world(demo, sessions, issue_token)


def raw_id(guide_id: str) -> Any:
    return from_global_id(guide_id)[1]


async def test_search_never_indexes_covert_text(
    gql: Any, world: Any, sessions: Any, app: Any
) -> None:
    guide_id = await publish_guide(gql, world)
    await indexer.drain(sessions, app.state.search)
    platform = (await gql(SEARCH, {"q": "laser-etched"}, world["platform"]))["data"]["search"]
    assert [e["node"]["id"] for e in platform["edges"]] == [guide_id]
    assert "uv-mark" not in json.dumps(platform)
    # The covert feature's words are in no document, whoever searches.
    for who in ("platform", "police", "trainer"):
        hidden = (await gql(SEARCH, {"q": "SECRET-UV-MARK"}, world[who]))["data"]["search"]
        assert hidden["totalCount"] == 0, who
    # A hit is read as the caller reads the guide: the police see the covert feature on it.
    police = (await gql(SEARCH, {"q": "laser-etched"}, world["police"]))["data"]["search"]
    features = police["edges"][0]["node"]["content"]["features"]
    assert "uv-mark" in {f["id"] for f in features}
    outsider = (await gql(SEARCH, {"q": "laser-etched"}, world["outsider"]))["data"]["search"]
    assert outsider["totalCount"] == 0


async def test_current_overt_translations_are_searched_and_no_other(
    gql: Any, world: Any, sessions: Any, app: Any
) -> None:
    guide_id = await publish_guide(gql, world)
    sections = [
        {"section": "title", "text": "安全气囊模块"},
        {"section": "packaging", "text": "防静电袋"},
        {"section": "feature:label", "title": "激光蚀刻标签", "text": "标签为激光蚀刻"},
        {"section": "feature:uv-mark", "title": "紫外微标", "text": "机密紫外线暗记"},
    ]
    translated = await gql(
        TRANSLATE,
        {"input": {"guideId": guide_id, "language": "zh", "sections": sections}},
        world["trainer"],
    )
    assert translated["data"]["translateGuide"]["__typename"] == "GuidePayload", translated
    await indexer.drain(sessions, app.state.search)

    async def found(who: str, words: str) -> list[str]:
        result = (await gql(SEARCH, {"q": words}, world[who]))["data"]["search"]
        return [e["node"]["id"] for e in result["edges"]]

    assert await found("platform", "激光蚀刻") == [guide_id]
    assert await found("platform", "防静电袋") == [guide_id]
    # The covert feature's translation is in no document, whoever searches.
    for who in ("platform", "police", "trainer"):
        assert await found(who, "机密紫外线暗记") == [], who
    assert await found("outsider", "激光蚀刻") == []

    # A new version changes the packaging: its translation is outdated and leaves the index.
    changed = copy.deepcopy(AIRBAG)
    changed["packaging"] = "Sealed antistatic bag, hologram seal on the carton."
    edited = await gql(
        UPDATE, {"input": {"guideId": guide_id, "content": changed}}, world["trainer"]
    )
    assert edited["data"]["updateGuideDraft"]["__typename"] == "GuidePayload", edited
    await advance(gql, world, guide_id)
    await indexer.drain(sessions, app.state.search)
    assert await found("platform", "防静电袋") == []
    assert await found("platform", "激光蚀刻") == [guide_id]


async def test_print_view_respects_tiers(gql: Any, world: Any, client: Any) -> None:
    guide_id = await publish_guide(gql, world)
    path = f"/guides/{raw_id(guide_id)}/print"

    async def page(who: str, **params: str) -> Any:
        return await client.get(
            path, params=params, headers={"Authorization": f"Bearer {world[who]}"}
        )

    police = await page("police")
    assert police.status_code == 200
    assert police.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in police.headers["content-security-policy"]
    assert "SECRET-UV-MARK" in police.text
    assert "Laser-etched label" in police.text
    owner = await page("trainer")
    assert "SECRET-UV-MARK" in owner.text
    platform = await page("platform", lang="zh")
    assert platform.status_code == 200
    assert "Laser-etched label" in platform.text  # no Chinese yet: the source
    assert "SECRET-UV-MARK" not in platform.text
    assert "UV micro-mark" not in platform.text
    assert "<script" not in platform.text
    assert (await client.get(path)).status_code == 401
    assert (await page("outsider")).status_code == 404


async def test_export_respects_tiers(gql: Any, world: Any, session: Any, demo: Any) -> None:
    guide_id = raw_id(await publish_guide(gql, world))
    orgs = demo["orgs"]

    async def exported(slug: str, fmt: str) -> str:
        reader = await service.reader_for_organisation(session, orgs[slug])
        return await export_guide(session, reader, guide_id, fmt=fmt)

    for fmt in ("json", "html"):
        assert "SECRET-UV-MARK" in await exported("city-police", fmt)
        assert "SECRET-UV-MARK" in await exported("guild-of-trainers", fmt)
        platform = await exported("shopmart", fmt)
        assert "SECRET-UV-MARK" not in platform
        assert "Laser-etched" in platform
    document = json.loads(await exported("shopmart", "json"))
    assert [f["id"] for f in document["content"]["features"]] == ["label", "cheap-oem"]
    operator = service.Reader(service.Viewer.anonymous(), operator=True)
    assert "SECRET-UV-MARK" not in await export_guide(session, operator, guide_id, fmt="json")


async def upload(
    client: Any, token: str, guide_id: str, feature: str, data: bytes, name: str
) -> dict[str, Any]:
    operations = {
        "query": ADD_PHOTO,
        "variables": {
            "input": {"guideId": guide_id, "featureId": feature, "file": None, "caption": name}
        },
    }
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (name, data, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["addGuidePhoto"]  # type: ignore[no-any-return]


async def counts(session: Any) -> tuple[int, int]:
    photos = await session.scalar(text("SELECT count(*) FROM guide_photos"))
    blobs = await session.scalar(text("SELECT count(*) FROM blobs"))
    return int(photos), int(blobs)


async def test_photos_follow_the_feature_tier(
    gql: Any, world: Any, client: Any, session: Any
) -> None:
    guide_id = await publish_guide(gql, world)
    # Photos go on the draft; the draft's features are the published ones here.
    overt = await upload(client, world["trainer"], guide_id, "label", samples.png(), "label.png")
    assert overt["__typename"] == "GuidePayload", overt
    covert = await upload(
        client, world["trainer"], guide_id, "uv-mark", samples.jpeg_with_gps(), "uv.jpg"
    )
    assert covert["__typename"] == "GuidePayload", covert
    features = {f["id"]: f for f in covert["guide"]["content"]["features"]}
    covert_url = features["uv-mark"]["photos"][0]["url"]
    overt_url = features["label"]["photos"][0]["url"]

    platform = (await gql(READ, {"id": guide_id}, world["platform"]))["data"]["guide"]
    shown = {f["id"]: f for f in platform["content"]["features"]}
    assert [p["url"] for p in shown["label"]["photos"]] == [overt_url]
    assert "uv-mark" not in shown

    def get(url: str, who: str) -> Any:
        return client.get(url, headers={"Authorization": f"Bearer {world[who]}"})

    assert (await get(overt_url, "platform")).status_code == 200
    assert (await get(covert_url, "platform")).status_code == 404
    assert (await get(covert_url, "police")).status_code == 200
    # A reviewer (the review scope and a seat in the guide's group) reads the covert tier's
    # photo as they read its text; the same organisation's token without the scope does not.
    assert (await get(covert_url, "reviewer")).status_code == 200
    assert (await get(covert_url, "reviewer_reading")).status_code == 404
    assert (await get(overt_url, "outsider")).status_code == 404

    remove = f"""mutation ($id: ID!) {{ removeGuidePhoto(photoId: $id) {{ {ERRORS}
      ... on GuidePayload {{ guide {{ content {{ features {{ id photos {{ id }} }} }} }} }} }} }}"""
    covert_photo = features["uv-mark"]["photos"][0]["id"]
    hidden = await gql(remove, {"id": covert_photo}, world["platform"])
    assert hidden["data"]["removeGuidePhoto"]["__typename"] in ("Forbidden", "NotFound")
    removed = await gql(remove, {"id": covert_photo}, world["trainer"])
    after = {
        f["id"]: f for f in removed["data"]["removeGuidePhoto"]["guide"]["content"]["features"]
    }
    assert after["uv-mark"]["photos"] == []
    assert len(after["label"]["photos"]) == 1
    # Detached, the blob is its owner's alone again: the police no longer read it.
    assert (await get(covert_url, "police")).status_code == 404


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"#!/bin/sh\necho not an image\n", "UNSUPPORTED_TYPE", id="script"),
        pytest.param(samples.png_bomb(), "DECOMPRESSION_BOMB", id="bomb"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024), "TOO_LARGE", id="big"),
    ],
)
async def test_a_refused_upload_stores_nothing(
    gql: Any, world: Any, client: Any, session: Any, data: bytes, code: str
) -> None:
    guide_id = await publish_guide(gql, world)
    before = await counts(session)
    refused = await upload(client, world["trainer"], guide_id, "label", data, "x.png")
    assert refused["__typename"] == "ValidationError"
    assert refused["fields"][0]["code"] == code
    assert await counts(session) == before
    # A platform (no write on this guide) is refused before any byte is stored.
    other = await upload(client, world["platform"], guide_id, "label", samples.png(), "p.png")
    assert other["__typename"] == "Forbidden"
    assert await counts(session) == before


async def test_rest_photo_upload(gql: Any, world: Any, client: Any, session: Any) -> None:
    guide_id = await publish_guide(gql, world)
    path = f"/v1/guides/{raw_id(guide_id)}/photos"

    def post(token: str, data: bytes, feature: str = "label") -> Any:
        return client.post(
            path,
            data={"featureId": feature, "caption": "front"},
            files={"file": ("front.png", data, "image/png")},
            headers={"Authorization": f"Bearer {token}"},
        )

    stored = await post(world["trainer"], samples.png())
    assert stored.status_code == 201, stored.text
    assert stored.json()["featureId"] == "label"
    before = await counts(session)
    refused = await post(world["trainer"], b"%!PS-Adobe-3.0 not an image")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["code"] == "UNSUPPORTED_TYPE"
    unknown = await post(world["trainer"], samples.png(), feature="nope")
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"][0]["code"] == "UNKNOWN_FEATURE"
    assert (await post(world["platform"], samples.png())).status_code == 403
    assert await counts(session) == before
    assert (await client.post(path)).status_code == 401
