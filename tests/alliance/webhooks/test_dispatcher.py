"""Deliveries to a real local HTTP receiver: order, retries, dead letters, redelivery,
filters, visibility, and the outbound rules (loopback, redirects)."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.changelog.models import VISIBILITY_LOWERED
from alliance.db import unit_of_work, utcnow
from alliance.errors import Conflict, NotFound
from alliance.outbound import OutboundPolicy
from alliance.sharing import TLP, Distribution
from alliance.webhooks import dispatcher, repository, service
from alliance.webhooks.dispatcher import NOT_EXPORTABLE, Result
from alliance.webhooks.models import AttemptOutcome, DeliveryStatus, SubscriptionStatus
from alliance.webhooks.signing import verify
from tests.alliance.webhooks.helpers import (
    admin_of,
    domain,
    quick,
    run_until,
    submit,
    subscribe,
)
from tests.alliance.webhooks.receiver import Receiver

ASSERTION = "indicator.assertion"


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.stop()


def assertion_ids(lines: list[dict[str, Any]]) -> list[str]:
    return [line["id"] for line in lines if line["kind"] == ASSERTION]


async def delivery_log(sessions: Any, org: Any, subscription_id: Any) -> Any:
    async with sessions() as s:
        return await service.delivery_log(s, admin_of(org), subscription_id, before=None, limit=100)


async def test_a_receiver_down_for_a_while_gets_every_change_in_order_exactly_once(
    sessions: Any, demo: dict[str, Any], receiver: Receiver
) -> None:
    orgs, groups = demo["orgs"], demo["groups"]
    acme, luxe, volt = orgs["acme-motors"], orgs["luxe-house"], orgs["volt-electronics"]
    auto = groups["automotive-parts"].id
    created = await subscribe(sessions, acme, receiver.url)
    sub_id = created.subscription.id

    visible: list[str] = []
    for n in range(3):  # one transaction each: three change-log rows
        visible += await submit(
            sessions, acme, domain(f"fake-acme-{n}.example", working_group_id=auto)
        )
    hidden = await submit(
        sessions,
        luxe,
        domain("luxe-only.example", working_group_id=groups["luxury-goods"].id),
        domain("luxe-private.example", distribution=Distribution.ORGANISATION, tlp=TLP.RED),
    )
    visible += await submit(
        sessions,
        volt,
        domain("volt-wide.example", distribution=Distribution.ALLIANCE, tlp=TLP.GREEN),
    )
    config = quick(batch_size=2)

    # Down: nothing listens on the receiver's port, every attempt is refused.
    failures = []
    for _ in range(3):
        failures += await run_until(sessions, sub_id, config, {Result.RETRY})
    assert receiver.received == []

    receiver.start()
    await run_until(sessions, sub_id, config, {Result.IDLE})

    lines = receiver.changes()
    assert assertion_ids(lines) == visible, "every visible change, in log order"
    seqs = [line["seq"] for line in lines]
    assert seqs == sorted(set(seqs)), "in order, none twice"
    assert not set(hidden) & {line["id"] for line in lines}
    assert len(receiver.received) >= 2, "batches of at most two changes"
    for request in receiver.received:
        body = request.json
        assert len(body["changes"]) <= 2
        assert body["subscriptionId"] == str(sub_id)
        assert verify(
            created.secret,
            request.body,
            request.headers["X-Alliance-Timestamp"],
            request.headers["X-Alliance-Signature"],
        )
    deliveries = len({r.json["deliveryId"] for r in receiver.received})
    assert deliveries == len(receiver.received), "each batch received once"

    log = await delivery_log(sessions, acme, sub_id)
    first = log.page.items[-1]  # newest first
    attempts = log.attempts[first.id]
    assert [a.outcome for a in attempts] == [AttemptOutcome.FAILED] * 3 + [AttemptOutcome.DELIVERED]
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    assert all(a.error and a.status_code is None for a in attempts[:3])
    assert attempts[3].status_code == 200
    assert attempts[3].error is None
    assert {d.status for d in log.page.items} == {DeliveryStatus.DELIVERED}


async def test_dead_lettered_after_max_attempts_then_redelivered_in_order(
    sessions: Any, demo: dict[str, Any], receiver: Receiver, job_sender: Any
) -> None:
    acme, luxe = demo["orgs"]["acme-motors"], demo["orgs"]["luxe-house"]
    auto = demo["groups"]["automotive-parts"].id
    receiver.status = 500
    receiver.start()
    sub_id = (await subscribe(sessions, acme, receiver.url, max_attempts=3)).subscription.id
    first = await submit(sessions, acme, domain("dead-1.example", working_group_id=auto))
    config = quick()

    outcomes = await run_until(sessions, sub_id, config, {Result.DEAD_LETTERED})
    assert [o.result for o in outcomes if o.result != Result.WAITING] == [
        Result.RETRY,
        Result.RETRY,
        Result.DEAD_LETTERED,
    ]
    dead_id = outcomes[-1].delivery_id
    assert len(receiver.received) == 3
    assert {r.json["deliveryId"] for r in receiver.received} == {str(dead_id)}
    assert len({r.body for r in receiver.received}) == 1, "every attempt sends the same body"

    # The subscription pauses: nothing later overtakes the dead batch.
    later = await submit(sessions, acme, domain("dead-2.example", working_group_id=auto))
    assert (await dispatcher.deliver_next(sessions, sub_id, config)).result == Result.PAUSED
    log = await delivery_log(sessions, acme, sub_id)
    [dead] = log.page.items
    assert dead.status == DeliveryStatus.DEAD_LETTERED
    assert "after 3 attempt(s): HTTP 500" in (dead.last_error or "")
    assert [a.status_code for a in log.attempts[dead.id]] == [500, 500, 500]
    async with sessions() as s:
        sub = await repository.subscription(s, sub_id)
        assert sub is not None
        assert sub.status == SubscriptionStatus.PAUSED
        assert str(dead_id) in (sub.paused_reason or "")

    # Another organisation cannot see, let alone redeliver, the dead letter.
    with pytest.raises(NotFound):
        async with unit_of_work(sessions) as s:
            await service.redeliver(s, admin_of(luxe), dead_id)

    receiver.status = 200
    async with unit_of_work(sessions) as s:
        await service.redeliver(s, admin_of(acme), dead_id)
    assert [(j.name, j.kwargs) for j in job_sender.sent] == [
        ("webhooks.deliver", {"subscription_id": str(sub_id)})
    ]
    with pytest.raises(Conflict):
        async with unit_of_work(sessions) as s:
            await service.redeliver(s, admin_of(acme), dead_id)

    await run_until(sessions, sub_id, config, {Result.IDLE})
    after = receiver.received[3:]
    assert after[0].json["deliveryId"] == str(dead_id)
    assert assertion_ids([c for r in after for c in r.json["changes"]]) == first + later


async def test_filters_kinds_working_groups_and_indicator_types(
    sessions: Any, demo: dict[str, Any], receiver: Receiver
) -> None:
    shop = demo["orgs"]["shopmart"]
    auto, elec = demo["groups"]["automotive-parts"].id, demo["groups"]["consumer-electronics"].id
    receiver.start()
    sub_id = (
        await subscribe(
            sessions,
            shop,
            receiver.url,
            kinds=[ASSERTION],
            working_group_ids=[auto],
            indicator_types=["domain"],
        )
    ).subscription.id
    wanted = await submit(sessions, shop, domain("kept.example", working_group_id=auto))
    await submit(
        sessions,
        shop,
        domain("other-group.example", working_group_id=elec),
        domain("no-group.example", distribution=Distribution.ALLIANCE, tlp=TLP.GREEN),
    )
    from alliance.indicators.service import Submission

    await submit(
        sessions, shop, Submission(type="email", value="seller@fake.example", working_group_id=auto)
    )
    await run_until(sessions, sub_id, quick(), {Result.IDLE})
    lines = receiver.changes()
    assert {line["kind"] for line in lines} == {ASSERTION}
    assert assertion_ids(lines) == wanted


async def test_a_subscription_never_receives_what_its_organisation_may_not_see_or_export(
    sessions: Any, demo: dict[str, Any], receiver: Receiver
) -> None:
    orgs, groups = demo["orgs"], demo["groups"]
    acme, luxe, volt = orgs["acme-motors"], orgs["luxe-house"], orgs["volt-electronics"]
    receiver.start()
    sub_id = (await subscribe(sessions, acme, receiver.url)).subscription.id
    hidden = await submit(
        sessions,
        luxe,
        domain("luxe-group.example", working_group_id=groups["luxury-goods"].id),
        domain("luxe-org.example", distribution=Distribution.ORGANISATION, tlp=TLP.RED),
    )
    red = await submit(
        sessions,
        acme,
        domain("acme-red.example", working_group_id=groups["automotive-parts"].id, tlp=TLP.RED),
    )
    shared = await submit(
        sessions,
        volt,
        domain("volt-shared.example", distribution=Distribution.ALLIANCE, tlp=TLP.GREEN),
    )
    # Volt narrows its assertion to itself: acme is told to drop its copy.
    await submit(
        sessions,
        volt,
        domain("volt-shared.example", distribution=Distribution.ORGANISATION, tlp=TLP.GREEN),
    )
    await run_until(sessions, sub_id, quick(), {Result.IDLE})
    lines = [line for line in receiver.changes() if line["kind"] == ASSERTION]
    assert not set(hidden) & {line["id"] for line in lines}
    [red_line] = [line for line in lines if line["id"] == red[0]]
    assert red_line["operation"] == "REMOVE"
    assert red_line["reason"] == NOT_EXPORTABLE
    assert red_line["tlp"] is None
    assert red_line.get("object") is None
    volt_lines = [line for line in lines if line["id"] == shared[0]]
    assert [line["operation"] for line in volt_lines] == ["CREATE", "REMOVE"]
    assert volt_lines[0]["object"] is not None, "the portable snapshot rides along"
    assert "object" not in volt_lines[1]
    assert volt_lines[1]["reason"] == VISIBILITY_LOWERED
    assert volt_lines[1]["distribution"] is None
    assert volt_lines[1]["ownerOrgId"] is None


async def test_loopback_is_refused_unless_allowed(
    sessions: Any, demo: dict[str, Any], receiver: Receiver
) -> None:
    acme = demo["orgs"]["acme-motors"]
    receiver.start()
    strict = OutboundPolicy(allow_private_hosts=False, timeout_seconds=5)
    url = f"https://127.0.0.1:{receiver.port}/hooks"
    sub_id = (await subscribe(sessions, acme, url)).subscription.id
    await submit(
        sessions,
        acme,
        domain("loop.example", working_group_id=demo["groups"]["automotive-parts"].id),
    )

    outcomes = await run_until(sessions, sub_id, quick(strict), {Result.DEAD_LETTERED})
    assert len(outcomes) == 1, "a refused destination is not retried"
    assert receiver.received == []
    log = await delivery_log(sessions, acme, sub_id)
    assert "loopback" in (log.page.items[0].last_error or "")

    # The subscription's URL itself is refused where private hosts are not allowed.
    for bad, code in [
        (f"https://127.0.0.1:{receiver.port}/", "PRIVATE_DESTINATION"),
        ("https://169.254.169.254/latest/meta-data", "PRIVATE_DESTINATION"),
        ("https://localhost/hook", "PRIVATE_DESTINATION"),
        ("http://receiver.example/hook", "HTTPS_REQUIRED"),
        ("ftp://receiver.example/hook", "INVALID_URL"),
    ]:
        from alliance.config import WebhookSettings
        from alliance.errors import InvalidInput

        with pytest.raises(InvalidInput) as refused:
            async with unit_of_work(sessions) as s:
                await service.create_subscription(
                    s,
                    admin_of(acme),
                    service.SubscriptionData(url=bad),
                    settings=WebhookSettings(),
                    allow_private_hosts=False,
                )
        assert [p.code for p in refused.value.problems] == [code], bad


async def test_a_redirect_is_not_followed(
    sessions: Any, demo: dict[str, Any], receiver: Receiver
) -> None:
    acme = demo["orgs"]["acme-motors"]
    elsewhere = Receiver().start()
    try:
        receiver.status, receiver.location = 307, elsewhere.url
        receiver.start()
        sub_id = (await subscribe(sessions, acme, receiver.url)).subscription.id
        await submit(
            sessions,
            acme,
            domain("redirect.example", working_group_id=demo["groups"]["automotive-parts"].id),
        )
        outcomes = await run_until(sessions, sub_id, quick(), {Result.RETRY})
        assert len(receiver.received) == 1
        assert elsewhere.received == []
        log = await delivery_log(sessions, acme, sub_id)
        [attempt] = log.attempts[outcomes[-1].delivery_id]
        assert attempt.status_code == 307
        assert "not followed" in (attempt.error or "")
    finally:
        elsewhere.stop()


async def test_one_subscription_is_delivered_by_one_worker_at_a_time(
    sessions: Any, demo: dict[str, Any], receiver: Receiver
) -> None:
    acme = demo["orgs"]["acme-motors"]
    receiver.start()
    sub_id = (await subscribe(sessions, acme, receiver.url)).subscription.id
    await submit(
        sessions,
        acme,
        domain("lease.example", working_group_id=demo["groups"]["automotive-parts"].id),
    )
    now = utcnow()
    from datetime import timedelta

    async with unit_of_work(sessions) as s:
        assert await repository.claim_lease(
            s, sub_id, "other-worker", now=now, until=now + timedelta(minutes=5)
        )
    async with sessions() as s:
        assert sub_id not in await dispatcher.due_subscriptions(s)
    assert (await dispatcher.deliver_next(sessions, sub_id, quick())).result == Result.BUSY
    assert receiver.received == []
    async with unit_of_work(sessions) as s:
        await repository.release_lease(s, sub_id, "other-worker")
    async with sessions() as s:
        assert sub_id in await dispatcher.due_subscriptions(s)
    await run_until(sessions, sub_id, quick(), {Result.IDLE})
    assert len(receiver.received) == 1
