"""The OASIS ``taxii2-client`` against a running Alliance: discovery, API root, collections,
paging, manifest, versions, add objects and status; every object it reads passes
``stix2-validator``; and nothing the sharing policy hides is ever shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from stix2validator import validate_instance
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tests.alliance.taxii.conftest import TAXII, Taxii

READER = "acme-motors"


def _collections(taxii: Taxii, org: str = READER) -> dict[str, Collection]:
    server = Server(taxii.discovery_url, auth=taxii.auth(org))
    [root] = server.api_roots
    return {c.title: c for c in root.collections}


def _all_objects(collection: Collection, per_request: int) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_objects, per_request=per_request):
        objects += envelope.get("objects", [])
    return objects


def _errors(obj: dict[str, Any]) -> list[str]:
    result = validate_instance(obj)
    return [str(e) for e in result.errors]


def test_discovery_api_root_and_the_collections_a_caller_may_read(taxii: Taxii) -> None:
    server = Server(taxii.discovery_url, auth=taxii.auth())
    assert server.title == "Alliance TAXII 2.1"
    assert server.default is not None
    [root] = server.api_roots
    assert isinstance(root, ApiRoot)
    assert root.versions == [TAXII]
    assert root.max_content_length > 0
    found = {c.title: c for c in root.collections}
    # acme-motors sits in automotive-parts only (as chair), plus the alliance-wide collection.
    assert set(found) == {"alliance", "automotive-parts"}
    assert all(c.can_read for c in found.values())
    assert found["automotive-parts"].can_write
    observer = _collections(taxii, "alliance-office")
    assert set(observer) == {"alliance", "automotive-parts", "luxury-goods", "consumer-electronics"}
    # An observer reads its groups and may not write to them.
    assert not observer["luxury-goods"].can_write
    reader_only = Server(taxii.discovery_url, auth=taxii.auth(READER, "indicators:read"))
    assert not any(c.can_write for c in reader_only.api_roots[0].collections)


def test_paging_over_every_collection_gives_each_object_once_and_all_validate(
    taxii: Taxii,
) -> None:
    for title, collection in _collections(taxii).items():
        whole = _all_objects(collection, per_request=1000)
        paged = _all_objects(collection, per_request=3)
        assert [o["id"] for o in paged] == [o["id"] for o in whole], title
        assert len({o["id"] for o in whole}) == len(whole), title
        kinds = {o["type"] for o in whole}
        assert {"indicator", "identity", "marking-definition", "extension-definition"} <= kinds
        for obj in whole:
            assert _errors(obj) == [], (title, obj["id"], _errors(obj))
    group = _all_objects(_collections(taxii)["automotive-parts"], 1000)
    assert any(o["type"] == "alliance-banned-category-rule" for o in group), "rules travel too"
    ids = {o["id"] for o in group}
    assert taxii.shown["group"] in ids
    assert taxii.shown["own_private"] in ids
    assert taxii.shown["alliance"] in {
        o["id"] for o in _all_objects(_collections(taxii)["alliance"], 1000)
    }


def test_hidden_objects_never_appear_in_objects_manifest_versions_or_by_id(taxii: Taxii) -> None:
    hidden = set(taxii.hidden.values())
    for title, collection in _collections(taxii).items():
        seen = {o["id"] for o in _all_objects(collection, per_request=5)}
        assert not seen & hidden, title
        listed: set[str] = set()
        for envelope in as_pages(collection.get_manifest, per_request=4):
            listed |= {m["id"] for m in envelope.get("objects", [])}
        assert listed == seen, title
        for stix_id in hidden:
            filtered = collection.get_objects(id=stix_id)
            assert "objects" not in filtered, (title, stix_id)
            for call in (collection.get_object, collection.object_versions):
                with pytest.raises(requests.HTTPError) as info:
                    call(stix_id)
                assert info.value.response.status_code == 404
                body = info.value.response.json()
                assert body["http_status"] == "404"


def test_manifest_versions_and_filters(taxii: Taxii) -> None:
    collection = _collections(taxii)["automotive-parts"]
    mine = taxii.shown["own_private"]
    [entry] = collection.get_manifest(id=mine)["objects"]
    assert entry["media_type"] == "application/stix+json;version=2.1"
    versions = collection.object_versions(mine)
    assert versions["versions"] == [entry["version"]]
    [obj] = collection.get_object(mine)["objects"]
    assert obj["modified"] == entry["version"]
    assert collection.get_object(mine, version=entry["version"])["objects"] == [obj]
    assert "objects" not in collection.get_object(mine, version="2001-01-01T00:00:00.000Z")
    assert "objects" not in collection.get_objects(spec_version="2.0")
    indicators = collection.get_objects(type="indicator")["objects"]
    assert indicators
    assert {o["type"] for o in indicators} == {"indicator"}
    last_added = collection.get_manifest()["objects"][-1]["date_added"]
    assert "objects" not in collection.get_objects(added_after=last_added)
    raw = requests.get(
        collection.objects_url,
        params={"limit": 2},
        headers={"Authorization": f"Bearer {taxii.token(READER)}", "Accept": TAXII},
        timeout=10,
    )
    assert raw.headers["content-type"] == TAXII
    page_added = [e["date_added"] for e in collection.get_manifest(limit=2)["objects"]]
    assert raw.headers["X-TAXII-Date-Added-First"] == page_added[0]
    assert raw.headers["X-TAXII-Date-Added-Last"] == page_added[-1]
    first_page = collection.get_objects(limit=2)
    assert first_page["more"] is True
    assert len(first_page["objects"]) == 2


def _http(taxii: Taxii, path: str, **headers: str) -> requests.Response:
    return requests.get(f"{taxii.base_url}/taxii2/api/{path}", headers=headers, timeout=10)


def test_bad_requests_get_taxii_error_objects(taxii: Taxii) -> None:
    token = taxii.token(READER)
    bearer = f"Bearer {token}"
    collection = _collections(taxii)["alliance"]
    base = f"collections/{collection.id}/objects/"
    cases = [
        (_http(taxii, "collections/"), 401),
        (_http(taxii, "collections/", Authorization="Bearer not-a-token"), 401),
        (_http(taxii, base + "?limit=0", Authorization=bearer), 400),
        (_http(taxii, base + "?next=garbage", Authorization=bearer), 400),
        (_http(taxii, base + "?added_after=yesterday", Authorization=bearer), 400),
        (_http(taxii, base + "?colour=red", Authorization=bearer), 400),
        (_http(taxii, base, Authorization=bearer, Accept="application/xml"), 406),
        (_http(taxii, "collections/nope/objects/", Authorization=bearer), 404),
        (
            _http(
                taxii, "collections/", Authorization=f"Bearer {taxii.token(READER, 'guides:read')}"
            ),
            403,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.url, response.text)
        assert response.headers["content-type"] == TAXII
        assert response.json()["http_status"] == str(status)
    posted = requests.post(
        f"{taxii.base_url}/taxii2/api/{base}",
        data=b"{}",
        headers={"Authorization": bearer, "Content-Type": "application/json"},
        timeout=10,
    )
    assert posted.status_code == 415
    broken = requests.post(
        f"{taxii.base_url}/taxii2/api/{base}",
        data=b"{not json",
        headers={"Authorization": bearer, "Content-Type": TAXII},
        timeout=10,
    )
    assert broken.status_code == 400
    assert broken.json()["title"] == "Invalid JSON"


def _indicator(stix_id: str, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id,
        "created": "2026-11-30T10:00:00.000Z",
        "modified": "2026-11-30T10:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-11-30T10:00:00.000Z",
        **extra,
    }


def test_add_objects_imports_through_the_indicator_checks_and_reports_status(
    taxii: Taxii,
) -> None:
    collection = _collections(taxii)["automotive-parts"]
    good = _indicator(
        "indicator--0f5f1e7c-3c1d-4b0a-9a55-2c5d3f0f6a01",
        "[domain-name:value = 'Imported-Fake.example']",
        confidence=65,
        object_marking_refs=["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
        labels=["taxii"],
    )
    phone = _indicator(
        "indicator--0f5f1e7c-3c1d-4b0a-9a55-2c5d3f0f6a02",
        "[alliance-phone-number:value = '+8675526889999']",
    )
    bad_value = _indicator(
        "indicator--0f5f1e7c-3c1d-4b0a-9a55-2c5d3f0f6a03", "[email-addr:value = 'not an email']"
    )
    bad_pattern = _indicator(
        "indicator--0f5f1e7c-3c1d-4b0a-9a55-2c5d3f0f6a04", "[file:name = 'setup.exe']"
    )
    envelope = {"objects": [good, phone, bad_value, bad_pattern, {"type": "malware"}]}
    status = collection.add_objects(json.dumps(envelope))
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (5, 2, 3)
    failed = {f["id"]: f["message"] for f in status.failures}
    assert "value" in failed[bad_value["id"]]
    assert "file" in failed[bad_pattern["id"]]
    status.refresh()
    assert status.success_count == 2
    imported = [
        o
        for o in _all_objects(collection, 1000)
        if o["type"] == "indicator" and "imported-fake.example" in o["pattern"]
    ]
    [obj] = imported
    assert obj["confidence"] == 65
    assert obj["labels"] == ["taxii"]
    assert obj["object_marking_refs"] == [
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
    ]
    assert _errors(obj) == []
    # An observer may not add; the alliance collection takes ALLIANCE indicators.
    observer = _collections(taxii, "alliance-office")["luxury-goods"]
    with pytest.raises(TAXIIServiceException):
        observer.add_objects(json.dumps({"objects": [good]}))
    # The alliance collection takes what is shared alliance-wide.
    alliance = _collections(taxii)["alliance"]
    wide = _indicator(
        "indicator--0f5f1e7c-3c1d-4b0a-9a55-2c5d3f0f6a05",
        "[url:value = 'https://wide.example/shop/1']",
    )
    assert alliance.add_objects(json.dumps({"objects": [wide]})).success_count == 1
    [shared] = [
        o
        for o in _all_objects(alliance, 1000)
        if o["type"] == "indicator" and "wide.example" in o["pattern"]
    ]
    [ext] = shared["extensions"].values()
    assert ext["distribution"] == "ALLIANCE"
    assert "working_group" not in ext
    # Another organisation cannot read this status.
    other = requests.get(
        f"{taxii.base_url}/taxii2/api/status/{status.id}/",
        headers={"Authorization": f"Bearer {taxii.token('shopmart')}"},
        timeout=10,
    )
    assert other.status_code == 404


def test_a_federated_peer_reads_only_what_may_cross_federation(taxii: Taxii) -> None:
    server = Server(taxii.discovery_url, auth=taxii.auth("alliance-office", "federation sync:read"))
    [collection] = server.api_roots[0].collections
    assert collection.title == "alliance"
    assert not collection.can_write
    objects = _all_objects(collection, per_request=50)
    white_or_green = {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    }
    for obj in objects:
        if obj["type"] == "indicator":
            assert set(obj["object_marking_refs"]) <= white_or_green
            [ext] = obj["extensions"].values()
            assert ext["distribution"] == "FEDERATION"
    # The member directory stays home: only the instance's own identity.
    assert [o["id"] for o in objects if o["type"] == "identity"] == [taxii.instance.identity_id]
    seen = {o["id"] for o in objects}
    assert taxii.shown["federation"] in seen
    assert taxii.shown["alliance"] not in seen
