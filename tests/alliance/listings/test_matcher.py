"""The matcher over plain data: rules by category and keyword, exceptions, indicators with
visibility, allowlists, seller networks, and entries coming and going without a rebuild."""

from __future__ import annotations

import uuid

import pytest

from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalise import normalise
from alliance.listings.listing import parse_listing
from alliance.listings.matcher import (
    SIGHTS_KEPT,
    AllowlistEntry,
    IndicatorEntry,
    Link,
    Matcher,
    MatchKind,
    RuleEntry,
    Verdict,
)
from alliance.orgs.models import MembershipRole
from alliance.rules.definition import parse_definition
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, Visibility
from alliance.taxonomy.tree import CategoryTree, packaged_taxonomy_lines, parse_taxonomy

MOTOR_VEHICLE_PARTS = 899
SEATING = 8238
GROUP_A = uuid.uuid4()
BRAND = uuid.uuid4()
PLATFORM = uuid.uuid4()
OUTSIDER = uuid.uuid4()
EVERYONE = Visibility(BRAND, GROUP_A, Distribution.ALLIANCE, TLP.GREEN)
GROUP_ONLY = Visibility(BRAND, GROUP_A, Distribution.WORKING_GROUP, TLP.AMBER)
INSIDER = Viewer.member(PLATFORM, [(GROUP_A, MembershipRole.MEMBER)])
STRANGER = Viewer.member(OUTSIDER)

AIRBAG = parse_definition(
    {
        "name": "Airbag components",
        "decision": "PROHIBIT",
        "rationale": "SAFETY",
        "category_ids": [MOTOR_VEHICLE_PARTS],
        "keywords": {"any_of": ["airbag", "air bag", "srs module"]},
    }
)
SEATS = parse_definition(
    {
        "name": "Child seats",
        "decision": "RESTRICT",
        "rationale": "SAFETY",
        "category_ids": [SEATING],
        "exceptions": {
            "authorised_sellers": [
                {"platform": "ebay", "seller_id": "acme-official", "name": "ACME official"}
            ]
        },
    }
)


@pytest.fixture(scope="module")
def tree() -> CategoryTree:
    return CategoryTree.from_categories(parse_taxonomy(packaged_taxonomy_lines()))


@pytest.fixture
def matcher(tree: CategoryTree) -> Matcher:
    m = Matcher()
    m.set_tree(tree)
    m.set_platform_map("ebay", {"SM-CAR-SRS": 8233, "SM-SEATS": SEATING})
    m.put_rule(RuleEntry.of(uuid.uuid4(), 1, AIRBAG, EVERYONE))
    m.put_rule(RuleEntry.of(uuid.uuid4(), 1, SEATS, EVERYONE))
    return m


def listing(**fields: object):  # type: ignore[no-untyped-def]
    return parse_listing({"platform": "ebay", **fields})


def indicator(type_: IndicatorType, raw: str, visibility: Visibility, score: float = 90.0, **kw):  # type: ignore[no-untyped-def]
    canonical = normalise(type_, raw, **kw)
    return IndicatorEntry(
        uuid.uuid4(), uuid.uuid4(), type_, canonical.value, visibility, score, canonical.match_keys
    )


def test_misspelt_airbag_in_a_mapped_platform_category_is_blocked(matcher: Matcher) -> None:
    result = matcher.check(
        INSIDER, listing(title="New A1RBAG module for Golf", platformCategoryId="SM-CAR-SRS")
    )
    assert result.verdict == Verdict.BLOCK
    (rule,) = [m for m in result.matches if m.kind == MatchKind.RULE]
    assert "Airbag components" in rule.reason
    assert "'A1RBAG'" in rule.reason
    assert rule.field == "platformCategoryId"
    assert rule.text == "SM-CAR-SRS"


def test_outside_the_category_the_rule_does_not_apply(matcher: Matcher) -> None:
    result = matcher.check(INSIDER, listing(title="airbag jacket", categoryId=5322))
    assert result.verdict == Verdict.ALLOW
    assert result.matches == ()


def test_keywords_without_a_known_category_go_to_review(matcher: Matcher) -> None:
    result = matcher.check(INSIDER, listing(title="aіrbag for sale"))  # Cyrillic і
    assert result.verdict == Verdict.REVIEW
    assert "category unknown" in result.matches[0].reason


def test_an_authorised_seller_is_allowed_with_the_exception_named(matcher: Matcher) -> None:
    ok = matcher.check(
        INSIDER,
        listing(title="Child seat", platformCategoryId="SM-SEATS", sellerId="acme-official"),
    )
    assert ok.verdict == Verdict.ALLOW
    assert ok.matches[0].exception == "authorised seller ACME official"
    other = matcher.check(
        INSIDER, listing(title="Child seat", platformCategoryId="SM-SEATS", sellerId="someone")
    )
    assert other.verdict == Verdict.BLOCK


def test_an_indicator_visible_only_to_a_group_never_reaches_an_outsider(matcher: Matcher) -> None:
    matcher.put_indicator(indicator(IndicatorType.PHONE, "+86 138 0013 8000", GROUP_ONLY))
    item = listing(title="brake pads", phone="+8613800138000")
    inside = matcher.check(INSIDER, item)
    outside = matcher.check(STRANGER, item)
    assert inside.verdict == Verdict.BLOCK
    assert inside.score > 0
    assert (outside.verdict, outside.score, outside.matches) == (Verdict.ALLOW, 0.0, ())


def test_visibility_decisions_kept_between_checks_never_pass_between_viewers(
    matcher: Matcher,
) -> None:
    """The matcher keeps each viewer's decisions across its checks: whatever order viewers
    come in, and however many (past the number kept), each gets its own answer."""
    matcher.put_indicator(indicator(IndicatorType.PHONE, "+86 138 0013 8000", GROUP_ONLY))
    item = listing(title="brake pads", phone="+8613800138000")
    strangers = [Viewer.member(uuid.uuid4()) for _ in range(SIGHTS_KEPT + 10)]
    for round_ in range(2):
        assert matcher.check(INSIDER, item).verdict == Verdict.BLOCK, round_
        for stranger in strangers:
            assert matcher.check(stranger, item).matches == (), round_
        # An equal viewer made anew (as each request makes its own) decides the same.
        again = Viewer.member(PLATFORM, [(GROUP_A, MembershipRole.MEMBER)])
        assert matcher.check(again, item).verdict == Verdict.BLOCK, round_
        assert matcher.check(STRANGER, item).matches == (), round_


def test_keyword_indicators_fold_like_indicators(matcher: Matcher) -> None:
    matcher.put_indicator(indicator(IndicatorType.BRAND_MISSPELLING, "rolexx", EVERYONE, 50))
    result = matcher.check(STRANGER, listing(title="R0LEXX watch"))
    assert result.verdict == Verdict.REVIEW
    assert result.matches[0].field == "title"
    assert result.matches[0].text == "R0LEXX"


def test_image_hashes_match_within_their_radius(matcher: Matcher) -> None:
    stored = "f0f0f0f0f0f0f0f0"
    matcher.put_indicator(indicator(IndicatorType.IMAGE_PHASH, stored, EVERYONE))
    near = "f0f0f0f0f0f0f0ff"  # 4 bits away
    far = "0f0f0f0f0f0f0f0f"
    hit = matcher.check(STRANGER, listing(imagePhashes=[near]))
    assert hit.verdict == Verdict.BLOCK
    assert hit.matches[0].distance == 4
    assert matcher.check(STRANGER, listing(imagePhashes=[far])).matches == ()


def test_a_brand_allowlist_overrides_indicator_hits(matcher: Matcher) -> None:
    matcher.put_indicator(indicator(IndicatorType.PHONE, "+8613800138000", EVERYONE))
    seller = normalise(IndicatorType.SELLER_ACCOUNT, "acme-store", platform="ebay")
    matcher.put_allowlist(
        AllowlistEntry(uuid.uuid4(), seller.type, seller.value, "ACME", "official store", EVERYONE)
    )
    result = matcher.check(STRANGER, listing(sellerId="acme-store", phone="+8613800138000"))
    assert result.verdict == Verdict.ALLOW
    kinds = {m.kind: m for m in result.matches}
    assert kinds[MatchKind.INDICATOR].overridden
    assert "official store" in kinds[MatchKind.ALLOWLIST].reason


def test_a_seller_network_is_explained_when_both_ends_are_visible(matcher: Matcher) -> None:
    phone = indicator(IndicatorType.PHONE, "+8613800138000", EVERYONE, score=10)
    seller = indicator(IndicatorType.SELLER_ACCOUNT, "fake-king", GROUP_ONLY, platform="ebay")
    matcher.put_indicator(phone)
    matcher.put_indicator(seller)
    matcher.set_links(phone.id, [Link(seller.id, "SUBMITTED_TOGETHER")])
    matcher.set_links(seller.id, [Link(phone.id, "SUBMITTED_TOGETHER")])
    item = listing(phone="+8613800138000")
    inside = matcher.check(INSIDER, item)
    assert inside.verdict == Verdict.REVIEW
    assert "fake-king" in inside.matches[0].reason
    outside = matcher.check(STRANGER, item)
    assert outside.verdict == Verdict.ALLOW
    assert all("fake-king" not in m.reason for m in outside.matches)


def test_dropped_entries_stop_matching_at_once(matcher: Matcher) -> None:
    entry = indicator(IndicatorType.EMAIL, "fakes@example.com", EVERYONE)
    matcher.put_indicator(entry)
    item = listing(email="Fakes@Example.com")
    assert matcher.check(STRANGER, item).verdict == Verdict.BLOCK
    matcher.drop_indicator(entry.id)
    assert matcher.check(STRANGER, item).matches == ()
    rule_id = next(iter(matcher.rules))
    matcher.drop_rule(rule_id)
    assert rule_id not in matcher.rules


def test_rule_visibility_is_the_policys(tree: CategoryTree) -> None:
    m = Matcher()
    m.set_tree(tree)
    m.put_rule(RuleEntry.of(uuid.uuid4(), 1, AIRBAG, GROUP_ONLY))
    item = listing(title="airbag", categoryId=MOTOR_VEHICLE_PARTS)
    assert m.check(INSIDER, item).verdict == Verdict.BLOCK
    assert m.check(STRANGER, item).matches == ()


def test_a_bulk_load_matches_as_entries_added_one_by_one(tree: CategoryTree) -> None:
    entries = [
        indicator(IndicatorType.PHONE, "+8613800138000", EVERYONE),
        indicator(IndicatorType.BRAND_MISSPELLING, "rolexx", EVERYONE),
        indicator(IndicatorType.IMAGE_PHASH, "f0f0f0f0f0f0f0f0", EVERYONE),
        indicator(IndicatorType.SERIAL_PATTERN, "AB[0-9]{6}", EVERYONE),
    ]
    one_by_one, bulk = Matcher(), Matcher()
    for entry in entries:
        one_by_one.put_indicator(entry)
    bulk.load_indicators(entries)
    item = listing(
        title="rolexx",
        phone="+8613800138000",
        imagePhashes=["f0f0f0f0f0f0f0f1"],
        serials=["AB123456"],
    )
    first, second = one_by_one.check(STRANGER, item), bulk.check(STRANGER, item)
    assert first == second
    assert len(first.matches) == 4
    bulk.drop_indicator(entries[0].id)
    assert len(bulk.check(STRANGER, item).matches) == 3


def test_a_batch_check_answers_as_one_check_at_a_time(matcher: Matcher) -> None:
    """``check_many`` searches the batch's image hashes together: every answer is the one
    ``check`` gives, for every viewer, allowlists and group-only indicators included."""
    spread = [f"{n * 0x9E3779B97F4A7C15 % 2**64:016x}" for n in range(1, 41)]
    for n, value in enumerate(spread):
        visibility = EVERYONE if n % 2 else GROUP_ONLY
        matcher.put_indicator(indicator(IndicatorType.IMAGE_PHASH, value, visibility, score=30 + n))
    matcher.put_indicator(indicator(IndicatorType.PHONE, "+8613800138000", GROUP_ONLY))
    official = normalise(IndicatorType.IMAGE_PHASH, spread[5])
    matcher.put_allowlist(
        AllowlistEntry(uuid.uuid4(), official.type, official.value, "ACME", "packshot", EVERYONE)
    )
    matcher.compact()  # the indicators padded into buckets, as a loaded matcher has them
    matcher.put_indicator(indicator(IndicatorType.IMAGE_PHASH, "a5" * 8, GROUP_ONLY))  # overflow
    near_group_only = f"{int(spread[0], 16) ^ 0b101:016x}"  # 2 bits from a group-only hash
    items = [
        listing(imagePhashes=[near_group_only, spread[1]]),
        listing(imagePhashes=[spread[5]]),  # allowlisted
        listing(imagePhashes=["A5A5A5A5A5A5A5A4"], phone="+8613800138000"),  # overflow, case
        listing(imagePhashes=["not a hash"]),
        listing(imagePhashes=[near_group_only], title="airbag", categoryId=MOTOR_VEHICLE_PARTS),
        listing(title="nothing to see"),
        listing(imagePdqs=["ab" * 32]),
    ]
    for viewer in (INSIDER, STRANGER):
        one_at_a_time = [matcher.check(viewer, item) for item in items]
        assert matcher.check_many(viewer, items) == one_at_a_time
    inside, outside = (
        matcher.check_many(INSIDER, items[:3]),
        matcher.check_many(STRANGER, items[:3]),
    )
    assert sorted(m.distance for m in inside[0].matches) == [0, 2]
    assert [m.distance for m in outside[0].matches] == [0]
    assert inside[1].verdict == Verdict.ALLOW
    assert {m.field for m in inside[2].matches} == {"imagePhashes", "phone"}
    assert outside[2].matches == ()
    assert matcher.check_many(INSIDER, []) == []
