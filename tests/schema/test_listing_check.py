"""checkListing, checkListings and POST /v1/listings/check over the demo alliance.

The app's matcher is built at start and follows the change log; here the test applies the
log itself (``poll_once``), since the test's one connection cannot be polled beside requests.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from alliance.db import unit_of_work
from alliance.demo import seed
from alliance.indicators import service as indicators
from alliance.indicators.models import RevocationReason
from alliance.listings.demo import catalogue_text

MATCH = "kind id field text distance reason outcome score exception links overridden"
CHECK = f"""
query ($listing: ListingInput!) {{
  checkListing(listing: $listing) {{ ref verdict score matches {{ {MATCH} }} }}
}}
"""
CHECK_MANY = f"""
query ($listings: [ListingInput!]!) {{
  checkListings(listings: $listings) {{ ref verdict score matches {{ {MATCH} }} }}
}}
"""


def catalogue() -> dict[str, dict[str, Any]]:
    return {item["ref"]: item for item in map(json.loads, catalogue_text().splitlines())}


async def refresh(app: Any) -> None:
    while await app.state.listing_matcher.poll_once():
        pass


@pytest.fixture
async def world(app: Any, demo: dict[str, Any], issue_token: Any, sessions: Any) -> dict[str, Any]:
    async with unit_of_work(sessions) as session:
        await seed(session, with_indicators=True)
    await refresh(app)
    orgs = demo["orgs"]
    return {
        "shopmart": issue_token(orgs["shopmart"], "listings:check"),
        "volt": issue_token(orgs["volt-electronics"], "listings:check"),
        "luxe": issue_token(orgs["luxe-house"], "listings:check"),
        "no_scope": issue_token(orgs["shopmart"], "rules:read"),
        "orgs": orgs,
        "groups": demo["groups"],
    }


async def check(gql: Any, token: str, listing: dict[str, Any]) -> dict[str, Any]:
    answer = await gql(CHECK, {"listing": listing}, token)
    assert "errors" not in answer, answer
    return answer["data"]["checkListing"]  # type: ignore[no-any-return]


async def test_a_misspelt_airbag_in_a_mapped_category_is_blocked(gql: Any, world: Any) -> None:
    result = await check(gql, world["volt"], catalogue()["L-1"])
    assert result["verdict"] == "BLOCK"
    (rule,) = result["matches"]
    assert rule["kind"] == "RULE"
    assert rule["field"] == "platformCategoryId"
    assert "A1RBAG" in rule["reason"]


async def test_an_authorised_seller_is_allowed_with_the_exception_named(
    gql: Any, world: Any
) -> None:
    allowed = await check(gql, world["shopmart"], catalogue()["L-2"])
    assert allowed["verdict"] == "ALLOW"
    assert allowed["matches"][0]["exception"] == "authorised seller ACME Kids"
    blocked = await check(gql, world["shopmart"], catalogue()["L-3"])
    assert blocked["verdict"] == "BLOCK"


async def test_a_seller_network_is_explained_to_those_who_see_it(gql: Any, world: Any) -> None:
    listing = catalogue()["L-4"]
    inside = await check(gql, world["shopmart"], listing)  # seated in automotive-parts
    assert inside["verdict"] in ("REVIEW", "BLOCK")
    (hit,) = inside["matches"]
    assert hit["kind"] == "INDICATOR"
    assert hit["field"] == "phone"
    assert any("seller account" in link for link in hit["links"])


async def test_a_group_only_indicator_never_reaches_a_caller_outside_the_group(
    gql: Any, world: Any
) -> None:
    listing = catalogue()["L-4"]
    outside = await check(gql, world["volt"], listing)  # not in automotive-parts
    assert outside == {"ref": "L-4", "verdict": "ALLOW", "score": 0.0, "matches": []}
    inside = await check(gql, world["shopmart"], listing)
    text = json.dumps(outside)
    for match in inside["matches"]:
        assert match["id"] not in text


async def test_a_brand_allowlist_overrides_indicator_hits(gql: Any, world: Any) -> None:
    official = await check(gql, world["luxe"], catalogue()["L-5"])
    kinds = {m["kind"]: m for m in official["matches"]}
    assert official["verdict"] == "ALLOW"
    assert kinds["INDICATOR"]["overridden"]
    assert "official web store" in kinds["ALLOWLIST"]["reason"]
    copycat = await check(gql, world["luxe"], catalogue()["L-6"])
    assert copycat["matches"][0]["distance"] == 1
    assert copycat["verdict"] != "ALLOW"


async def test_check_listings_answers_in_order_and_caps_the_batch(gql: Any, world: Any) -> None:
    items = list(catalogue().values())
    answer = await gql(CHECK_MANY, {"listings": items}, world["shopmart"])
    refs = [r["ref"] for r in answer["data"]["checkListings"]]
    assert refs == [i["ref"] for i in items]
    too_many = await gql(CHECK_MANY, {"listings": [{"title": "x"}] * 1001}, world["shopmart"])
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_bad_listings_and_missing_scopes_are_refused(gql: Any, world: Any) -> None:
    bad = await gql(CHECK, {"listing": {"country": "XX", "price": "-1"}}, world["shopmart"])
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    refused = await gql(CHECK, {"listing": {"title": "x"}}, world["no_scope"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_new_and_revoked_indicators_follow_the_change_log(
    app: Any, gql: Any, world: Any, sessions: Any
) -> None:
    listing = {"title": "charger", "email": "copies@fakes.example"}
    assert (await check(gql, world["volt"], listing))["verdict"] == "ALLOW"
    volt = world["orgs"]["volt-electronics"]
    async with unit_of_work(sessions) as session:
        viewer = await indicators.viewer_of_organisation(session, volt.id)
        (result,) = await indicators.submit(
            session,
            viewer,
            [
                indicators.Submission(
                    type="email",
                    value="copies@fakes.example",
                    working_group_id=world["groups"]["consumer-electronics"].id,
                    confidence=95,
                )
            ],
        )
    assert result.assertion is not None
    await refresh(app)
    assert (await check(gql, world["volt"], listing))["verdict"] == "BLOCK"
    async with unit_of_work(sessions) as session:
        viewer = await indicators.viewer_of_organisation(session, volt.id)
        await indicators.revoke(
            session, viewer, result.assertion.id, reason=RevocationReason.FALSE_POSITIVE
        )
    await refresh(app)
    assert (await check(gql, world["volt"], listing))["verdict"] == "ALLOW"


async def test_the_ndjson_endpoint_streams_one_answer_a_line(
    client: httpx.AsyncClient, world: Any
) -> None:
    lines = [json.dumps(item) for item in catalogue().values()]
    body = "\n".join([*lines[:2], "not json", '{"country": "XX"}', *lines[2:]]) + "\n"
    response = await client.post(
        "/v1/listings/check",
        content=body.encode(),
        headers={"Authorization": f"Bearer {world['shopmart']}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    answers = [json.loads(line) for line in response.text.splitlines()]
    assert [a["line"] for a in answers] == list(range(1, len(lines) + 3))
    assert answers[0]["verdict"] == "BLOCK"
    assert answers[2]["error"]["code"] == "INVALID"
    assert answers[3]["error"]["fields"][0]["code"] == "INVALID_COUNTRY"
    refused = await client.post(
        "/v1/listings/check",
        content=b"{}",
        headers={"Authorization": f"Bearer {world['no_scope']}"},
    )
    assert refused.status_code == 403
    anonymous = await client.post("/v1/listings/check", content=b"{}")
    assert anonymous.status_code == 401
