"""Reactions, proposals, allowlists and seller networks over GraphQL."""

from __future__ import annotations

import pytest

from tests.schema.indicator_helpers import (
    ACCEPT,
    ADD_ALLOWLIST,
    LOOKUP,
    NETWORK,
    PROPOSE,
    REACT,
    REJECT,
    REMOVE_ALLOWLIST,
    SUBMIT,
    SUBMIT_MANY,
    Api,
    field_codes,
    group_id,
    row_counts,
    shop,
)


@pytest.fixture
def api(gql, issue_token, demo):
    def as_org(slug: str, scopes: str = "indicators:read indicators:write") -> Api:
        return Api(gql, issue_token, demo["orgs"][slug], scopes)

    return as_org


async def test_reactions_move_the_score_and_show_on_the_assertion(api) -> None:
    submitted = await api("acme-motors").submit(confidence=50)
    assertion_id = submitted["assertion"]["id"]

    bought = await api("shopmart").mutate(
        REACT,
        "react",
        {
            "assertionId": assertion_id,
            "kind": "CONFIRMED_BY_TEST_BUY",
            "orderNumber": "SO-2026-001",
            "occurredAt": "2026-11-30T10:00:00Z",
            "platform": "shopee",
            "verdict": "COUNTERFEIT",
            "evidenceUrl": "https://evidence.example/so-2026-001.pdf",
        },
    )

    assert bought["__typename"] == "ReactPayload", bought
    assert bought["reaction"]["organisation"]["slug"] == "shopmart"
    assert bought["assertion"]["score"] > submitted["assertion"]["score"]
    found = (await api("city-police")(LOOKUP, type="SELLER_ACCOUNT", value="shopee:123456789"))[
        "lookupIndicator"
    ]
    assert found["score"] > submitted["indicator"]["score"]
    [edge] = found["assertions"]["edges"]
    assert edge["node"]["reactions"]["totalCount"] == 1
    assert edge["node"]["reactions"]["edges"][0]["node"]["kind"] == "CONFIRMED_BY_TEST_BUY"


async def test_a_bad_reaction_is_a_field_error_and_writes_nothing(api, session) -> None:
    submitted = await api("acme-motors").submit()
    before = await row_counts(session)

    outcome = await api("shopmart").mutate(
        REACT, "react", {"assertionId": submitted["assertion"]["id"], "kind": "DISPUTED"}
    )

    assert outcome["__typename"] == "ValidationError"
    assert field_codes(outcome) == [(["input", "reason"], "REQUIRED")]
    assert await row_counts(session) == before


async def test_proposal_accepted_and_rejected_travel_to_both_sides(api) -> None:
    acme, shopmart = api("acme-motors"), api("shopmart")
    submitted = await acme.submit(confidence=40)
    assertion_id = submitted["assertion"]["id"]

    first = await shopmart.mutate(
        PROPOSE,
        "proposeCorrection",
        {"assertionId": assertion_id, "changes": {"confidence": 90}, "reason": "test bought"},
    )
    second = await shopmart.mutate(
        PROPOSE,
        "proposeCorrection",
        {"assertionId": assertion_id, "changes": {"severity": "LOW"}, "reason": "minor"},
    )
    not_yours = await shopmart.mutate(
        ACCEPT, "acceptProposal", {"proposalId": first["proposal"]["id"]}
    )
    accepted = await acme.mutate(ACCEPT, "acceptProposal", {"proposalId": first["proposal"]["id"]})
    rejected = await acme.mutate(
        REJECT,
        "rejectProposal",
        {"proposalId": second["proposal"]["id"], "reason": "the fakes are airbags"},
    )

    assert first["proposal"]["state"] == "PENDING"
    assert first["proposal"]["changes"] == {"confidence": 90}
    assert not_yours["__typename"] == "Forbidden"
    assert accepted["proposal"]["state"] == "ACCEPTED"
    assert rejected["proposal"]["state"] == "REJECTED"
    assert rejected["proposal"]["decisionReason"] == "the fakes are airbags"
    seen_by_proposer = (await shopmart(LOOKUP, type="SELLER_ACCOUNT", value="shopee:123456789"))[
        "lookupIndicator"
    ]
    [edge] = seen_by_proposer["assertions"]["edges"]
    assert edge["node"]["confidence"] == 90
    assert [p["node"]["state"] for p in edge["node"]["proposals"]["edges"]] == [
        "ACCEPTED",
        "REJECTED",
    ]


async def test_an_allowlisted_store_is_refused_by_name(api, session) -> None:
    luxe = api("luxe-house")
    added = await luxe.mutate(
        ADD_ALLOWLIST,
        "addAllowlistEntry",
        {
            "kind": "OFFICIAL_STORE",
            "type": "STOREFRONT_URL",
            "value": "https://www.luxe-house.example/store",
            "brand": "Luxe House",
            "label": "Luxe House web store",
        },
    )
    assert added["__typename"] == "AllowlistEntryPayload", added
    before = await row_counts(session)

    refused = await api("shopmart").mutate(
        SUBMIT,
        "submitIndicator",
        shop(type="STOREFRONT_URL", value="HTTPS://WWW.LUXE-HOUSE.EXAMPLE/store?utm_source=ad"),
    )
    batch = await api("shopmart").mutate(
        SUBMIT_MANY,
        "submitIndicators",
        {
            "items": [
                shop(),
                shop(type="STOREFRONT_URL", value="https://www.luxe-house.example/store"),
            ]
        },
    )

    assert refused["__typename"] == "ValidationError"
    [problem] = refused["fields"]
    assert (problem["path"], problem["code"]) == (["input", "value"], "ALLOWLISTED")
    assert "Luxe House web store" in problem["message"]
    assert batch["accepted"] == 1
    assert field_codes(batch["results"][1]["error"]) == [
        (["input", "items", "1", "value"], "ALLOWLISTED")
    ]
    assert (await row_counts(session))["indicators"] == before["indicators"] + 1
    removed = await api("shopmart").mutate(
        REMOVE_ALLOWLIST, "removeAllowlistEntry", {"entryId": added["entry"]["id"]}
    )
    assert removed["__typename"] == "Forbidden"
    removed = await luxe.mutate(
        REMOVE_ALLOWLIST, "removeAllowlistEntry", {"entryId": added["entry"]["id"]}
    )
    assert removed["__typename"] == "RemoveAllowlistEntryPayload"


async def test_seller_network_over_the_api(api, demo) -> None:
    acme = api("acme-motors")
    group = {"distribution": "WORKING_GROUP", "workingGroupId": group_id(demo, "automotive-parts")}
    await acme.mutate(
        SUBMIT_MANY,
        "submitIndicators",
        {
            "items": [
                shop(value="shopee:111", groupKey="buy-1", **group),
                shop(type="PHONE", value="+86 138 0013 8000", groupKey="buy-1", **group),
                shop(value="https://shop222.taobao.com", groupKey="buy-2", **group),
                shop(type="PHONE", value="+8613800138000", groupKey="buy-2", **group),
            ]
        },
    )
    start = (await acme(LOOKUP, type="SELLER_ACCOUNT", value="shopee:111"))["lookupIndicator"]

    network = (await api("city-police")(NETWORK, id=start["id"]))["sellerNetwork"]
    outsider = (await api("luxe-house")(NETWORK, id=start["id"]))["sellerNetwork"]

    assert sorted(i["value"] for i in network["indicators"]) == [
        "+8613800138000",
        "shopee:111",
        "taobao:222",
    ]
    assert {(link["groupKey"], link["reason"]) for link in network["links"]} == {
        ("buy-1", "SUBMITTED_TOGETHER"),
        ("buy-2", "SUBMITTED_TOGETHER"),
    }
    assert outsider is None
