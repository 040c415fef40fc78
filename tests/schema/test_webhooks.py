"""Webhook subscriptions over GraphQL: managed by the organisation's admins, audited,
invisible to other organisations; the delivery log and redelivery."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from alliance.audit.models import AuditEntry
from alliance.config import OutboundSettings, Settings
from alliance.webhooks.dispatcher import Result
from schema.relay import to_global_id
from tests.alliance.webhooks.helpers import domain, quick, run_until, submit
from tests.alliance.webhooks.receiver import Receiver

ERRORS = "__typename ... on Error { message code } ... on ValidationError { fields { path code } }"
SUBSCRIPTION = "id subscriptionId url description kinds indicatorTypes status pausedReason maxAttempts workingGroups { slug }"

CREATE = f"""
mutation ($input: CreateWebhookSubscriptionInput!) {{
  createWebhookSubscription(input: $input) {{
    {ERRORS}
    ... on WebhookSecretPayload {{ secret subscription {{ {SUBSCRIPTION} }} }}
  }}
}}"""
UPDATE = f"""
mutation ($input: UpdateWebhookSubscriptionInput!) {{
  updateWebhookSubscription(input: $input) {{
    {ERRORS}
    ... on WebhookSubscriptionPayload {{ subscription {{ {SUBSCRIPTION} }} }}
  }}
}}"""
ROTATE = f"""
mutation ($input: WebhookSubscriptionInput!) {{
  rotateWebhookSecret(input: $input) {{ {ERRORS} ... on WebhookSecretPayload {{ secret }} }}
}}"""
DELETE = f"""
mutation ($input: WebhookSubscriptionInput!) {{
  deleteWebhookSubscription(input: $input) {{
    {ERRORS} ... on DeleteWebhookSubscriptionPayload {{ deletedId }}
  }}
}}"""
REDELIVER = f"""
mutation ($input: RedeliverWebhookInput!) {{
  redeliverWebhook(input: $input) {{
    {ERRORS} ... on RedeliverWebhookPayload {{ delivery {{ status attempts attemptLog {{ attempt }} }} }}
  }}
}}"""
LIST = f"""
query {{ webhookSubscriptions(first: 10) {{ totalCount edges {{ node {{ {SUBSCRIPTION} }} }} }} }}"""
DELIVERIES = """
query ($id: ID!) {
  webhookDeliveries(subscriptionId: $id, first: 10) {
    totalCount
    edges { node {
      id deliveryId status changeCount attempts lastStatusCode lastError deadLetteredAt
      attemptLog { attempt outcome statusCode error durationMs }
    } }
  }
}"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Private hosts allowed, so subscriptions may point at the local receiver."""
    return settings.model_copy(update={"outbound": OutboundSettings(allow_private_hosts=True)})


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.stop()


async def test_an_organisation_manages_its_own_subscriptions_and_sees_no_others(
    gql: Any, demo: dict[str, Any], issue_token: Any, session: Any
) -> None:
    acme, luxe = demo["orgs"]["acme-motors"], demo["orgs"]["luxe-house"]
    auto = demo["groups"]["automotive-parts"]
    token = issue_token(acme, "webhooks:manage")
    other = issue_token(luxe, "org:admin")

    made = await gql(
        CREATE,
        {
            "input": {
                "url": "https://receiver.acme.example/hooks",
                "kinds": ["indicator.assertion"],
                "workingGroupIds": [to_global_id("WorkingGroup", auto.id)],
                "indicatorTypes": ["domain"],
                "maxAttempts": 5,
            }
        },
        token,
    )
    payload = made["data"]["createWebhookSubscription"]
    assert payload["__typename"] == "WebhookSecretPayload", payload
    assert payload["secret"].startswith("whsec_")
    sub = payload["subscription"]
    assert (sub["status"], sub["maxAttempts"], sub["workingGroups"]) == (
        "ACTIVE",
        5,
        [{"slug": "automotive-parts"}],
    )
    sub_id = {"subscriptionId": sub["id"]}

    listed = (await gql(LIST, token=token))["data"]["webhookSubscriptions"]
    assert listed["totalCount"] == 1
    assert "secret" not in listed["edges"][0]["node"]
    assert (await gql(LIST, token=other))["data"]["webhookSubscriptions"]["totalCount"] == 0
    for doc, field, variables in [
        (UPDATE, "updateWebhookSubscription", {**sub_id, "active": False}),
        (ROTATE, "rotateWebhookSecret", sub_id),
        (DELETE, "deleteWebhookSubscription", sub_id),
    ]:
        refused = (await gql(doc, {"input": variables}, other))["data"][field]
        assert refused["__typename"] == "NotFound", refused
    foreign_log = await gql(DELIVERIES, {"id": sub["id"]}, other)
    assert foreign_log["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    paused = await gql(UPDATE, {"input": {**sub_id, "active": False, "kinds": []}}, token)
    sub = paused["data"]["updateWebhookSubscription"]["subscription"]
    assert (sub["status"], sub["kinds"]) == ("PAUSED", [])
    bad = await gql(UPDATE, {"input": {**sub_id, "indicatorTypes": ["shoe_size"]}}, token)
    assert bad["data"]["updateWebhookSubscription"]["fields"][0]["path"] == ["indicatorTypes"]

    rotated = (await gql(ROTATE, {"input": sub_id}, token))["data"]["rotateWebhookSecret"]
    assert rotated["secret"] != payload["secret"]
    gone = (await gql(DELETE, {"input": sub_id}, token))["data"]["deleteWebhookSubscription"]
    assert gone["deletedId"] == sub["id"]
    assert (await gql(LIST, token=token))["data"]["webhookSubscriptions"]["totalCount"] == 0

    actions = list(
        await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_kind == "webhook_subscription")
            .order_by(AuditEntry.seq)
        )
    )
    assert actions == [
        "webhook_subscription.create",
        "webhook_subscription.update",
        "webhook_subscription.rotate_secret",
        "webhook_subscription.delete",
    ]
    secrets = [payload["secret"], rotated["secret"]]
    details = [str(d) for d in await session.scalars(select(AuditEntry.detail))]
    assert not any(s in d for s in secrets for d in details), "secrets never reach the audit log"


async def test_a_token_without_the_scope_is_refused(
    gql: Any, demo: dict[str, Any], issue_token: Any
) -> None:
    token = issue_token(demo["orgs"]["acme-motors"], "indicators:read sync:read")
    refused = await gql(CREATE, {"input": {"url": "https://receiver.example/"}}, token)
    assert refused["data"]["createWebhookSubscription"]["__typename"] == "Forbidden"
    assert (await gql(LIST, token=token))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_delivery_log_shows_attempts_and_a_dead_letter_is_redelivered(
    gql: Any,
    demo: dict[str, Any],
    issue_token: Any,
    sessions: Any,
    receiver: Receiver,
) -> None:
    acme = demo["orgs"]["acme-motors"]
    token = issue_token(acme, "org:admin")
    receiver.status = 503
    receiver.start()
    made = await gql(CREATE, {"input": {"url": receiver.url, "maxAttempts": 1}}, token)
    sub = made["data"]["createWebhookSubscription"]["subscription"]
    await submit(
        sessions,
        acme,
        domain("log.example", working_group_id=demo["groups"]["automotive-parts"].id),
    )
    sub_id = uuid.UUID(sub["subscriptionId"])
    await run_until(sessions, sub_id, quick(), {Result.DEAD_LETTERED})

    log = (await gql(DELIVERIES, {"id": sub["id"]}, token))["data"]["webhookDeliveries"]
    [edge] = log["edges"]
    dead = edge["node"]
    assert (dead["status"], dead["changeCount"], dead["lastStatusCode"]) == (
        "DEAD_LETTERED",
        1,
        503,
    )
    assert dead["deadLetteredAt"] is not None
    assert [(a["attempt"], a["outcome"], a["statusCode"]) for a in dead["attemptLog"]] == [
        (1, "FAILED", 503)
    ]
    listed = (await gql(LIST, token=token))["data"]["webhookSubscriptions"]["edges"][0]["node"]
    assert listed["status"] == "PAUSED"
    assert dead["deliveryId"] in listed["pausedReason"]

    receiver.status = 200
    again = (await gql(REDELIVER, {"input": {"deliveryId": dead["id"]}}, token))["data"]
    assert again["redeliverWebhook"]["delivery"] == {
        "status": "PENDING",
        "attempts": 0,
        "attemptLog": [{"attempt": 1}],
    }
    await run_until(sessions, sub_id, quick(), {Result.IDLE})
    node = (await gql(DELIVERIES, {"id": sub["id"]}, token))["data"]["webhookDeliveries"]["edges"][
        0
    ]["node"]
    assert node["status"] == "DELIVERED"
    assert [a["outcome"] for a in node["attemptLog"]] == ["FAILED", "DELIVERED"]
    assert [r.json["deliveryId"] for r in receiver.received] == [dead["deliveryId"]] * 2


COUNTED_SUBSCRIPTIONS = """
query ($first: Int!) {
  webhookSubscriptions(first: $first) { totalCount edges { node { url workingGroups { slug } } } }
}"""
COUNTED_DELIVERIES = """
query ($id: ID!, $first: Int!) {
  webhookDeliveries(subscriptionId: $id, first: $first) {
    totalCount edges { node { status attemptLog { attempt outcome statusCode } } }
  }
}"""


async def test_the_lists_cost_the_same_for_two_rows_as_for_eight(
    gql: Any,
    demo: dict[str, Any],
    issue_token: Any,
    sessions: Any,
    engine: Any,
    receiver: Receiver,
) -> None:
    from tests.schema.test_query_counts import recorded_statements

    shop = demo["orgs"]["shopmart"]
    groups = [to_global_id("WorkingGroup", g.id) for g in demo["groups"].values()]
    token = issue_token(shop, "webhooks:manage")
    receiver.start()
    first_sub = None
    for n in range(8):
        made = await gql(
            CREATE,
            {"input": {"url": f"{receiver.url}/{n}", "workingGroupIds": groups[: 1 + n % 3]}},
            token,
        )
        first_sub = first_sub or made["data"]["createWebhookSubscription"]["subscription"]
    assert first_sub is not None
    auto = demo["groups"]["automotive-parts"].id
    for n in range(8):
        await submit(sessions, shop, domain(f"counted-{n}.example", working_group_id=auto))
    sub_id = uuid.UUID(first_sub["subscriptionId"])
    await run_until(sessions, sub_id, quick(batch_size=1), {Result.IDLE})

    counts = {}
    for first in (2, 8):
        with recorded_statements(engine) as statements:
            subs = await gql(COUNTED_SUBSCRIPTIONS, {"first": first}, token)
            log = await gql(COUNTED_DELIVERIES, {"id": first_sub["id"], "first": first}, token)
        assert len(subs["data"]["webhookSubscriptions"]["edges"]) == first
        edges = log["data"]["webhookDeliveries"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["attemptLog"][0]["statusCode"] == 200 for e in edges)
        counts[first] = len(statements)
    assert counts[2] == counts[8], counts
