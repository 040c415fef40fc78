"""GET /v1/changes: the NDJSON change feed, filtered by the sharing policy, resumable by cursor."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from alliance.changelog.models import VISIBILITY_LOWERED, Operation
from alliance.sharing import TLP, Distribution
from alliance.sharing.service import load_viewer
from alliance.sync import feed
from tests.alliance.sync.conftest import write

KINDS = "feedtest.a,feedtest.b"
VISIBILITY_FIELDS = ("distribution", "tlp", "workingGroupId", "ownerOrgId")


async def get_feed(client: httpx.AsyncClient, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get("/v1/changes", params=params, headers=headers)


async def read_feed(
    client: httpx.AsyncClient, token: str, **params: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = await get_feed(client, token, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert response.text.endswith("\n")
    *lines, end = [json.loads(line) for line in response.text.splitlines()]
    assert end["end"] is True
    return lines, end


def by_id(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        found.setdefault(line["id"], []).append(line)
    return found


async def test_a_member_gets_what_the_policy_shows_it_and_nothing_else(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    ids = world["ids"]
    response = await get_feed(client, world["luxe"], kinds=KINDS)
    assert response.status_code == 200
    # Neither another organisation's RED object nor another group's object leaks, in any field.
    for hidden in ("secret", "group"):
        assert ids[hidden] not in response.text
    lines, end = await read_feed(client, world["luxe"], kinds=KINDS)
    assert set(by_id(lines)) == {
        ids[k] for k in ("public", "lowered", "other", "federated", "federated_red")
    }
    assert end["hasMore"] is False
    public = by_id(lines)[ids["public"]][0]
    assert public | {"cursor": "", "seq": 0, "occurredAt": ""} == {
        "cursor": "",
        "seq": 0,
        "kind": "feedtest.a",
        "id": ids["public"],
        "version": 1,
        "operation": "CREATE",
        "reason": None,
        "occurredAt": "",
        "distribution": "ALLIANCE",
        "tlp": "GREEN",
        "workingGroupId": None,
        "ownerOrgId": str(world["orgs"]["acme-motors"].id),
    }
    assert public["occurredAt"].endswith("Z")
    seqs = [line["seq"] for line in lines]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)

    member_lines, _ = await read_feed(client, world["shopmart"], kinds=KINDS)
    group_line = by_id(member_lines)[ids["group"]][0]
    assert group_line["workingGroupId"] == str(world["groups"]["automotive-parts"].id)
    assert ids["secret"] not in by_id(member_lines)


async def test_who_lost_sight_of_an_object_gets_a_remove_line(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    lowered = world["ids"]["lowered"]
    lines, _ = await read_feed(client, world["luxe"], kinds="feedtest.a")
    create, remove = by_id(lines)[lowered]
    assert create["operation"] == "CREATE"
    assert remove["operation"] == "REMOVE"
    assert remove["reason"] == VISIBILITY_LOWERED
    assert remove["version"] == 2
    assert all(remove[f] is None for f in VISIBILITY_FIELDS)
    owner_lines, _ = await read_feed(client, world["acme"], kinds="feedtest.a")
    assert [line["operation"] for line in by_id(owner_lines)[lowered]] == ["CREATE", "UPDATE"]
    assert by_id(owner_lines)[lowered][1]["distribution"] == "ORGANISATION"


async def test_a_peer_gets_only_what_may_cross_federation(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    lines, _ = await read_feed(client, world["peer"], kinds=KINDS)
    assert set(by_id(lines)) == {world["ids"]["federated"]}


async def test_kinds_and_working_groups_filter_the_feed(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    ids = world["ids"]
    only_b, _ = await read_feed(client, world["luxe"], kinds="feedtest.b")
    assert {line["kind"] for line in only_b} == {"feedtest.b"}
    assert set(by_id(only_b)) == {ids["other"], ids["federated"], ids["federated_red"]}
    in_group, _ = await read_feed(
        client, world["shopmart"], kinds=KINDS, workingGroups="automotive-parts"
    )
    assert set(by_id(in_group)) == {ids["group"]}
    # Filtering by a group one has no seat in shows nothing of it.
    outside, _ = await read_feed(
        client, world["luxe"], kinds=KINDS, workingGroups="automotive-parts"
    )
    assert outside == []


async def test_a_consumer_paging_by_cursor_gets_the_whole_feed_once_in_order(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    whole, whole_end = await read_feed(client, world["luxe"])
    assert whole_end["hasMore"] is False
    paged: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        lines, end = await read_feed(client, world["luxe"], **params)
        assert len(lines) <= 2
        paged += lines
        params["after"] = end["cursor"]
        if not end["hasMore"]:
            break
    assert paged == whole
    assert params["after"] == whole_end["cursor"]
    # Resuming from the last cursor: nothing new, nothing twice, the cursor stays.
    again, again_end = await read_feed(client, world["luxe"], after=whole_end["cursor"])
    assert again == []
    assert again_end == whole_end


async def test_the_end_cursor_skips_rows_the_caller_cannot_see(
    client: httpx.AsyncClient, world: dict[str, Any], sessions: Any
) -> None:
    _, end = await read_feed(client, world["luxe"])
    acme = world["orgs"]["acme-motors"].id
    await write(
        sessions,
        {
            "kind": "feedtest.a",
            "object_id": "private-late",
            "distribution": Distribution.ORGANISATION,
            "tlp": TLP.AMBER,
            "owner_org_id": acme,
        },
    )
    lines, later = await read_feed(client, world["luxe"], after=end["cursor"])
    assert lines == []
    assert feed.decode_cursor(later["cursor"]) > feed.decode_cursor(end["cursor"])
    owner, _ = await read_feed(client, world["acme"], after=end["cursor"])
    assert [line["id"] for line in owner] == ["private-late"]


async def test_count_mode_answers_one_line(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    lines, _ = await read_feed(client, world["luxe"], kinds=KINDS)
    response = await get_feed(client, world["luxe"], kinds=KINDS, count="true")
    assert response.status_code == 200
    assert [json.loads(x) for x in response.text.splitlines()] == [{"count": len(lines)}]
    after = lines[1]["cursor"]
    counted = await get_feed(client, world["luxe"], kinds=KINDS, count="true", after=after)
    assert json.loads(counted.text) == {"count": len(lines) - 2}


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"after": "not-a-cursor"}, "after", "INVALID_CURSOR"),
        ({"after": base64.urlsafe_b64encode(b"c2:1").decode()}, "after", "INVALID_CURSOR"),
        ({"after": base64.urlsafe_b64encode(b"c1:-5").decode()}, "after", "INVALID_CURSOR"),
        ({"limit": "0"}, "limit", "OUT_OF_RANGE"),
        ({"limit": "many"}, "limit", "OUT_OF_RANGE"),
        ({"limit": str(feed.MAX_LIMIT + 1)}, "limit", "OUT_OF_RANGE"),
        ({"kinds": "Not A Kind"}, "kinds", "INVALID"),
        ({"kinds": ",".join(f"k{i}" for i in range(51))}, "kinds", "TOO_MANY"),
        ({"workingGroups": "no-such-group"}, "workingGroups", "NOT_FOUND"),
        ({"include": "everything"}, "include", "INVALID"),
        ({"count": "perhaps"}, "count", "INVALID"),
    ],
)
async def test_bad_input_is_a_400_that_says_why(
    client: httpx.AsyncClient, world: dict[str, Any], params: dict[str, str], field: str, code: str
) -> None:
    response = await get_feed(client, world["luxe"], **params)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert [(p["path"], p["code"]) for p in detail["fields"]] == [([field], code)]


async def test_the_feed_needs_the_sync_scope(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    assert (await get_feed(client, world["no_scope"])).status_code == 403
    assert (await get_feed(client, None)).status_code == 401
    assert (await get_feed(client, "not.a.token")).status_code == 401


def test_cursors_are_those_of_the_graphql_connection() -> None:
    from schema.relay import decode_cursor, encode_cursor

    for seq in (0, 1, 99, 123456789, 2**62):
        assert feed.encode_cursor(seq) == encode_cursor(str(seq))
        assert feed.decode_cursor(encode_cursor(str(seq))) == seq
        assert decode_cursor(feed.encode_cursor(seq)) == str(seq)


async def test_the_postgresql_and_python_paths_write_the_same_bytes(
    backend: str, world: dict[str, Any], sessions: Any, demo: dict[str, Any]
) -> None:
    if backend != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    from alliance.auth.principal import Principal

    orgs, groups = demo["orgs"], demo["groups"]
    # Odd characters in ids and reasons must come out alike from both.
    await write(
        sessions,
        {
            "kind": "feedtest.b",
            "object_id": 'q"uo\\te\n\u00e9\u2603\x01',
            "distribution": Distribution.ALLIANCE,
            "tlp": TLP.AMBER_STRICT,
            "owner_org_id": orgs["luxe-house"].id,
            "operation": Operation.REVOKE,
            "reason": "FALSE_POSITIVE",
        },
    )

    def principal(slug: str, scope: str) -> Principal:
        org = orgs[slug]
        return Principal(org.id, slug, "tests", f"test:{slug}", frozenset({scope}), "t")

    cases = [
        (principal("luxe-house", "sync:read"), feed.FeedQuery(), None),
        (principal("shopmart", "sync:read"), feed.FeedQuery(limit=3), None),
        (principal("shopmart", "sync:read"), feed.FeedQuery(kinds=("feedtest.a",)), None),
        (principal("shopmart", "sync:read"), feed.FeedQuery(), [groups["automotive-parts"].id]),
        (principal("alliance-office", "federation"), feed.FeedQuery(), None),
    ]
    for who, query, group_ids in cases:
        async with sessions() as s:
            viewer = await load_viewer(s, who)
            after = query.after
            while True:
                q = feed.FeedQuery(after, query.limit, query.kinds)
                python = b"".join([c async for c in feed.python_chunks(s, viewer, q, group_ids)])
                pg = b"".join([c async for c in feed.postgres_chunks(s, viewer, q, group_ids)])
                assert pg == python
                end = json.loads(python.splitlines()[-1])
                if not end["hasMore"]:
                    break
                after = feed.decode_cursor(end["cursor"])


async def test_include_object_carries_the_snapshot_only_while_the_caller_sees_it(
    client: httpx.AsyncClient, world: dict[str, Any], sessions: Any
) -> None:
    from alliance.db import unit_of_work
    from tests.alliance.indicators.builders import submit_one

    acme = world["orgs"]["acme-motors"]
    shared_value, lowered_value = "https://shopee.cn/shop/111", "https://shopee.cn/shop/222"
    async with unit_of_work(sessions) as s:
        shared: Any
        lowered: Any
        shared = (await submit_one(s, acme, value=shared_value)).assertion
        lowered = (await submit_one(s, acme, value=lowered_value)).assertion
    async with unit_of_work(sessions) as s:  # narrowed to its owner, and its note rewritten
        await submit_one(
            s,
            acme,
            value=lowered_value,
            distribution="ORGANISATION",
            tlp="AMBER",
            note="internal: test buy booked for Tuesday",
        )
    kinds = "indicator.assertion,feedtest.a"
    lines, _ = await read_feed(client, world["luxe"], kinds=kinds, include="object")
    seen = by_id(lines)
    (shared_line,) = seen[str(shared.id)]
    assert shared_line["object"]["id"] == str(shared.id)
    assert shared_line["object"]["indicator"]["value"] == "shopee:111"
    assert shared_line["object"]["distribution"] == "ALLIANCE"
    # The object is hidden from luxe now: its CREATE line carries no snapshot of it, and the
    # removal none either.
    create, remove = seen[str(lowered.id)]
    assert create["operation"] == "CREATE"
    assert create["object"] is None
    assert remove["operation"] == "REMOVE"
    assert "object" not in remove
    response = await get_feed(client, world["luxe"], kinds=kinds, include="object")
    assert "test buy booked" not in response.text
    # Kinds without snapshots say null; the owner gets its own object's current state.
    assert seen[world["ids"]["public"]][0]["object"] is None
    owner_lines, _ = await read_feed(
        client, world["acme"], kinds="indicator.assertion", include="object"
    )
    latest = by_id(owner_lines)[str(lowered.id)][-1]
    assert latest["object"]["distribution"] == "ORGANISATION"
    # Without include=object there is no object key at all.
    plain, _ = await read_feed(client, world["luxe"], kinds=kinds)
    assert all("object" not in line for line in plain)
