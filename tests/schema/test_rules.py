"""Rules over GraphQL: the workflow, typed errors that write nothing, visibility, back-test,
and the query count of the list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select, text

from alliance.changelog.models import ChangeLogEntry
from alliance.db import unit_of_work
from alliance.listings.demo import catalogue_text
from alliance.taxonomy.service import import_taxonomy
from alliance.taxonomy.tree import packaged_taxonomy_lines, parse_taxonomy
from schema.relay import to_global_id
from tests.alliance.rules.builders import AIRBAG_DEFINITION
from tests.schema.test_query_counts import recorded_statements

ERRORS = """
  __typename
  ... on Error { message code }
  ... on ValidationError { fields { path code message } }
"""
RULE = "id name status version activeVersion latestVersion workingGroup { slug } owner { slug }"
PAYLOAD = f"... on RulePayload {{ rule {{ {RULE} }} version {{ number status changeNote }} }}"
CREATE = (
    f"mutation ($input: CreateRuleInput!) {{ createRule(input: $input) {{ {ERRORS} {PAYLOAD} }} }}"
)
UPDATE = (
    f"mutation ($input: UpdateRuleInput!) {{ updateRule(input: $input) {{ {ERRORS} {PAYLOAD} }} }}"
)
ACTIVATE = f"mutation ($input: RuleTransitionInput!) {{ activateRule(input: $input) {{ {ERRORS} {PAYLOAD} }} }}"
RETIRE = f"mutation ($input: RuleTransitionInput!) {{ retireRule(input: $input) {{ {ERRORS} {PAYLOAD} }} }}"
LIST = f"""
query ($first: Int!) {{
  rules(first: $first) {{
    totalCount
    edges {{ node {{ {RULE} versions {{ number status definition {{ name categoryIds
      keywords {{ anyOf }} exceptions {{ authorisedSellers {{ sellerId }} }} }} }} }} }}
  }}
}}
"""
BACKTEST = """
query ($id: ID!, $catalogue: String!) {
  ruleBacktest(ruleId: $id, catalogue: $catalogue) {
    version listings inScope blocked review allowed refused
    exceptions { name count } authorisedSellersHit { name count } samples { line ref outcome }
  }
}
"""

DEFINITION = {
    "name": AIRBAG_DEFINITION["name"],
    "decision": "PROHIBIT",
    "rationale": "SAFETY",
    "categoryIds": [899],
    "keywords": {"anyOf": ["airbag", "srs module"]},
}


@pytest.fixture
async def world(demo: dict[str, Any], sessions: Any, issue_token: Any) -> dict[str, Any]:
    async with unit_of_work(sessions) as session:
        await import_taxonomy(session, None, parse_taxonomy(packaged_taxonomy_lines()))
    orgs, groups = demo["orgs"], demo["groups"]
    return {
        "group": to_global_id("WorkingGroup", groups["automotive-parts"].id),
        "member": issue_token(orgs["shopmart"], "rules:write listings:check"),
        "chair": issue_token(orgs["acme-motors"], "rules:write"),
        "observer": issue_token(orgs["alliance-office"], "rules:write"),
        "outsider": issue_token(orgs["luxe-house"], "rules:read"),
        "reader": issue_token(orgs["shopmart"], "rules:read"),
    }


async def counts(session: Any) -> tuple[int, int, int]:
    rules = await session.scalar(text("SELECT count(*) FROM rules"))
    versions = await session.scalar(text("SELECT count(*) FROM rule_versions"))
    changes = await session.scalar(select(func.count()).select_from(ChangeLogEntry))
    return int(rules), int(versions), int(changes)


async def create(gql: Any, world: Any, **extra: Any) -> dict[str, Any]:
    answer = await gql(
        CREATE,
        {"input": {"workingGroupId": world["group"], "definition": DEFINITION, **extra}},
        world["member"],
    )
    return answer["data"]["createRule"]  # type: ignore[no-any-return]


async def test_propose_activate_edit_and_retire(gql: Any, world: Any) -> None:
    created = await create(gql, world, changeNote="first draft")
    assert created["__typename"] == "RulePayload"
    rule_id = created["rule"]["id"]
    assert (created["rule"]["status"], created["version"]["number"]) == ("DRAFT", 1)
    assert created["rule"]["owner"]["slug"] == "shopmart"
    refused = await gql(ACTIVATE, {"input": {"ruleId": rule_id}}, world["member"])
    assert refused["data"]["activateRule"]["__typename"] == "Forbidden"
    active = await gql(ACTIVATE, {"input": {"ruleId": rule_id}}, world["chair"])
    assert active["data"]["activateRule"]["rule"]["activeVersion"] == 1
    edited = await gql(
        UPDATE,
        {"input": {"ruleId": rule_id, "definition": {**DEFINITION, "jurisdictions": ["DE"]}}},
        world["member"],
    )
    assert edited["data"]["updateRule"]["version"]["number"] == 2
    assert edited["data"]["updateRule"]["rule"]["activeVersion"] == 1
    stale = await gql(RETIRE, {"input": {"ruleId": rule_id, "expectedVersion": 1}}, world["chair"])
    assert stale["data"]["retireRule"]["__typename"] == "Conflict"
    retired = await gql(RETIRE, {"input": {"ruleId": rule_id}}, world["chair"])
    assert retired["data"]["retireRule"]["rule"]["status"] == "RETIRED"
    node = await gql(
        f'{{ node(id: "{rule_id}") {{ ... on Rule {{ versions {{ number status }} }} }} }}',
        token=world["reader"],
    )
    assert node["data"]["node"]["versions"] == [
        {"number": 1, "status": "RETIRED"},
        {"number": 2, "status": "DRAFT"},
    ]


@pytest.mark.parametrize(
    ("token", "definition", "typename", "path"),
    [
        (
            "member",
            {**DEFINITION, "categoryIds": [999_999_999]},
            "ValidationError",
            "categoryIds.0",
        ),
        ("member", {**DEFINITION, "jurisdictions": ["XX"]}, "ValidationError", "jurisdictions.0"),
        ("member", {**DEFINITION, "decision": "RESTRICT"}, "ValidationError", "exceptions"),
        ("observer", DEFINITION, "Forbidden", None),
        ("reader", DEFINITION, "Forbidden", None),
    ],
)
async def test_refused_proposals_write_nothing(
    gql: Any, world: Any, session: Any, token: str, definition: Any, typename: str, path: Any
) -> None:
    before = await counts(session)
    answer = await gql(
        CREATE,
        {"input": {"workingGroupId": world["group"], "definition": definition}},
        world[token],
    )
    result = answer["data"]["createRule"]
    assert result["__typename"] == typename
    if path is not None:
        assert path in {".".join(f["path"]) for f in result["fields"]}
    assert await counts(session) == before


async def test_group_rules_stay_in_their_group(gql: Any, world: Any) -> None:
    created = await create(gql, world, distribution="WORKING_GROUP")
    rule_id = created["rule"]["id"]
    seen = await gql("{ rules(first: 10) { totalCount } }", token=world["reader"])
    unseen = await gql("{ rules(first: 10) { totalCount } }", token=world["outsider"])
    assert seen["data"]["rules"]["totalCount"] == 1
    assert unseen["data"]["rules"]["totalCount"] == 0
    hidden = await gql(f'{{ rule(id: "{rule_id}") {{ id }} }}', token=world["outsider"])
    assert hidden["data"]["rule"] is None
    edit = await gql(
        UPDATE, {"input": {"ruleId": rule_id, "definition": DEFINITION}}, world["outsider"]
    )
    assert edit["data"]["updateRule"]["__typename"] in ("Forbidden", "NotFound")


async def test_a_draft_is_back_tested_on_a_catalogue(gql: Any, world: Any) -> None:
    created = await create(gql, world)
    answer = await gql(
        BACKTEST,
        {"id": created["rule"]["id"], "catalogue": catalogue_text()},
        world["reader"],
    )
    report = answer["data"]["ruleBacktest"]
    assert report["listings"] == len(catalogue_text().splitlines())
    # No platform map in this world: the misspelt airbag is found by keyword alone.
    assert (report["blocked"], report["review"]) == (0, 1)
    assert report["samples"][0]["ref"] == "L-1"
    csv_text = "ref,title,categoryId\nC-1,SRS module,8233\nC-2,brake disc,8233\n"
    csv_answer = await gql(
        BACKTEST.replace("$catalogue)", "$catalogue, format: CSV)"),
        {"id": created["rule"]["id"], "catalogue": csv_text},
        world["reader"],
    )
    assert csv_answer["data"]["ruleBacktest"]["blocked"] == 1


async def test_the_rule_list_costs_the_same_for_two_rules_as_for_ten(
    gql: Any, world: Any, engine: Any
) -> None:
    for n in range(10):
        await create(gql, world, changeNote=str(n))
    used = []
    for first in (2, 10):
        with recorded_statements(engine) as statements:
            answer = await gql(LIST, {"first": first}, world["reader"])
        assert len(answer["data"]["rules"]["edges"]) == first
        used.append(len(statements))
    assert used[0] == used[1]
    assert json.dumps(answer).count('"number": 1') == 10
