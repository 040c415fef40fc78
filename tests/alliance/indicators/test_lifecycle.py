"""Reactions, status, expiry, allowlists, proposals and seller networks, at the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.db import utcnow
from alliance.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance.indicators import service
from alliance.indicators.models import (
    AllowlistKind,
    AssertionStatus,
    ProposalState,
    ReactionKind,
    TestBuyVerdict,
)
from alliance.indicators.service import AllowlistData, Correction, ReactionData
from tests.alliance.indicators.builders import submission, submit_one, viewer


async def changes(session: Any, kind: str) -> list[ChangeLogEntry]:
    from alliance.changelog.service import write_pending_changes

    await write_pending_changes(session)
    return list(
        await session.scalars(
            select(ChangeLogEntry).where(ChangeLogEntry.kind == kind).order_by(ChangeLogEntry.seq)
        )
    )


def a_test_buy(order: str = "SO-1") -> ReactionData:
    return ReactionData(
        kind=ReactionKind.CONFIRMED_BY_TEST_BUY,
        platform="shopee",
        order_number=order,
        occurred_at=utcnow(),
        verdict=TestBuyVerdict.COUNTERFEIT,
        evidence_url="https://evidence.example/so-1.pdf",
    )


# --- reactions and status --------------------------------------------------------------------


async def test_a_test_buy_raises_the_score_and_a_dispute_makes_it_disputed(session, demo) -> None:
    orgs = demo["orgs"]
    submitted = await submit_one(session, orgs["acme-motors"], confidence=60)
    before = submitted.assertion.score

    _, after_buy = await service.react(
        session, await viewer(session, orgs["shopmart"]), submitted.assertion.id, a_test_buy()
    )
    bought = after_buy.score
    assert bought > before
    _, after_dispute = await service.react(
        session,
        await viewer(session, orgs["city-police"]),
        submitted.assertion.id,
        ReactionData(kind=ReactionKind.DISPUTED, reason="an authorised reseller"),
    )
    assert after_dispute.score < bought
    assert after_dispute.status == AssertionStatus.ACTIVE  # one dispute, one test buy
    _, after_second_dispute = await service.react(
        session,
        await viewer(session, orgs["luxe-house"]),
        submitted.assertion.id,
        ReactionData(kind=ReactionKind.FALSE_POSITIVE),
    )

    assert after_second_dispute.status == AssertionStatus.DISPUTED
    rows = await changes(session, "indicator.reaction")
    assert [r.operation for r in rows] == [Operation.CREATE] * 3
    assert {r.owner_org_id for r in rows} == {
        orgs["shopmart"].id,
        orgs["city-police"].id,
        orgs["luxe-house"].id,
    }


async def test_a_reaction_needs_its_kinds_fields_and_may_only_narrow(session, demo) -> None:
    orgs = demo["orgs"]
    submitted = await submit_one(
        session,
        orgs["acme-motors"],
        distribution="WORKING_GROUP",
        working_group_id=demo["groups"]["automotive-parts"].id,
    )
    police = await viewer(session, orgs["city-police"])

    with pytest.raises(InvalidInput) as missing:
        await service.react(
            session,
            police,
            submitted.assertion.id,
            ReactionData(kind=ReactionKind.CONFIRMED_BY_TEST_BUY, platform="shopee"),
        )
    with pytest.raises(InvalidInput) as broader:
        await service.react(
            session,
            police,
            submitted.assertion.id,
            ReactionData(kind=ReactionKind.SEEN_TOO, platform="shopee", distribution="ALLIANCE"),
        )
    with pytest.raises(NotFound):
        await service.react(
            session,
            await viewer(session, orgs["luxe-house"]),
            submitted.assertion.id,
            ReactionData(kind=ReactionKind.SEEN_TOO, platform="shopee"),
        )

    assert sorted((p.path, p.code) for p in missing.value.problems) == [
        (("occurredAt",), "REQUIRED"),
        (("orderNumber",), "REQUIRED"),
        (("verdict",), "REQUIRED"),
    ]
    assert [(p.path, p.code) for p in broader.value.problems] == [
        (("distribution",), "BROADER_THAN_ASSERTION")
    ]


async def test_expiry_marks_what_passed_valid_until_and_logs_it(session, demo) -> None:
    acme = demo["orgs"]["acme-motors"]
    now = utcnow()
    lasting = await submit_one(session, acme, valid_until=now + timedelta(days=30))
    passing = await submit_one(
        session,
        acme,
        type="domain",
        value="soon-gone.shop",
        valid_until=now + timedelta(minutes=5),
    )

    expired = await service.expire_due(session, now=now + timedelta(hours=1))

    assert [a.id for a in expired] == [passing.assertion.id]
    assert passing.assertion.status == AssertionStatus.EXPIRED
    assert lasting.assertion.status == AssertionStatus.ACTIVE
    assert await service.expire_due(session, now=now + timedelta(hours=1)) == []
    last = (await changes(session, "indicator.assertion"))[-1]
    assert (last.object_id, last.operation, last.version) == (
        str(passing.assertion.id),
        Operation.UPDATE,
        2,
    )


# --- allowlists --------------------------------------------------------------------------------


async def test_an_allowlisted_value_is_refused_naming_the_entry_to_who_sees_it(
    session, demo
) -> None:
    orgs, groups = demo["orgs"], demo["groups"]
    entry = await service.add_allowlist_entry(
        session,
        await viewer(session, orgs["luxe-house"]),
        AllowlistData(
            kind=AllowlistKind.OFFICIAL_STORE,
            type="seller_account",
            value="https://shopee.cn/shop/777000",
            brand="Luxe House",
            label="Luxe House official store",
            distribution="WORKING_GROUP",
            working_group_id=groups["luxury-goods"].id,
        ),
    )

    [seen] = await service.submit(
        session,
        await viewer(session, orgs["shopmart"]),
        [submission(value="shopee:777000")],
    )
    [unseen] = await service.submit(
        session,
        await viewer(session, orgs["acme-motors"]),
        [submission(value="777000", parts={"platform": "shopee"})],
    )

    assert isinstance(seen.error, InvalidInput)
    [problem] = seen.error.problems
    assert (problem.path, problem.code) == (("value",), "ALLOWLISTED")
    assert "Luxe House official store" in problem.message
    assert str(entry.id) in problem.message
    [hidden] = unseen.error.problems
    assert hidden.code == "ALLOWLISTED"
    assert "Luxe" not in hidden.message
    assert seen.assertion is None
    assert unseen.assertion is None

    with pytest.raises(Conflict):
        await service.add_allowlist_entry(
            session,
            await viewer(session, orgs["luxe-house"]),
            AllowlistData(
                kind=AllowlistKind.OFFICIAL_STORE,
                type="seller_account",
                value="shopee:777000",
                brand="Luxe House",
                label="again",
            ),
        )
    with pytest.raises(Forbidden):
        await service.remove_allowlist_entry(
            session, await viewer(session, orgs["shopmart"]), entry.id
        )
    await service.remove_allowlist_entry(
        session, await viewer(session, orgs["luxe-house"]), entry.id
    )
    [after] = await service.submit(
        session, await viewer(session, orgs["shopmart"]), [submission(value="shopee:777000")]
    )
    assert after.error is None
    assert [r.operation for r in await changes(session, "indicator.allowlist_entry")] == [
        Operation.CREATE,
        Operation.DELETE,
    ]


# --- proposals ---------------------------------------------------------------------------------


async def test_a_proposal_accepted_changes_the_assertion_and_both_see_the_outcome(
    session, demo
) -> None:
    orgs = demo["orgs"]
    submitted = await submit_one(session, orgs["acme-motors"], confidence=40)
    shopmart, acme = (
        await viewer(session, orgs["shopmart"]),
        await viewer(session, orgs["acme-motors"]),
    )

    proposal = await service.propose(
        session,
        shopmart,
        submitted.assertion.id,
        Correction(confidence=85, tags=["Airbags"]),
        reason="we confirmed it on our platform",
    )
    with pytest.raises(Forbidden):
        await service.accept_proposal(session, shopmart, proposal.id)
    accepted, assertion = await service.accept_proposal(session, acme, proposal.id, reason="agreed")

    assert accepted.state == ProposalState.ACCEPTED
    assert (assertion.confidence, assertion.tags, assertion.version) == (85, ["airbags"], 2)
    with pytest.raises(Conflict):
        await service.reject_proposal(session, acme, proposal.id, reason="changed my mind")
    rows = await changes(session, "indicator.proposal")
    assert [(r.operation, r.version) for r in rows] == [
        (Operation.CREATE, 1),
        (Operation.UPDATE, 2),
    ]
    # The proposer sees the outcome.
    from alliance.indicators import repository as repo

    seen = await repo.visible_proposal(session, shopmart, proposal.id)
    assert seen is not None
    assert seen.state == ProposalState.ACCEPTED


async def test_a_proposal_rejected_needs_a_reason_and_changes_nothing(session, demo) -> None:
    orgs = demo["orgs"]
    submitted = await submit_one(session, orgs["acme-motors"], confidence=40)
    proposal = await service.propose(
        session,
        await viewer(session, orgs["shopmart"]),
        submitted.assertion.id,
        Correction(confidence=5),
        reason="looks genuine",
    )
    acme = await viewer(session, orgs["acme-motors"])

    with pytest.raises(InvalidInput):
        await service.reject_proposal(session, acme, proposal.id, reason=" ")
    rejected = await service.reject_proposal(session, acme, proposal.id, reason="test buy says no")

    assert rejected.state == ProposalState.REJECTED
    assert rejected.decision_reason == "test buy says no"
    assert submitted.assertion.confidence == 40
    with pytest.raises(Conflict):
        await service.propose(
            session, acme, submitted.assertion.id, Correction(confidence=1), reason="x"
        )


# --- seller networks -------------------------------------------------------------------------


async def test_shops_sharing_a_phone_and_a_payment_account_form_one_network(session, demo) -> None:
    orgs, groups = demo["orgs"], demo["groups"]
    acme = await viewer(session, orgs["acme-motors"])
    group = groups["automotive-parts"].id
    common = {"distribution": "WORKING_GROUP", "working_group_id": group}
    await service.submit(
        session,
        acme,
        [
            submission(value="shopee:111", group_key="case-1", **common),
            submission(type="phone", value="+86 138 0013 8000", group_key="case-1", **common),
        ],
    )
    await service.submit(
        session,
        acme,
        [
            submission(value="https://shop222.taobao.com", group_key="case-2", **common),
            submission(type="phone", value="+8613800138000", group_key="case-2", **common),
            submission(
                type="payment_account",
                value="DE89 3704 0044 0532 0130 00",
                group_key="case-2",
                **common,
            ),
        ],
    )
    # Unrelated, and a keyword that must not join networks through itself.
    await service.submit(session, acme, [submission(value="shopee:999", **common)])

    start = await service.lookup(session, acme, "seller_account", "shopee:111")
    network = await service.seller_network(session, acme, start.id)

    values = sorted(i.value for i in network.indicators)
    assert values == sorted(
        ["shopee:111", "+8613800138000", "taobao:222", "iban:DE89370400440532013000"]
    )
    assert len(network.links) == 3
    assert not network.truncated
    # Outside the group, nothing of it is visible.
    luxe = await viewer(session, orgs["luxe-house"])
    assert await service.seller_network(session, luxe, start.id) is None


async def test_a_network_shows_only_the_links_whose_both_ends_are_visible(session, demo) -> None:
    orgs, groups = demo["orgs"], demo["groups"]
    acme = await viewer(session, orgs["acme-motors"])
    await service.submit(
        session,
        acme,
        [
            submission(value="shopee:111", group_key="case-1"),
            submission(
                type="phone",
                value="+8613800138000",
                group_key="case-1",
                distribution="WORKING_GROUP",
                working_group_id=groups["automotive-parts"].id,
            ),
        ],
    )
    luxe = await viewer(session, orgs["luxe-house"])
    start = await service.lookup(session, luxe, "seller_account", "shopee:111")

    network = await service.seller_network(session, luxe, start.id)

    assert [i.value for i in network.indicators] == ["shopee:111"]
    assert network.links == []


async def test_a_network_is_capped(session, demo) -> None:
    from alliance.config import IndicatorSettings

    acme = await viewer(session, demo["orgs"]["acme-motors"])
    await service.submit(
        session,
        acme,
        [submission(type="phone", value="+8613800138000", group_key="big")]
        + [submission(value=f"shopee:{n}", group_key="big") for n in range(1, 12)],
    )
    start = await service.lookup(session, acme, "phone", "+8613800138000")

    network = await service.seller_network(
        session, acme, start.id, settings=IndicatorSettings(network_max_nodes=5)
    )

    assert len(network.indicators) == 5
    assert network.truncated


async def test_narrowing_an_assertion_narrows_its_reactions_and_hides_them(session, demo) -> None:
    from alliance.indicators import repository as repo
    from alliance.indicators.models import IndicatorReaction

    orgs = demo["orgs"]
    submitted = await submit_one(session, orgs["acme-motors"], distribution="ALLIANCE")
    police = await viewer(session, orgs["city-police"])
    reaction, _ = await service.react(
        session,
        police,
        submitted.assertion.id,
        ReactionData(kind=ReactionKind.SEEN_TOO, platform="shopee"),
    )
    shopmart = await viewer(session, orgs["shopmart"])
    assert (await repo.visible_tallies(session, shopmart, [submitted.indicator.id])) != {}

    await submit_one(
        session,
        orgs["acme-motors"],
        distribution="ORGANISATION",
    )

    assert reaction.distribution == "ORGANISATION"
    assert reaction.version == 2
    assert await repo.visible_tallies(session, shopmart, [submitted.indicator.id]) == {}
    windows = await repo.windowed_visible(
        session,
        police,
        IndicatorReaction,
        assertion_ids=[submitted.assertion.id],
        after=None,
        limit=5,
    )
    assert windows[submitted.assertion.id] == ([], 0)
    [row] = [r for r in await changes(session, "indicator.reaction") if r.version == 2]
    assert (row.operation, row.distribution, row.prev_distribution) == (
        Operation.UPDATE,
        "ORGANISATION",
        "ALLIANCE",
    )


async def test_stored_scores_decay_when_refreshed(session, demo) -> None:
    from sqlalchemy import select as sql_select

    from alliance.indicators.models import IndicatorAssertion

    submitted = await submit_one(session, demo["orgs"]["acme-motors"], confidence=80)
    await service.revoke(
        session,
        await viewer(session, demo["orgs"]["acme-motors"]),
        (
            await submit_one(session, demo["orgs"]["acme-motors"], type="domain", value="x.shop")
        ).assertion.id,
        reason="WITHDRAWN",
    )
    updated_at = submitted.assertion.updated_at

    changed = await service.refresh_scores(session, now=utcnow() + timedelta(days=21))

    assert changed == 1
    row = await session.scalar(
        sql_select(IndicatorAssertion).where(IndicatorAssertion.id == submitted.assertion.id)
    )
    assert row.score == pytest.approx(40, abs=0.1)  # one half-life of a seller account
    assert (row.version, row.updated_at) == (1, updated_at)
    assert await service.refresh_scores(session, now=utcnow() + timedelta(days=21)) == 0
