"""Portable snapshots and applying a peer's lines, on the migrated schema of both databases
(each test rolled back): what is imported, what is refused, and that replays do nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alliance.changelog.models import Operation
from alliance.changelog.service import pending_changes
from alliance.federation import repository as repo
from alliance.federation import sealing
from alliance.federation import service as federation
from alliance.federation.importing import Outcome, apply_lines
from alliance.federation.importing_rules import NO_GROUP
from alliance.federation.models import Peer
from alliance.guides import repository as guides_repo
from alliance.guides import service as guides
from alliance.guides.models import Guide, GuideStatus
from alliance.indicators import service as indicators
from alliance.indicators.models import AssertionStatus, IndicatorAssertion
from alliance.rules import repository as rules_repo
from alliance.rules import service as rules
from alliance.rules.definition import RuleStatus
from alliance.rules.models import Rule
from alliance.sharing import TLP, Distribution
from alliance.sync.portable import ASSERTION_KIND, GUIDE_KIND, RULE_KIND, load_snapshots

OTHER_INSTANCE = "00000000-0000-4000-8000-00000000000a"


async def _submit(session: AsyncSession, org: Any, **fields: Any) -> IndicatorAssertion:
    viewer = await indicators.viewer_of_organisation(session, org.id)
    [result] = await indicators.submit(session, viewer, [indicators.Submission(**fields)])
    assert result.assertion is not None, result.error
    return result.assertion


async def _peer(session: AsyncSession) -> Peer:
    peer = await federation.add_peer(
        session,
        None,
        federation.PeerData(
            name="elsewhere", base_url="https://elsewhere.example", client_id="c", client_secret="s"
        ),
        sealing_key=Fernet(sealing.generate_key()),
    )
    peer.instance_id = OTHER_INSTANCE
    await session.flush()
    return peer


def _line(
    object_id: str,
    version: int,
    *,
    operation: str = "CREATE",
    tlp: str = "GREEN",
    distribution: str = "FEDERATION",
    value: str = "counterfeit-shop.example",
    origin: str = OTHER_INSTANCE,
    confidence: int = 70,
    **obj: Any,
) -> dict[str, Any]:
    snapshot = {
        "kind": ASSERTION_KIND,
        "id": object_id,
        "version": version,
        "indicator": {"type": "domain", "value": value, "matchKeys": [["domain", value]]},
        "confidence": confidence,
        "severity": "HIGH",
        "status": "ACTIVE",
        "distribution": distribution,
        "tlp": tlp,
        "tags": ["airbags"],
        "description": "from a peer",
        "owner": {"slug": "far-brand", "name": "Far Brand"},
        "origin": {
            "instanceId": origin,
            "organisation": {"slug": "far-brand", "name": "Far Brand"},
            "id": object_id,
            "version": version,
        },
        **obj,
    }
    return {
        "kind": ASSERTION_KIND,
        "id": object_id,
        "version": version,
        "operation": operation,
        "distribution": distribution,
        "tlp": tlp,
        "object": snapshot if operation in ("CREATE", "UPDATE", "REVOKE") else None,
    }


async def _apply(session: AsyncSession, peer: Peer, *lines: dict[str, Any]) -> dict[Outcome, int]:
    mine = await federation.local_instance_id(session)
    return (await apply_lines(session, peer, list(lines), local_instance_id=mine)).outcomes


async def _copy(session: AsyncSession, origin_id: str) -> IndicatorAssertion | None:
    found = await repo.provenance_by_origin(session, ASSERTION_KIND, [(OTHER_INSTANCE, origin_id)])
    if not found:
        return None
    [provenance] = found.values()
    return await session.get(IndicatorAssertion, uuid.UUID(provenance.local_id))


async def test_snapshots_are_portable_and_loaded_in_a_constant_number_of_queries(
    session: AsyncSession, engine: AsyncEngine, demo: dict[str, Any]
) -> None:
    acme = demo["orgs"]["acme-motors"]
    group = demo["groups"]["automotive-parts"]
    made = [
        await _submit(
            session,
            acme,
            type="DOMAIN",
            value=f"shop-{n}.example",
            distribution="FEDERATION",
            tlp="GREEN",
            working_group_id=group.id,
            tags=["airbags"],
            note="seen on two platforms",
        )
        for n in range(5)
    ]
    rule, _ = await rules.create_rule(
        session,
        None,
        working_group_id=group.id,
        owner_org_id=acme.id,
        definition={
            "name": "Airbag modules",
            "decision": "PROHIBIT",
            "rationale": "SAFETY",
            "keywords": {"any_of": ["airbag"]},
        },
        distribution="FEDERATION",
        tlp="GREEN",
    )
    await session.flush()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    refs = [(ASSERTION_KIND, str(a.id)) for a in made]
    extra = [(RULE_KIND, str(rule.id)), ("organisation", str(acme.id)), (ASSERTION_KIND, "nope")]
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        one = await load_snapshots(session, refs[:1])
        queries_for_one = len(statements)
        statements.clear()
        snapshots = await load_snapshots(session, refs + extra)
        queries_for_all = len(statements)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert set(one) == set(refs[:1])
    assert set(snapshots) == {*refs, (RULE_KIND, str(rule.id))}
    # Five assertions and a rule cost what one assertion does, plus the rule's own reads.
    assert queries_for_all <= queries_for_one + 5

    snapshot = snapshots[refs[0]]
    assert snapshot["indicator"]["type"] == "domain"
    assert snapshot["indicator"]["value"] == "shop-0.example"
    assert snapshot["indicator"]["matchKeys"]
    assert snapshot["owner"] == {"slug": "acme-motors", "name": acme.name}
    assert snapshot["workingGroup"]["slug"] == "automotive-parts"
    assert (snapshot["distribution"], snapshot["tlp"], snapshot["tags"]) == (
        "FEDERATION",
        "GREEN",
        ["airbags"],
    )
    assert snapshot["description"] == "seen on two platforms"
    assert snapshot["origin"] == {
        "instanceId": await federation.local_instance_id(session),
        "organisation": {"slug": "acme-motors", "name": acme.name},
        "id": str(made[0].id),
        "version": made[0].version,
    }
    rule_snapshot = snapshots[(RULE_KIND, str(rule.id))]
    assert rule_snapshot["definition"]["name"] == "Airbag modules"
    assert rule_snapshot["workingGroup"]["slug"] == "automotive-parts"
    # No internal ids but the object's own.
    text = str(snapshot)
    assert str(acme.id) not in text
    assert str(group.id) not in text


async def test_created_updated_and_replays_are_no_ops(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    peer = await _peer(session)
    origin_id = str(uuid.uuid4())
    assert await _apply(session, peer, _line(origin_id, 1)) == {Outcome.CREATED: 1}
    assert await _apply(session, peer, _line(origin_id, 2, operation="UPDATE", confidence=95)) == {
        Outcome.UPDATED: 1
    }
    # The same line again, and an older one, change nothing.
    assert await _apply(session, peer, _line(origin_id, 2, operation="UPDATE", confidence=95)) == {
        Outcome.UNCHANGED: 1
    }
    assert await _apply(session, peer, _line(origin_id, 1, confidence=10)) == {Outcome.UNCHANGED: 1}
    copy = await _copy(session, origin_id)
    assert copy is not None
    assert copy.confidence == 95
    assert copy.owner_org_id == peer.organisation_id
    assert copy.working_group_id is None
    operations = [c.operation for c in pending_changes(session) if c.kind == ASSERTION_KIND]
    assert operations == [Operation.CREATE, Operation.UPDATE]


async def test_what_may_not_cross_is_refused_whatever_the_peer_sends(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    peer = await _peer(session)
    lines = [
        _line(str(uuid.uuid4()), 1, tlp=tlp, value=f"{tlp.lower()}.example")
        for tlp in ("RED", "AMBER", "AMBER_STRICT")
    ] + [
        _line(str(uuid.uuid4()), 1, distribution=d, value=f"{d.lower()}.example")
        for d in ("WORKING_GROUP", "ALLIANCE", "ORGANISATION")
    ]
    # A line that says GREEN over an object that says RED.
    sneaky = _line(str(uuid.uuid4()), 1, value="sneaky.example")
    sneaky["object"]["tlp"] = "RED"
    malformed = _line(str(uuid.uuid4()), 1, value="")
    assert await _apply(session, peer, *lines, sneaky, malformed) == {Outcome.REFUSED: 8}
    assert (
        await repo.provenance_by_peer_object(
            session, peer.id, ASSERTION_KIND, [line["id"] for line in lines]
        )
        == {}
    )


async def test_objects_that_started_here_are_never_imported(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    peer = await _peer(session)
    mine = await federation.local_instance_id(session)
    line = _line(str(uuid.uuid4()), 1, origin=mine)
    assert await _apply(session, peer, line) == {Outcome.OWN_ORIGIN: 1}
    assert not [c for c in pending_changes(session) if c.kind == ASSERTION_KIND]


async def test_removal_and_deletion_retire_the_copy_for_local_readers(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    peer = await _peer(session)
    removed, deleted = str(uuid.uuid4()), str(uuid.uuid4())
    await _apply(
        session, peer, _line(removed, 1, value="a.example"), _line(deleted, 1, value="b.example")
    )
    outcomes = await _apply(
        session,
        peer,
        _line(removed, 2, operation="REMOVE"),
        _line(deleted, 2, operation="DELETE"),
        _line(str(uuid.uuid4()), 5, operation="REMOVE"),
    )
    assert outcomes == {Outcome.RETIRED: 2, Outcome.UNCHANGED: 1}
    lowered, gone = await _copy(session, removed), await _copy(session, deleted)
    assert lowered is not None
    assert gone is not None
    assert lowered.distribution == gone.distribution == Distribution.ORGANISATION
    assert gone.status == AssertionStatus.REVOKED
    changes = [c for c in pending_changes(session) if c.kind == ASSERTION_KIND][2:]
    assert [c.operation for c in changes] == [Operation.UPDATE, Operation.DELETE]
    # The update narrows: readers who saw the copy are told to drop it.
    assert changes[0].previous is not None
    assert changes[1].distribution == Distribution.FEDERATION
    # Replayed, nothing more happens; shared again later, the copy comes back.
    assert await _apply(session, peer, _line(removed, 2, operation="REMOVE")) == {
        Outcome.UNCHANGED: 1
    }
    assert await _apply(
        session, peer, _line(removed, 3, operation="UPDATE", value="a.example")
    ) == {Outcome.UPDATED: 1}
    back = await _copy(session, removed)
    assert back is not None
    assert back.distribution == Distribution.FEDERATION


@pytest.mark.parametrize("instance_id", ["", "x" * 65, 42])
async def test_handshake_refuses_a_bad_instance_id(
    session: AsyncSession, demo: dict[str, Any], instance_id: Any
) -> None:
    from alliance.auth.principal import Principal
    from alliance.errors import InvalidInput

    org = demo["orgs"]["shopmart"]
    principal = Principal(
        subject="peer",
        client_id="peer",
        organisation_id=org.id,
        organisation_slug=org.slug,
        scopes=frozenset({"federation"}),
        token_id="t",
    )
    with pytest.raises(InvalidInput):
        await federation.record_handshake(session, principal, instance_id)


# --- rules -------------------------------------------------------------------------------------


def _rule_line(
    object_id: str,
    version: int,
    *,
    operation: str = "CREATE",
    tlp: str = "GREEN",
    distribution: str = "FEDERATION",
    group: str = "automotive-parts",
    status: str = "ACTIVE",
    keywords: tuple[str, ...] = ("airbag",),
) -> dict[str, Any]:
    snapshot = {
        "kind": RULE_KIND,
        "id": object_id,
        "version": version,
        "name": "Airbag modules",
        "status": status,
        "definition": {
            "name": "Airbag modules",
            "decision": "PROHIBIT",
            "rationale": "SAFETY",
            "keywords": {"any_of": list(keywords)},
        },
        "changeNote": "from a peer",
        "distribution": distribution,
        "tlp": tlp,
        "owner": {"slug": "far-brand", "name": "Far Brand"},
        "workingGroup": {"slug": group, "name": group},
        "origin": {
            "instanceId": OTHER_INSTANCE,
            "organisation": {"slug": "far-brand", "name": "Far Brand"},
            "id": object_id,
            "version": version,
        },
    }
    return {
        "kind": RULE_KIND,
        "id": object_id,
        "version": version,
        "operation": operation,
        "distribution": distribution,
        "tlp": tlp,
        "object": snapshot if operation in ("CREATE", "UPDATE", "REVOKE") else None,
    }


async def _rule_copy(session: AsyncSession, origin_id: str) -> Rule | None:
    found = await repo.provenance_by_origin(session, RULE_KIND, [(OTHER_INSTANCE, origin_id)])
    if not found:
        return None
    [provenance] = found.values()
    return await session.get(Rule, uuid.UUID(provenance.local_id))


async def _in_force(session: AsyncSession, rule: Rule) -> dict[str, Any] | None:
    if rule.active_version is None:
        return None
    version = await rules_repo.version(session, rule.id, rule.active_version)
    assert version is not None
    return dict(version.definition)


async def test_a_rule_lands_in_the_same_slug_group_owned_by_the_peer(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    peer = await _peer(session)
    rule_id = str(uuid.uuid4())
    mine = await federation.local_instance_id(session)
    result = await apply_lines(
        session,
        peer,
        [_rule_line(rule_id, 1), _rule_line(str(uuid.uuid4()), 1, group="no-such-group")],
        local_instance_id=mine,
    )
    assert result.outcomes == {Outcome.CREATED: 1, Outcome.SKIPPED: 1}
    assert result.skipped == {NO_GROUP: 1}
    copy = await _rule_copy(session, rule_id)
    assert copy is not None
    assert copy.working_group_id == demo["groups"]["automotive-parts"].id
    assert copy.owner_org_id == peer.organisation_id
    assert (copy.distribution, copy.tlp) == (Distribution.FEDERATION, TLP.GREEN)
    assert copy.status == RuleStatus.ACTIVE
    in_force = await _in_force(session, copy)
    assert in_force is not None
    assert in_force["keywords"]["any_of"] == ["airbag"]
    assert [c.operation for c in pending_changes(session) if c.kind == RULE_KIND][:1] == [
        Operation.CREATE
    ]
    # A replay and an older version do nothing.
    assert await _apply(session, peer, _rule_line(rule_id, 1)) == {Outcome.UNCHANGED: 1}


async def test_a_rule_update_makes_a_new_version_in_force_and_retiring_retires_the_copy(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    peer = await _peer(session)
    rule_id, other_id = str(uuid.uuid4()), str(uuid.uuid4())
    await _apply(session, peer, _rule_line(rule_id, 1), _rule_line(other_id, 1))
    outcomes = await _apply(
        session, peer, _rule_line(rule_id, 2, operation="UPDATE", keywords=("airbag", "srs"))
    )
    assert outcomes == {Outcome.UPDATED: 1}
    copy = await _rule_copy(session, rule_id)
    assert copy is not None
    assert copy.active_version == 2
    first = await rules_repo.version(session, copy.id, 1)
    assert first is not None
    # The version applied before is kept as it was.
    assert first.status == RuleStatus.RETIRED
    assert first.definition["keywords"]["any_of"] == ["airbag"]
    in_force = await _in_force(session, copy)
    assert in_force is not None
    assert in_force["keywords"]["any_of"] == ["airbag", "srs"]
    # The origin retires it: so does the copy.
    assert await _apply(
        session, peer, _rule_line(rule_id, 3, operation="REVOKE", status="RETIRED")
    ) == {Outcome.REVOKED: 1}
    assert copy.status == RuleStatus.RETIRED
    # Removed and deleted at the origin: out of force and narrowed to its owner.
    assert await _apply(
        session,
        peer,
        _rule_line(rule_id, 4, operation="REMOVE"),
        _rule_line(other_id, 2, operation="DELETE"),
    ) == {Outcome.RETIRED: 2}
    other = await _rule_copy(session, other_id)
    assert other is not None
    assert other.status == RuleStatus.RETIRED
    assert copy.distribution == other.distribution == Distribution.ORGANISATION
    ops = [c.operation for c in pending_changes(session) if c.kind == RULE_KIND]
    assert ops[-1] == Operation.DELETE


@pytest.mark.parametrize(
    ("distribution", "tlp"),
    [("FEDERATION", "AMBER"), ("FEDERATION", "RED"), ("WORKING_GROUP", "GREEN")],
)
async def test_a_rule_that_may_not_cross_is_refused(
    session: AsyncSession, demo: dict[str, Any], distribution: str, tlp: str
) -> None:
    peer = await _peer(session)
    rule_id = str(uuid.uuid4())
    line = _rule_line(rule_id, 1, distribution=distribution, tlp=tlp)
    assert await _apply(session, peer, line) == {Outcome.REFUSED: 1}
    # Even when the line claims FEDERATION+GREEN, the object's own marking is checked.
    line["distribution"], line["tlp"] = "FEDERATION", "GREEN"
    assert await _apply(session, peer, line) == {Outcome.REFUSED: 1}
    assert await _rule_copy(session, rule_id) is None


# --- guides ------------------------------------------------------------------------------------


GUIDE_CONTENT = {
    "title": "Genuine airbag modules",
    "summary": "How to tell them apart",
    "features": [
        {"id": "hologram", "title": "Hologram", "text": "overt"},
        {"id": "microtext", "title": "Microtext", "tier": "COVERT", "text": "covert"},
        {"id": "ink", "title": "Ink", "tier": "FORENSIC", "text": "forensic"},
    ],
}


async def _published_guide(session: AsyncSession, demo: dict[str, Any], **kw: Any) -> Any:
    guide = await guides.create_guide(
        session,
        None,
        working_group_id=demo["groups"]["automotive-parts"].id,
        owner_org_id=demo["orgs"]["acme-motors"].id,
        content=GUIDE_CONTENT,
        distribution=kw.get("distribution", "FEDERATION"),
        tlp=kw.get("tlp", "GREEN"),
    )
    await guides.submit_for_review(session, None, guide.id)
    await guides.approve(session, None, guide.id)
    await guides.publish(session, None, guide.id)
    return guide


def _as_peer_line(snapshot: dict[str, Any], operation: str = "CREATE") -> dict[str, Any]:
    """The snapshot as if it came from another instance."""
    object_id = str(uuid.uuid4())
    snapshot = {
        **snapshot,
        "id": object_id,
        "origin": {**snapshot["origin"], "instanceId": OTHER_INSTANCE, "id": object_id},
    }
    return {
        "kind": GUIDE_KIND,
        "id": object_id,
        "version": snapshot["version"],
        "operation": operation,
        "distribution": snapshot["distribution"],
        "tlp": snapshot["tlp"],
        "object": snapshot,
    }


async def _guide_copy(session: AsyncSession, origin_id: str) -> Guide | None:
    found = await repo.provenance_by_origin(session, GUIDE_KIND, [(OTHER_INSTANCE, origin_id)])
    if not found:
        return None
    [provenance] = found.values()
    return await session.get(Guide, uuid.UUID(provenance.local_id))


async def test_a_guide_snapshot_is_its_published_version_without_restricted_tiers(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    guide = await _published_guide(session, demo)
    # A later draft never travels.
    await guides.update_draft(session, None, guide.id, content={**GUIDE_CONTENT, "title": "Draft"})
    snapshots = await load_snapshots(session, [(GUIDE_KIND, str(guide.id))])
    snapshot = snapshots[(GUIDE_KIND, str(guide.id))]
    assert snapshot["content"]["title"] == "Genuine airbag modules"
    assert [f["id"] for f in snapshot["content"]["features"]] == ["hologram"]
    assert snapshot["workingGroup"]["slug"] == "automotive-parts"
    never = await guides.create_guide(
        session,
        None,
        working_group_id=demo["groups"]["automotive-parts"].id,
        owner_org_id=demo["orgs"]["acme-motors"].id,
        content=GUIDE_CONTENT,
        distribution="FEDERATION",
        tlp="GREEN",
    )
    assert await load_snapshots(session, [(GUIDE_KIND, str(never.id))]) == {}


async def test_a_guide_lands_published_updates_make_new_versions_and_archiving_retires(
    session: AsyncSession, demo: dict[str, Any]
) -> None:
    peer = await _peer(session)
    guide = await _published_guide(session, demo)
    snapshot = (await load_snapshots(session, [(GUIDE_KIND, str(guide.id))]))[
        (GUIDE_KIND, str(guide.id))
    ]
    line = _as_peer_line(snapshot)
    # A covert feature slipped in by a peer is dropped all the same.
    line["object"]["content"]["features"].append(
        {"id": "sneaky", "title": "S", "tier": "COVERT", "text": "x"}
    )
    origin_id = line["id"]
    mine = await federation.local_instance_id(session)
    before = await session.scalar(select(func.count()).select_from(IndicatorAssertion))
    assert (await apply_lines(session, peer, [line], local_instance_id=mine)).outcomes == {
        Outcome.CREATED: 1
    }
    copy = await _guide_copy(session, origin_id)
    assert copy is not None
    assert copy.status == GuideStatus.PUBLISHED
    assert copy.owner_org_id == peer.organisation_id
    assert (copy.distribution, copy.tlp) == (Distribution.FEDERATION, TLP.GREEN)
    assert copy.working_group_id == demo["groups"]["automotive-parts"].id
    first = await guides_repo.version(session, copy.id, copy.published_version or 0)
    assert first is not None
    assert [f["id"] for f in first.content["features"]] == ["hologram"]
    # No tells compiled into indicators on import.
    assert await session.scalar(select(func.count()).select_from(IndicatorAssertion)) == before
    # Replayed: nothing.
    assert await _apply(session, peer, line) == {Outcome.UNCHANGED: 1}

    newer = json.loads(json.dumps(line))
    newer["operation"], newer["version"] = "UPDATE", line["version"] + 3
    newer["object"]["origin"]["version"] = newer["version"]
    newer["object"]["content"]["summary"] = "Revised"
    assert await _apply(session, peer, newer) == {Outcome.UPDATED: 1}
    assert copy.published_version == 2
    assert first.content["summary"] == "How to tell them apart"  # never rewritten
    second = await guides_repo.version(session, copy.id, 2)
    assert second is not None
    assert second.content["summary"] == "Revised"

    archived = json.loads(json.dumps(newer))
    archived["operation"], archived["version"] = "REVOKE", newer["version"] + 1
    archived["object"]["origin"]["version"] = archived["version"]
    archived["object"]["status"] = "ARCHIVED"
    assert await _apply(session, peer, archived) == {Outcome.REVOKED: 1}
    assert copy.status == GuideStatus.ARCHIVED

    # Removed at the origin: narrowed to its owner.
    removal = {**archived, "operation": "REMOVE", "version": archived["version"] + 1}
    removal["object"] = None
    assert await _apply(session, peer, removal) == {Outcome.RETIRED: 1}
    assert copy.distribution == Distribution.ORGANISATION


@pytest.mark.parametrize(
    ("distribution", "tlp"),
    [("FEDERATION", "AMBER"), ("FEDERATION", "RED"), ("WORKING_GROUP", "GREEN")],
)
async def test_a_guide_that_may_not_cross_is_refused_and_an_unknown_group_skipped(
    session: AsyncSession, demo: dict[str, Any], distribution: str, tlp: str
) -> None:
    peer = await _peer(session)
    guide = await _published_guide(session, demo)
    snapshot = (await load_snapshots(session, [(GUIDE_KIND, str(guide.id))]))[
        (GUIDE_KIND, str(guide.id))
    ]
    line = _as_peer_line(snapshot)
    line["object"]["distribution"], line["object"]["tlp"] = distribution, tlp
    assert await _apply(session, peer, line) == {Outcome.REFUSED: 1}
    assert await _guide_copy(session, line["id"]) is None
    elsewhere = _as_peer_line(snapshot)
    elsewhere["object"]["workingGroup"] = {"slug": "no-such-group", "name": "x"}
    mine = await federation.local_instance_id(session)
    result = await apply_lines(session, peer, [elsewhere], local_instance_id=mine)
    assert result.outcomes == {Outcome.SKIPPED: 1}
    assert result.skipped == {NO_GROUP: 1}
