"""Identification guides over TAXII, read by the OASIS ``taxii2-client``: each published guide
is in its working group's collection (and in ``alliance`` when shared alliance-wide), in the
manifest, by id and in its versions; every one passes ``stix2-validator``; and a guide's covert
and forensic features reach only the callers the tier rule lets see them (the owner, an
enforcement organisation), never a platform member or a federated peer."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import select
from stix2validator import validate_instance
from taxii2client.v21 import Collection, Server, as_pages

from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.guides import service as guides
from alliance.guides.demo import AIRBAG
from alliance.guides.models import Guide
from alliance.stix.extensions import GUIDE_TYPE
from alliance.stix.guides import guide_id
from tests.alliance.taxii.conftest import Taxii

READ = "indicators:read"
COVERT, FORENSIC = "uv-micromark", "inflator-alloy"
SECRETS = ("fluoresces", "XRF")
WIDE_TITLE = "Acme wiper blades (shared with the federation)"
ARCHIVED_TITLE = "Acme brake pads (withdrawn)"
AIRBAG_DEMO_TITLE = AIRBAG["title"]


def _content(title: str) -> dict[str, Any]:
    content = copy.deepcopy(AIRBAG)
    content["title"] = title
    # No tells: those compiled indicators would be the airbag guide's over again.
    content["features"] = [f for f in content["features"] if f["kind"] != "TELL"]
    return content


async def _publish_more(taxii: Taxii) -> dict[str, str]:
    """One FEDERATION guide (GREEN) with a covert feature, and one archived guide."""
    engine = make_engine(taxii.settings.database_url)
    found: dict[str, str] = {}
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            for title, distribution, tlp in (
                (WIDE_TITLE, "FEDERATION", "GREEN"),
                (ARCHIVED_TITLE, "WORKING_GROUP", "AMBER"),
            ):
                guide = await guides.create_guide(
                    session,
                    None,
                    working_group_id=taxii.groups["automotive-parts"].id,
                    content=_content(title),
                    distribution=distribution,
                    tlp=tlp,
                    owner_org_id=taxii.orgs["acme-motors"].id,
                )
                await guides.submit_for_review(session, None, guide.id)
                await guides.approve(session, None, guide.id, note="ok")
                await guides.publish(session, None, guide.id)
                if title == ARCHIVED_TITLE:
                    await guides.archive(session, None, guide.id)
                found[title] = guide_id(taxii.instance, guide.id)
        async with make_sessionmaker(engine)() as session:
            airbag = await session.scalar(select(Guide).where(Guide.title == AIRBAG_DEMO_TITLE))
            assert airbag is not None
            found["airbag"] = guide_id(taxii.instance, airbag.id)
    finally:
        await engine.dispose()
    return found


@pytest.fixture(scope="module")
async def ids(taxii: Taxii) -> dict[str, str]:
    return await _publish_more(taxii)


def _collections(taxii: Taxii, org: str, scopes: str = READ) -> dict[str, Collection]:
    server = Server(taxii.discovery_url, auth=taxii.auth(org, scopes))
    [root] = server.api_roots
    return {c.title: c for c in root.collections}


def _objects(collection: Collection, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_objects, per_request=4, **filters):
        found += envelope.get("objects", [])
    return found


def _guides(collection: Collection) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in _objects(collection) if o["type"] == GUIDE_TYPE}


def _features(obj: dict[str, Any]) -> set[str]:
    return {f["id"] for f in obj["sections"]["features"]}


def _errors(obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_instance(obj).errors]


def test_guides_are_in_their_collections_and_validate(taxii: Taxii, ids: dict[str, str]) -> None:
    owner = _collections(taxii, "acme-motors")
    group = _guides(owner["automotive-parts"])
    assert {ids["airbag"], ids[WIDE_TITLE], ids[ARCHIVED_TITLE]} <= set(group)
    # Alliance-wide guides are in ``alliance`` too; a group's own guides are not.
    wide = _guides(owner["alliance"])
    assert ids[WIDE_TITLE] in wide
    assert ids["airbag"] not in wide
    assert ids[ARCHIVED_TITLE] not in wide
    for obj in [*group.values(), *wide.values()]:
        assert _errors(obj) == [], (obj["id"], _errors(obj))
    airbag = group[ids["airbag"]]
    assert airbag["name"] == AIRBAG_DEMO_TITLE
    assert airbag["working_group"] == "automotive-parts"
    assert airbag["brands"] == ["Acme Motors"]
    assert airbag["revoked"] is False
    # Its tells compiled into indicators, which the same collection carries.
    indicators = {o["id"] for o in _objects(owner["automotive-parts"], type="indicator")}
    assert airbag["indicator_refs"]
    assert set(airbag["indicator_refs"]) <= indicators
    # The owner sees its own restricted tiers.
    assert {COVERT, FORENSIC} <= _features(airbag)
    # A withdrawn guide travels revoked.
    assert group[ids[ARCHIVED_TITLE]]["revoked"] is True
    assert group[ids[ARCHIVED_TITLE]]["status"] == "ARCHIVED"
    # The manifest, versions and by-id agree with the objects.
    collection = owner["automotive-parts"]
    [entry] = collection.get_manifest(id=ids["airbag"])["objects"]
    assert entry["version"] == airbag["modified"]
    assert collection.object_versions(ids["airbag"])["versions"] == [airbag["modified"]]
    assert collection.get_object(ids["airbag"])["objects"] == [airbag]
    only = _objects(collection, type=GUIDE_TYPE)
    assert {o["type"] for o in only} == {GUIDE_TYPE}
    assert {o["id"] for o in only} == set(group)


def _assert_no_restricted(obj: dict[str, Any]) -> None:
    assert not _features(obj) & {COVERT, FORENSIC}, obj["id"]
    text = json.dumps(obj)
    for secret in SECRETS:
        assert secret not in text, (obj["id"], secret)
    assert "COVERT" not in text
    assert "FORENSIC" not in text


def test_covert_features_reach_the_police_and_not_a_platform(
    taxii: Taxii, ids: dict[str, str]
) -> None:
    wanted = (ids["airbag"], ids[WIDE_TITLE])
    police = _collections(taxii, "city-police")["automotive-parts"]
    platform = _collections(taxii, "shopmart")["automotive-parts"]
    for stix_id in wanted:
        [by_id] = police.get_object(stix_id)["objects"]
        assert {COVERT, FORENSIC} <= _features(by_id)
        assert by_id == _guides(police)[stix_id]
        [hidden] = platform.get_object(stix_id)["objects"]
        _assert_no_restricted(hidden)
        assert "etched-label" in _features(hidden)
        _assert_no_restricted(_guides(platform)[stix_id])
        [filtered] = platform.get_objects(id=stix_id)["objects"]
        _assert_no_restricted(filtered)
    # In the alliance collection too.
    assert COVERT in _features(_guides(_collections(taxii, "city-police")["alliance"])[wanted[1]])
    _assert_no_restricted(_guides(_collections(taxii, "shopmart")["alliance"])[wanted[1]])
    # The review scope with a seat in the group lets a platform reviewer see them.
    reviewer = _collections(taxii, "shopmart", f"{READ} guides:review")["automotive-parts"]
    assert COVERT in _features(reviewer.get_object(ids["airbag"])["objects"][0])


def test_a_federated_peer_never_gets_restricted_tiers(taxii: Taxii, ids: dict[str, str]) -> None:
    [collection] = _collections(
        taxii, "alliance-office", "federation sync:read guides:review"
    ).values()
    found = _guides(collection)
    assert set(found) == {ids[WIDE_TITLE]}
    _assert_no_restricted(found[ids[WIDE_TITLE]])
    assert _errors(found[ids[WIDE_TITLE]]) == []
