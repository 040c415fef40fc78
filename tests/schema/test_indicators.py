"""Indicators over GraphQL: one canonical indicator per value, assertions seen through the
sharing policy, typed errors that write nothing, revocation tombstones."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from alliance.changelog.models import ChangeLogEntry, Operation
from tests.schema.indicator_helpers import (
    INDICATORS,
    LOOKUP,
    REVOKE,
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


async def test_two_organisations_one_value_in_two_forms_one_indicator_two_assertions(
    api, demo
) -> None:
    acme, shopmart = api("acme-motors"), api("shopmart")

    first = await acme.submit(value="https://shopee.cn/shop/123456789")
    second = await shopmart.submit(
        value=" 123456789 ", parts=[{"name": "platform", "value": "Shopee"}], confidence=90
    )

    assert first["indicator"]["id"] == second["indicator"]["id"]
    assert first["indicator"]["value"] == "shopee:123456789"
    assert first["assertion"]["id"] != second["assertion"]["id"]
    assert first["created"] is True
    assert second["created"] is True
    listed = (await acme(INDICATORS, first=10))["indicators"]
    assert listed["totalCount"] == 1
    [edge] = listed["edges"]
    node = edge["node"]
    assert node["organisationsAsserting"] == 2
    assert node["confidence"] == 90
    assert node["assertions"]["totalCount"] == 2
    assert {e["node"]["organisation"]["slug"] for e in node["assertions"]["edges"]} == {
        "acme-motors",
        "shopmart",
    }


async def test_resubmitting_updates_the_organisations_own_assertion(api, session) -> None:
    acme = api("acme-motors")
    first = await acme.submit(confidence=40)
    again = await acme.submit(value="shopee:123456789", confidence=80)

    assert again["created"] is False
    assert again["assertion"]["id"] == first["assertion"]["id"]
    assert again["assertion"]["confidence"] == 80
    assert again["assertion"]["version"] == 2
    rows = list(
        await session.scalars(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.kind == "indicator.assertion")
            .order_by(ChangeLogEntry.seq)
        )
    )
    assert [(r.operation, r.version) for r in rows] == [
        (Operation.CREATE, 1),
        (Operation.UPDATE, 2),
    ]


async def test_a_working_group_assertion_is_seen_by_the_group_only(api, demo) -> None:
    acme = api("acme-motors")
    await acme.submit(
        value="+86 138 0013 8000",
        type="PHONE",
        distribution="WORKING_GROUP",
        workingGroupId=group_id(demo, "automotive-parts"),
        tlp="AMBER",
    )
    await acme.submit(type="DOMAIN", value="fake-acme-parts.com", distribution="ORGANISATION")

    seen = {
        slug: (await api(slug)(INDICATORS, first=10))["indicators"]
        for slug in ("acme-motors", "city-police", "luxe-house")
    }

    assert seen["acme-motors"]["totalCount"] == 2
    assert [e["node"]["value"] for e in seen["city-police"]["edges"]] == ["+8613800138000"]
    assert seen["city-police"]["totalCount"] == 1
    assert seen["luxe-house"]["totalCount"] == 0
    assert seen["luxe-house"]["edges"] == []
    lookup = await api("luxe-house")(LOOKUP, type="PHONE", value="+8613800138000")
    assert lookup["lookupIndicator"] is None


async def test_aggregates_count_visible_assertions_only(api, demo) -> None:
    await api("acme-motors").submit(
        confidence=95,
        distribution="WORKING_GROUP",
        workingGroupId=group_id(demo, "automotive-parts"),
    )
    await api("shopmart").submit(confidence=30)

    luxe = (await api("luxe-house")(LOOKUP, type="SELLER_ACCOUNT", value="shopee:123456789"))[
        "lookupIndicator"
    ]
    police = (await api("city-police")(LOOKUP, type="SELLER_ACCOUNT", value="shopee:123456789"))[
        "lookupIndicator"
    ]

    assert (luxe["organisationsAsserting"], luxe["confidence"]) == (1, 30)
    assert luxe["assertions"]["totalCount"] == 1
    assert (police["organisationsAsserting"], police["confidence"]) == (2, 95)


async def test_lookup_normalises_before_it_finds(api) -> None:
    await api("acme-motors").submit(type="EMAIL", value="Seller.Fake+promo@Example.COM")

    found = await api("shopmart")(LOOKUP, type="EMAIL", value="seller.fake+promo@example.com")

    assert found["lookupIndicator"]["type"] == "EMAIL"


async def test_lookup_of_an_invalid_value_is_a_field_error(api) -> None:
    result = await api("acme-motors").gql(
        LOOKUP, {"type": "PHONE", "value": "not a phone"}, token=api("acme-motors").token
    )

    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [f["path"] for f in error["extensions"]["fields"]] == [["value"]]


# --- refusals write nothing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"value": "https://"}, [(["input", "value"], "INVALID_URL")], id="bad-value"),
        pytest.param(
            {"type": "PHONE", "value": "12", "country": "CN"},
            [(["input", "value"], "INVALID_PHONE")],
            id="phone",
        ),
        pytest.param(
            {"parts": [{"name": "colour", "value": "red"}]},
            [(["input", "parts", "colour"], "UNEXPECTED_FIELD")],
            id="unknown-part",
        ),
        pytest.param(
            {"confidence": 101, "distribution": "WORKING_GROUP"},
            [(["input", "workingGroupId"], "REQUIRED"), (["input", "confidence"], "OUT_OF_RANGE")],
            id="every-problem-at-once",
        ),
        pytest.param(
            {"evidenceLinks": ["ftp://x"]},
            [(["input", "evidenceLinks", "0"], "INVALID_URL")],
            id="evidence-link",
        ),
        pytest.param(
            {"workingGroupId": "nonsense"},
            [(["input", "workingGroupId"], "INVALID_ID")],
            id="bad-group-id",
        ),
    ],
)
async def test_invalid_submissions_are_field_errors_and_write_nothing(
    api, session, overrides, expected
) -> None:
    acme = api("acme-motors")
    before = await row_counts(session)

    outcome = await acme.mutate(SUBMIT, "submitIndicator", shop(**overrides))

    assert outcome["__typename"] == "ValidationError", outcome
    assert sorted(field_codes(outcome)) == sorted(expected)
    assert all(f["message"] for f in outcome["fields"])
    assert await row_counts(session) == before


async def test_observers_cannot_submit_in_their_group(api, demo, session) -> None:
    office = api("alliance-office")
    before = await row_counts(session)

    outcome = await office.mutate(
        SUBMIT,
        "submitIndicator",
        shop(distribution="WORKING_GROUP", workingGroupId=group_id(demo, "automotive-parts")),
    )

    assert outcome["__typename"] == "Forbidden"
    assert await row_counts(session) == before


async def test_reading_scope_alone_cannot_submit(api, session) -> None:
    reader = api("acme-motors", "indicators:read")
    before = await row_counts(session)

    outcome = await reader.mutate(SUBMIT, "submitIndicator", shop())

    assert outcome["__typename"] == "Forbidden"
    assert await row_counts(session) == before


async def test_listing_needs_the_read_scope(gql, issue_token, demo) -> None:
    token = issue_token(demo["orgs"]["acme-motors"], "guides:read")

    result = await gql(INDICATORS, {"first": 5}, token=token)

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# --- batches ------------------------------------------------------------------------------------


async def test_a_batch_has_a_result_per_item_and_writes_the_good_ones(api, session) -> None:
    acme = api("acme-motors")
    items = [
        shop(),
        shop(type="PHONE", value="12", country="CN"),
        shop(type="DOMAIN", value="acme-fakes.shop"),
        shop(value="shopee:123456789"),
    ]

    outcome = await acme.mutate(SUBMIT_MANY, "submitIndicators", {"items": items})

    assert (outcome["accepted"], outcome["refused"]) == (3, 1)
    results = outcome["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[1]["error"]["__typename"] == "ValidationError"
    assert field_codes(results[1]["error"]) == [(["input", "items", "1", "value"], "INVALID_PHONE")]
    # The same value twice in one batch is one assertion.
    assert results[0]["assertion"]["id"] == results[3]["assertion"]["id"]
    counts = await row_counts(session)
    assert counts["indicators"] == 2
    assert counts["indicator_assertions"] == 2


async def test_a_batch_sent_again_under_its_key_is_not_written_twice(api, session) -> None:
    acme = api("acme-motors")
    batch = {
        "items": [shop(), shop(type="DOMAIN", value="acme-fakes.shop")],
        "idempotencyKey": "b-1",
    }

    first = await acme.mutate(SUBMIT_MANY, "submitIndicators", batch)
    after_first = await row_counts(session)
    again = await acme.mutate(SUBMIT_MANY, "submitIndicators", batch)

    assert again == first
    assert await row_counts(session) == after_first
    other = await acme.mutate(
        SUBMIT_MANY, "submitIndicators", {**batch, "items": [shop(confidence=10)]}
    )
    assert other["__typename"] == "Conflict"
    assert await row_counts(session) == after_first


async def test_a_batch_over_the_limit_is_refused(api, session) -> None:
    acme = api("acme-motors")
    before = await row_counts(session)

    outcome = await acme.mutate(
        SUBMIT_MANY, "submitIndicators", {"items": [shop(confidence=i % 100) for i in range(1001)]}
    )

    assert outcome["__typename"] == "ValidationError"
    assert field_codes(outcome) == [(["input", "items"], "TOO_MANY")]
    assert await row_counts(session) == before


# --- revocation -------------------------------------------------------------------------------


async def test_revocation_leaves_a_tombstone_with_its_reason(api, session) -> None:
    acme = api("acme-motors")
    submitted = await acme.submit()
    assertion_id = submitted["assertion"]["id"]

    outcome = await acme.mutate(
        REVOKE,
        "revokeAssertion",
        {"assertionId": assertion_id, "reason": "TAKEN_DOWN", "note": "shop closed by Shopee"},
    )

    assert outcome["assertion"]["status"] == "REVOKED"
    assert outcome["assertion"]["revocationReason"] == "TAKEN_DOWN"
    assert outcome["assertion"]["revocationNote"] == "shop closed by Shopee"
    last = await session.scalar(select(ChangeLogEntry).order_by(ChangeLogEntry.seq.desc()).limit(1))
    assert (last.kind, last.operation, last.version) == ("indicator.assertion", Operation.REVOKE, 2)
    assert last.reason == "TAKEN_DOWN"  # the tombstone says why
    # Still there, and still listed: a revoked indicator is shown as such, not hidden.
    listed = (await acme(INDICATORS, first=5))["indicators"]["edges"]
    assert [e["node"]["status"] for e in listed] == ["REVOKED"]
    again = await acme.mutate(
        REVOKE, "revokeAssertion", {"assertionId": assertion_id, "reason": "TAKEN_DOWN"}
    )
    assert again["__typename"] == "Conflict"


async def test_only_the_owner_revokes_and_the_invisible_is_not_found(api, session, demo) -> None:
    submitted = await api("acme-motors").submit(
        distribution="WORKING_GROUP", workingGroupId=group_id(demo, "automotive-parts")
    )
    assertion_id = submitted["assertion"]["id"]
    before = await row_counts(session)

    by_member = await api("shopmart").mutate(
        REVOKE, "revokeAssertion", {"assertionId": assertion_id, "reason": "FALSE_POSITIVE"}
    )
    by_outsider = await api("luxe-house").mutate(
        REVOKE, "revokeAssertion", {"assertionId": assertion_id, "reason": "FALSE_POSITIVE"}
    )

    assert by_member["__typename"] == "Forbidden"
    assert by_outsider["__typename"] == "NotFound"
    assert await row_counts(session) == before


# --- lists ---------------------------------------------------------------------------------------


async def test_filters_and_pages(api, demo) -> None:
    acme = api("acme-motors")
    await acme.submit(brands=["Acme"], tlp="AMBER")
    await acme.submit(type="DOMAIN", value="acme-fakes.shop", brands=["Other"])
    await acme.submit(type="KEYWORD", value="acme brake pads cheap", brands=["acme"])

    async def values(filter: dict[str, Any], **kw: Any) -> list[str]:
        data = (await acme(INDICATORS, filter=filter, first=10, **kw))["indicators"]
        return [e["node"]["value"] for e in data["edges"]]

    assert len(await values({})) == 3
    assert await values({"types": ["DOMAIN"]}) == ["acme-fakes.shop"]
    assert sorted(await values({"brands": ["ACME"]})) == sorted(
        ["shopee:123456789", "acme brake pads cheap"]
    )
    assert await values({"tlp": ["AMBER"]}) == ["shopee:123456789"]
    assert await values({"status": ["REVOKED"]}) == []
    assert await values({"minScore": 101}) == []
    assert await values({}, orderBy="OLDEST_FIRST") == [
        "shopee:123456789",
        "acme-fakes.shop",
        "acme brake pads cheap",
    ]
    first_page = (await acme(INDICATORS, first=2, orderBy="OLDEST_FIRST"))["indicators"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    rest = (
        await acme(
            INDICATORS, first=2, after=first_page["pageInfo"]["endCursor"], orderBy="OLDEST_FIRST"
        )
    )["indicators"]
    assert [e["node"]["value"] for e in rest["edges"]] == ["acme brake pads cheap"]
    assert rest["totalCount"] == 3


async def test_filter_by_working_group_and_creation(api, demo) -> None:
    acme = api("acme-motors")
    await acme.submit(
        distribution="WORKING_GROUP", workingGroupId=group_id(demo, "automotive-parts")
    )
    await acme.submit(type="DOMAIN", value="acme-fakes.shop")

    in_group = (
        await acme(
            INDICATORS, filter={"workingGroupIds": [group_id(demo, "automotive-parts")]}, first=5
        )
    )["indicators"]
    later = (await acme(INDICATORS, filter={"createdAfter": "2999-01-01T00:00:00Z"}, first=5))[
        "indicators"
    ]

    assert [e["node"]["value"] for e in in_group["edges"]] == ["shopee:123456789"]
    assert later["totalCount"] == 0


NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename
    ... on Indicator { value }
    ... on IndicatorAssertion { confidence indicator { value } }
  }
}
"""


async def test_node_resolves_indicators_and_assertions_when_visible(api) -> None:
    submitted = await api("acme-motors").submit(distribution="ORGANISATION")
    indicator_id, assertion_id = submitted["indicator"]["id"], submitted["assertion"]["id"]

    mine = await api("acme-motors")(NODE, id=indicator_id)
    assertion = await api("acme-motors")(NODE, id=assertion_id)
    theirs = await api("shopmart")(NODE, id=indicator_id)

    assert mine["node"] == {"__typename": "Indicator", "value": "shopee:123456789"}
    assert assertion["node"]["indicator"]["value"] == "shopee:123456789"
    assert theirs["node"] is None


async def test_narrowing_an_assertion_logs_its_previous_visibility(api, demo, session) -> None:
    acme = api("acme-motors")
    await acme.submit(distribution="ALLIANCE")
    await acme.submit(
        distribution="WORKING_GROUP", workingGroupId=group_id(demo, "automotive-parts")
    )

    # A new group is a new assertion; narrowing the same one keeps one row per write.
    await acme.submit(distribution="ORGANISATION")
    last = await session.scalar(select(ChangeLogEntry).order_by(ChangeLogEntry.seq.desc()).limit(1))
    assert (last.operation, last.distribution) == (Operation.UPDATE, "ORGANISATION")
    assert last.prev_distribution == "ALLIANCE"


async def test_a_batch_refuses_items_in_groups_the_caller_only_observes(api, demo) -> None:
    police = api("city-police")

    outcome = await police.mutate(
        SUBMIT_MANY,
        "submitIndicators",
        {
            "items": [
                shop(
                    distribution="WORKING_GROUP",
                    workingGroupId=group_id(demo, "consumer-electronics"),
                ),
                shop(
                    distribution="WORKING_GROUP", workingGroupId=group_id(demo, "automotive-parts")
                ),
            ]
        },
    )

    assert (outcome["accepted"], outcome["refused"]) == (1, 1)
    assert outcome["results"][0]["error"]["__typename"] == "Forbidden"


async def test_a_value_submitted_already_past_valid_until_is_expired(api) -> None:
    submitted = await api("acme-motors").submit(
        validFrom="2020-01-01T00:00:00Z", validUntil="2020-02-01T00:00:00Z"
    )

    assert submitted["assertion"]["status"] == "EXPIRED"
    assert submitted["indicator"]["status"] == "EXPIRED"
    assert submitted["indicator"]["score"] == 0
