"""Federation end to end: real instances on their own databases and their own uvicorn
servers, pulling each other's change feeds over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.audit.models import AuditEntry
from alliance.changelog.models import ChangeLogEntry
from alliance.federation import pull, sealing
from alliance.federation import repository as repo
from alliance.federation import service as federation
from alliance.federation.models import Peer, Provenance
from alliance.guides import repository as guides_repo
from alliance.guides import service as guides
from alliance.guides.models import Guide
from alliance.indicators import repository as indicators_repo
from alliance.indicators.models import AssertionStatus, IndicatorAssertion
from alliance.indicators.service import viewer_of_organisation
from alliance.outbound import OutboundPolicy
from alliance.rules import service as rules
from alliance.rules.definition import RuleStatus
from alliance.rules.models import Rule
from alliance.sync.portable import ASSERTION_KIND, GUIDE_KIND, RULE_KIND
from tests.alliance.federation.conftest import Instance

pytestmark = pytest.mark.usefixtures("triangle")


def _value(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}.example"


async def _copies(instance: Instance) -> dict[str, tuple[Provenance, IndicatorAssertion]]:
    """The imported copies on ``instance`` by origin object id."""

    async def read(session: AsyncSession) -> dict[str, tuple[Provenance, IndicatorAssertion]]:
        rows = list(
            await session.scalars(select(Provenance).where(Provenance.kind == ASSERTION_KIND))
        )
        found = await repo.assertions_by_ids(session, [uuid.UUID(p.local_id) for p in rows])
        assertions = {str(a.id): a for a in found}
        return {p.origin_object_id: (p, assertions[p.local_id]) for p in rows}

    return await instance.read(read)


async def _log_size(instance: Instance) -> int:
    return int(
        await instance.read(lambda s: s.scalar(select(func.count()).select_from(ChangeLogEntry)))
    )


async def _visible_to_member(
    instance: Instance, org_slug: str, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    org = await instance.organisation(org_slug)

    async def read(session: AsyncSession) -> set[uuid.UUID]:
        viewer = await viewer_of_organisation(session, org.id)
        return {a.id for a in await indicators_repo.visible_assertions_by_ids(session, viewer, ids)}

    return await instance.read(read)


async def _pull(puller: Instance, peer: str, **kw: Any) -> pull.PullReport:
    return await pull.pull(puller.sessions, puller.settings, peer, **kw)


async def _group_id(instance: Instance, org_slug: str) -> uuid.UUID:
    from alliance.orgs import repository as orgs_repo

    org = await instance.organisation(org_slug)
    seats = await instance.read(lambda s: orgs_repo.memberships_of_organisation(s, org.id))
    return seats[0].working_group_id


def _feed(instance: Instance, token: str, after: str | None = None) -> list[dict[str, Any]]:
    params = {"include": "object", **({"after": after} if after else {})}
    response = httpx.get(
        f"{instance.base_url}/v1/changes",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text

    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def _count(instance: Instance, token: str) -> int:
    response = httpx.get(
        f"{instance.base_url}/v1/changes",
        params={"count": "true"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return int(json.loads(response.text)["count"])


async def test_create_update_revoke_and_lowering_propagate_and_nothing_else_crosses(
    triangle: dict[str, Instance],
) -> None:
    a, b = triangle["a"], triangle["b"]
    await b.add_peer(a)
    group = await _group_id(a, "acme-motors")

    shared_value, lowered_value = _value("shared"), _value("lowered")
    shared = await a.submit(
        "acme-motors",
        type="DOMAIN",
        value=shared_value,
        distribution="FEDERATION",
        tlp="GREEN",
        confidence=60,
        tags=["airbags"],
        note="sold as genuine",
    )
    clear = await a.submit(
        "acme-motors", type="DOMAIN", value=_value("clear"), distribution="FEDERATION", tlp="CLEAR"
    )
    lowered = await a.submit(
        "acme-motors", type="DOMAIN", value=lowered_value, distribution="FEDERATION", tlp="GREEN"
    )
    kept_home = [
        await a.submit(
            "acme-motors",
            type="DOMAIN",
            value=_value(f"tlp-{tlp}"),
            distribution="FEDERATION",
            tlp=tlp,
        )
        for tlp in ("RED", "AMBER", "AMBER_STRICT")
    ] + [
        await a.submit(
            "acme-motors",
            type="DOMAIN",
            value=_value("wg"),
            distribution="WORKING_GROUP",
            working_group_id=group,
            tlp="GREEN",
        ),
        await a.submit(
            "acme-motors",
            type="DOMAIN",
            value=_value("alliance"),
            distribution="ALLIANCE",
            tlp="CLEAR",
        ),
        await a.submit(
            "acme-motors",
            type="DOMAIN",
            value=_value("org"),
            distribution="ORGANISATION",
            tlp="CLEAR",
        ),
    ]

    report = await _pull(b, "a")
    assert not report.has_more
    copies = await _copies(b)
    assert set(copies) == {str(shared.id), str(clear.id), str(lowered.id)}
    assert not {str(x.id) for x in kept_home} & set(copies)
    provenance, copy = copies[str(shared.id)]
    assert provenance.origin_instance_id == a.instance_id
    assert (provenance.origin_org_slug, provenance.origin_org_name) == (
        "acme-motors",
        "Acme Motors",
    )
    assert provenance.origin_version == 1
    assert copy.owner_org_id == (await b.organisation("peer-a")).id
    assert (copy.distribution, copy.tlp, copy.confidence) == ("FEDERATION", "GREEN", 60)
    assert copy.tags == ["airbags"]
    assert copy.note == "sold as genuine"
    # B's own members see the copies under B's sharing policy.
    ids = [c.id for _, c in copies.values()]
    assert await _visible_to_member(b, "shopmart", ids) == set(ids)

    # A replayed pull (from the very start) changes nothing.
    log_before = await _log_size(b)
    await b.write(lambda s: _reset_cursor(s, "a"))
    replay = await _pull(b, "a")
    assert replay.imported == 0
    assert replay.outcomes.get("CREATED", 0) == 0
    assert await _log_size(b) == log_before

    # Update, then lower one object's visibility, then revoke.
    await a.submit(
        "acme-motors",
        type="DOMAIN",
        value=shared_value,
        distribution="FEDERATION",
        tlp="GREEN",
        confidence=90,
        tags=["airbags", "recall"],
    )
    await a.submit(
        "acme-motors",
        type="DOMAIN",
        value=lowered_value,
        distribution="FEDERATION",
        tlp="AMBER",
    )
    report = await _pull(b, "a")
    assert report.outcomes.get("UPDATED") == 1
    assert report.outcomes.get("RETIRED") == 1
    copies = await _copies(b)
    provenance, copy = copies[str(shared.id)]
    assert (copy.confidence, copy.tags, provenance.origin_version) == (90, ["airbags", "recall"], 2)
    lowered_provenance, lowered_copy = copies[str(lowered.id)]
    assert lowered_provenance.retired
    assert await _visible_to_member(b, "shopmart", [lowered_copy.id]) == set()

    await a.revoke("acme-motors", shared.id, "TAKEN_DOWN")
    report = await _pull(b, "a")
    assert report.outcomes.get("REVOKED") == 1
    _, copy = (await _copies(b))[str(shared.id)]
    assert copy.status == AssertionStatus.REVOKED
    assert copy.revocation_reason == "TAKEN_DOWN"

    # B's own consumers see all of it in B's feed: the copy's revocation, and the lowered
    # copy as a removal.
    token = b.token("shopmart", ["sync:read"])
    lines = [line for line in _feed(b, token) if line.get("kind") == ASSERTION_KIND]
    by_id = {}
    for line in lines:
        by_id.setdefault(line["id"], []).append(line["operation"])
    assert by_id[str(copy.id)][-1] == "REVOKE"
    assert by_id[str(lowered_copy.id)][-1] == "REMOVE"

    # Peer status: caught up, cursor stored, no error.
    peer = await b.read(lambda s: repo.peer_by_name(s, "a"))
    assert peer.last_error is None
    assert peer.last_cursor
    assert peer.lag_changes == 0
    assert peer.instance_id == a.instance_id


async def _reset_cursor(session: AsyncSession, name: str) -> None:
    peer = await session.scalar(select(Peer).where(Peer.name == name))
    assert peer is not None
    peer.last_cursor = None


async def _has_peer(instance: Instance, name: str) -> bool:
    return await instance.read(lambda s: repo.peer_by_name(s, name)) is not None


async def _assertion_count(instance: Instance) -> int:
    return int(
        await instance.read(
            lambda s: s.scalar(select(func.count()).select_from(IndicatorAssertion))
        )
    )


async def test_a_triangle_has_no_loop(triangle: dict[str, Instance]) -> None:
    """A → B → C → A, and C → B too: an object from A reaches B and C with A's provenance,
    comes back to nobody as a new object, and A never imports it."""
    a, b, c = triangle["a"], triangle["b"], triangle["c"]
    for puller, source in ((b, a), (c, b), (a, c), (b, c)):
        if not await _has_peer(puller, source.name):
            await puller.add_peer(source)
    travelling = await a.submit(
        "acme-motors",
        type="DOMAIN",
        value=_value("triangle"),
        distribution="FEDERATION",
        tlp="GREEN",
    )
    on_a = await _assertion_count(a)
    copies_on_b = await _copies(b)

    await _pull(b, "a")
    await _pull(c, "b")
    from_c = await _pull(a, "c")
    again_on_b = await _pull(b, "c")

    provenance, copy_on_c = (await _copies(c))[str(travelling.id)]
    # C names the origin, not the instance it got the object from.
    assert provenance.origin_instance_id == a.instance_id
    assert provenance.origin_org_slug == "acme-motors"
    assert provenance.peer_id == (await c.read(lambda s: repo.peer_by_name(s, "b"))).id
    # A never imports it: C's feed leaves it out for A, and nothing was created on A.
    assert await _copies(a) == {}
    assert await _assertion_count(a) == on_a
    assert from_c.outcomes.get("CREATED", 0) == 0
    peer_c = await a.read(lambda s: repo.peer_by_name(s, "c"))
    token = _peer_token(a, peer_c)
    lines = _feed(c, token)
    assert str(copy_on_c.id) not in {line.get("id") for line in lines}
    # The count a peer reads to know how far behind it is leaves out the same lines.
    assert lines[-1]["end"] is True
    assert lines[-1]["hasMore"] is False
    assert _count(c, token) == len(lines) - 1
    # B gets A's object again through C, and it is the copy it already holds.
    copies_after = await _copies(b)
    assert set(copies_after) == set(copies_on_b) | {str(travelling.id)}
    assert again_on_b.outcomes.get("CREATED", 0) == 0


def _peer_token(puller: Instance, peer: Peer) -> str:
    secret = sealing.unseal(puller.sealing_key(), peer.client_secret)
    response = httpx.post(
        peer.token_url,
        data={"grant_type": "client_credentials", "scope": "federation"},
        auth=(peer.client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_pull_refuses_loopback_unless_allowed(triangle: dict[str, Instance]) -> None:
    """Without the operator's leave, a peer on a loopback address is refused before any
    connection, and the peer's status says why; its cursor stays where it was."""
    a, b = triangle["a"], triangle["b"]
    port = a.base_url.rsplit(":", 1)[1]
    client_id, secret = await a.issue_federation_credentials("b-over-https")

    async def add(session: AsyncSession) -> None:
        await federation.add_peer(
            session,
            None,
            federation.PeerData(
                name="a-https",
                base_url=f"https://localhost:{port}",
                client_id=client_id,
                client_secret=secret,
            ),
            sealing_key=b.sealing_key(),
        )

    await b.write(add)
    with pytest.raises(pull.PullFailed, match="loopback") as failure:
        await _pull(b, "a-https", policy=OutboundPolicy(allow_private_hosts=False))
    assert not failure.value.retryable
    peer = await b.read(lambda s: repo.peer_by_name(s, "a-https"))
    assert "loopback" in (peer.last_error or "")
    assert peer.last_cursor is None
    assert secret not in (peer.last_error or "")


async def _add_peer_of(
    puller: Instance, source: Instance, name: str, *, sealing_key: Fernet | None = None
) -> str:
    """Register ``source`` on ``puller`` as ``name``; returns the secret ``source`` issued."""
    client_id, secret = await source.issue_federation_credentials(f"{puller.name}-{name}")

    async def add(session: AsyncSession) -> None:
        await federation.add_peer(
            session,
            None,
            federation.PeerData(
                name=name, base_url=source.base_url, client_id=client_id, client_secret=secret
            ),
            sealing_key=sealing_key or puller.sealing_key(),
        )

    await puller.write(add)
    return secret


async def _stored_secret(instance: Instance, name: str) -> str:
    return str(
        await instance.read(lambda s: s.scalar(select(Peer.client_secret).where(Peer.name == name)))
    )


async def test_the_stored_secret_is_sealed_and_a_pull_still_authenticates(
    triangle: dict[str, Instance],
) -> None:
    a, b = triangle["a"], triangle["b"]
    secret = await _add_peer_of(b, a, "a-sealed")
    stored = await _stored_secret(b, "a-sealed")
    assert sealing.is_sealed(stored)
    assert secret not in stored
    audited = await b.read(
        lambda s: s.scalars(select(AuditEntry.detail).where(AuditEntry.target_kind == "peer"))
    )
    assert secret not in json.dumps(list(audited))

    await _pull(b, "a-sealed")
    peer = await b.read(lambda s: repo.peer_by_name(s, "a-sealed"))
    assert peer.last_error is None
    assert peer.instance_id == a.instance_id
    assert peer.client_secret == stored


async def test_a_legacy_plaintext_secret_still_pulls_and_the_pull_seals_it(
    triangle: dict[str, Instance],
) -> None:
    """A row written before secrets were sealed holds the secret as typed."""
    a, b = triangle["a"], triangle["b"]
    secret = await _add_peer_of(b, a, "a-legacy")

    async def as_before_sealing(session: AsyncSession) -> None:
        await session.execute(
            update(Peer).where(Peer.name == "a-legacy").values(client_secret=secret)
        )

    await b.write(as_before_sealing)
    assert await _stored_secret(b, "a-legacy") == secret

    await _pull(b, "a-legacy")
    peer = await b.read(lambda s: repo.peer_by_name(s, "a-legacy"))
    assert peer.last_error is None
    assert peer.instance_id == a.instance_id
    stored = await _stored_secret(b, "a-legacy")
    assert sealing.is_sealed(stored)
    assert secret not in stored
    assert sealing.unseal(b.sealing_key(), stored) == secret
    await _pull(b, "a-legacy")
    assert (await b.read(lambda s: repo.peer_by_name(s, "a-legacy"))).last_error is None


async def test_a_secret_sealed_with_another_key_is_the_peers_last_error(
    triangle: dict[str, Instance],
) -> None:
    a, b = triangle["a"], triangle["b"]
    secret = await _add_peer_of(b, a, "a-other-key", sealing_key=Fernet(sealing.generate_key()))
    with pytest.raises(pull.PullFailed, match="sealed with another key") as failure:
        await _pull(b, "a-other-key")
    assert not failure.value.retryable
    peer = await b.read(lambda s: repo.peer_by_name(s, "a-other-key"))
    assert "ALLIANCE_FEDERATION_SEALING_KEY" in (peer.last_error or "")
    assert secret not in (peer.last_error or "")
    assert peer.last_pulled_at is not None
    assert peer.last_cursor is None
    # Nothing reached the peer: the handshake never ran.
    assert peer.instance_id is None
    await b.write(lambda s: federation.remove_peer(s, None, "a-other-key"))


def _cli(instance: Instance, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env |= {
        "ALLIANCE_DATA_DIR": str(instance.settings.data_dir),
        "ALLIANCE_DATABASE_URL": instance.settings.database_url,
        "ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS": "true",
        "ALLIANCE_FEDERATION_PAGE_SIZE": "2",
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "alliance.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_adds_lists_pulls_and_removes_a_peer(triangle: dict[str, Instance]) -> None:
    a, c = triangle["a"], triangle["c"]
    await a.submit(
        "acme-motors", type="DOMAIN", value=_value("cli"), distribution="FEDERATION", tlp="GREEN"
    )
    client_id, secret = await a.issue_federation_credentials("c-cli")
    added = await asyncio.to_thread(
        _cli,
        c,
        "peers",
        "add",
        "a-cli",
        "--url",
        a.base_url,
        "--client-id",
        client_id,
        "--client-secret",
        secret,
        "--json",
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["token_url"] == f"{a.base_url}/oauth/token"
    assert secret not in added.stdout
    stored = await _stored_secret(c, "a-cli")
    assert sealing.is_sealed(stored)
    assert secret not in stored

    pulled = await asyncio.to_thread(_cli, c, "sync", "pull", "--peer", "a-cli")
    assert pulled.returncode == 0, pulled.stderr
    assert "pulled" in pulled.stdout
    assert "pulling a-cli" in pulled.stderr  # the progress bar

    listed = await asyncio.to_thread(_cli, c, "peers", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [peer] = [p for p in json.loads(listed.stdout) if p["name"] == "a-cli"]
    assert peer["last_cursor"]
    assert peer["lag_changes"] == 0
    assert peer["instance_id"] == a.instance_id
    assert peer["imported"] >= 1
    assert secret not in listed.stdout

    unknown = await asyncio.to_thread(_cli, c, "sync", "pull", "--peer", "nobody")
    assert unknown.returncode == 1
    assert "not found" in unknown.stderr

    removed = await asyncio.to_thread(_cli, c, "peers", "remove", "a-cli")
    assert removed.returncode == 0, removed.stderr
    assert not await _has_peer(c, "a-cli")


PEERS_QUERY = """
query { peers(first: 10) { totalCount edges { node {
  name url instanceId lastCursor lastPulledAt lastError lagChanges lagSeconds importedCount
} } } }
"""


async def test_peer_status_in_graphql_for_operators_only(triangle: dict[str, Instance]) -> None:
    a, b = triangle["a"], triangle["b"]
    if not await _has_peer(b, "a"):
        await b.add_peer(a)
    await _pull(b, "a")

    def ask(token: str) -> dict[str, Any]:
        response = httpx.post(
            f"{b.base_url}/graphql",
            json={"query": PEERS_QUERY},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    answer = ask(b.token("alliance-office", ["admin"]))
    assert "errors" not in answer, answer
    nodes = {e["node"]["name"]: e["node"] for e in answer["data"]["peers"]["edges"]}
    assert nodes["a"]["instanceId"] == a.instance_id
    assert nodes["a"]["lastCursor"]
    assert nodes["a"]["lastError"] is None
    assert nodes["a"]["lagChanges"] == 0
    assert answer["data"]["peers"]["totalCount"] == len(nodes)
    refused = ask(b.token("shopmart", ["indicators:read"]))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_beat_pulls_every_active_peer_on_a_real_worker(
    triangle: dict[str, Instance], tmp_path: Path
) -> None:
    """``alliance worker --beat``: beat queues ``federation.pull`` for each active peer on the
    federation queue, and the worker's pull brings the object over."""
    from tests.conftest import BROKER_URL
    from tests.workers.test_worker import start_worker, stop_worker

    a, c = triangle["a"], triangle["c"]
    client_id, secret = await a.issue_federation_credentials("c-beat")

    async def add(session: AsyncSession) -> None:
        await federation.add_peer(
            session,
            None,
            federation.PeerData(
                name="a-beat", base_url=a.base_url, client_id=client_id, client_secret=secret
            ),
            sealing_key=c.sealing_key(),
        )
        for peer in await repo.active_peers(session):
            if peer.name != "a-beat":
                peer.active = False

    await c.write(add)
    made = await a.submit(
        "acme-motors", type="DOMAIN", value=_value("beat"), distribution="FEDERATION", tlp="GREEN"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env |= {
        "ALLIANCE_DATA_DIR": str(tmp_path / "var"),
        "ALLIANCE_DATABASE_URL": c.settings.database_url,
        "ALLIANCE_LOG_FORMAT": "text",
        "ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS": "true",
        "ALLIANCE_FEDERATION_PULL_INTERVAL_SECONDS": "1",
        # The worker's data dir is its own; the key that sealed the peer's secret is c's.
        "ALLIANCE_FEDERATION_SEALING_KEY_FILE": str(c.settings.federation_sealing_key_file),
    }
    if BROKER_URL and c.settings.database_url.startswith("postgresql"):
        env["ALLIANCE_BROKER_URL"] = BROKER_URL
    proc = start_worker(env, tmp_path)
    try:
        peer = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            peer = await c.read(lambda s: repo.peer_by_name(s, "a-beat"))
            if peer.last_pulled_at is not None and str(made.id) in await _copies(c):
                break
            await asyncio.sleep(0.5)
    finally:
        output = stop_worker(proc)
    assert peer is not None
    assert str(made.id) in await _copies(c), f"no pull brought the object; worker said:\n{output}"
    assert peer.last_error is None


def _rule_definition(name: str, *keywords: str) -> dict[str, Any]:
    return {
        "name": name,
        "decision": "PROHIBIT",
        "rationale": "SAFETY",
        "keywords": {"any_of": list(keywords)},
    }


async def _rule_copies(instance: Instance) -> dict[str, tuple[Provenance, Rule]]:
    async def read(session: AsyncSession) -> dict[str, tuple[Provenance, Rule]]:
        rows = list(await session.scalars(select(Provenance).where(Provenance.kind == RULE_KIND)))
        found = await repo.rules_by_ids(session, [uuid.UUID(p.local_id) for p in rows])
        by_id = {str(r.id): r for r in found}
        return {p.origin_object_id: (p, by_id[p.local_id]) for p in rows}

    return await instance.read(read)


async def test_rules_cross_update_and_retire_and_restricted_ones_stay_home(
    triangle: dict[str, Instance],
) -> None:
    a, b = triangle["a"], triangle["b"]
    if not await _has_peer(b, "a"):
        await b.add_peer(a)
    group = await _group_id(a, "acme-motors")
    acme = await a.organisation("acme-motors")

    async def propose(distribution: str, tlp: str, name: str) -> uuid.UUID:
        async def work(session: AsyncSession) -> uuid.UUID:
            rule, _ = await rules.create_rule(
                session,
                None,
                working_group_id=group,
                owner_org_id=acme.id,
                definition=_rule_definition(name, "airbag"),
                distribution=distribution,
                tlp=tlp,
            )
            await rules.activate_rule(session, None, rule.id)
            return rule.id

        return await a.write(work)

    shared = await propose("FEDERATION", "GREEN", "Airbag modules")
    kept_home = [
        await propose("FEDERATION", "AMBER", "Amber rule"),
        await propose("FEDERATION", "RED", "Red rule"),
        await propose("WORKING_GROUP", "GREEN", "Group rule"),
    ]

    await _pull(b, "a")
    copies = await _rule_copies(b)
    assert set(copies) == {str(shared)}
    assert not {str(k) for k in kept_home} & set(copies)
    provenance, copy = copies[str(shared)]
    assert provenance.origin_instance_id == a.instance_id
    assert copy.owner_org_id == (await b.organisation("peer-a")).id
    assert (copy.distribution, copy.tlp, copy.status) == ("FEDERATION", "GREEN", "ACTIVE")
    slug_on_a = (await a.read(lambda s: repo.working_groups_by_ids(s, [group])))[group].slug
    group_on_b = await b.read(lambda s: repo.working_groups_by_ids(s, [copy.working_group_id]))
    assert group_on_b[copy.working_group_id].slug == slug_on_a

    # A new version in force on A becomes a new version in force on B.
    async def revise(session: AsyncSession) -> None:
        await rules.update_rule(
            session, None, shared, definition=_rule_definition("Airbag modules", "airbag", "srs")
        )
        await rules.activate_rule(session, None, shared)

    await a.write(revise)
    report = await _pull(b, "a")
    assert report.outcomes.get("UPDATED", 0) >= 1
    _, copy = (await _rule_copies(b))[str(shared)]
    assert copy.active_version == 2
    assert copy.status == RuleStatus.ACTIVE

    # Retired on A: retired on B.
    await a.write(lambda s: rules.retire_rule(s, None, shared))
    report = await _pull(b, "a")
    assert report.outcomes.get("REVOKED") == 1
    provenance, copy = (await _rule_copies(b))[str(shared)]
    assert copy.status == RuleStatus.RETIRED
    assert copy.active_version is None
    assert provenance.origin_version == 5


async def _guide_copies(instance: Instance) -> dict[str, tuple[Provenance, Guide]]:
    async def read(session: AsyncSession) -> dict[str, tuple[Provenance, Guide]]:
        rows = list(await session.scalars(select(Provenance).where(Provenance.kind == GUIDE_KIND)))
        found = await guides_repo.guides_by_ids(session, [uuid.UUID(p.local_id) for p in rows])
        by_id = {str(g.id): g for g in found}
        return {p.origin_object_id: (p, by_id[p.local_id]) for p in rows}

    return await instance.read(read)


async def test_published_guides_cross_without_restricted_tiers_and_archiving_retires(
    triangle: dict[str, Instance],
) -> None:
    a, b = triangle["a"], triangle["b"]
    if not await _has_peer(b, "a"):
        await b.add_peer(a)
    group = await _group_id(a, "acme-motors")
    acme = await a.organisation("acme-motors")
    content = {
        "title": "Genuine airbag modules",
        "summary": "first",
        "features": [
            {"id": "hologram", "title": "Hologram", "text": "overt"},
            {"id": "microtext", "title": "Microtext", "tier": "COVERT", "text": "covert"},
        ],
    }

    async def write_guide(distribution: str, tlp: str) -> uuid.UUID:
        async def work(session: AsyncSession) -> uuid.UUID:
            guide = await guides.create_guide(
                session,
                None,
                working_group_id=group,
                owner_org_id=acme.id,
                content=content,
                distribution=distribution,
                tlp=tlp,
            )
            await guides.submit_for_review(session, None, guide.id)
            await guides.approve(session, None, guide.id)
            await guides.publish(session, None, guide.id)
            return guide.id

        return await a.write(work)

    shared = await write_guide("FEDERATION", "GREEN")
    kept_home = [
        await write_guide("FEDERATION", "AMBER"),
        await write_guide("FEDERATION", "RED"),
        await write_guide("WORKING_GROUP", "GREEN"),
    ]
    await _pull(b, "a")
    copies = await _guide_copies(b)
    assert str(shared) in copies
    assert not {str(k) for k in kept_home} & set(copies)
    _, copy = copies[str(shared)]
    assert copy.owner_org_id == (await b.organisation("peer-a")).id
    assert (copy.distribution, copy.tlp, copy.status) == ("FEDERATION", "GREEN", "PUBLISHED")
    assert copy.published_version is not None
    published = await b.read(lambda s: guides_repo.version(s, copy.id, copy.published_version))
    assert [f["id"] for f in published.content["features"]] == ["hologram"]
    assert "covert" not in json.dumps(published.content)

    # A newer published version on A becomes a new published version on B.
    async def revise(session: AsyncSession) -> None:
        await guides.update_draft(session, None, shared, content={**content, "summary": "second"})
        await guides.submit_for_review(session, None, shared)
        await guides.approve(session, None, shared)
        await guides.publish(session, None, shared)

    await a.write(revise)
    await _pull(b, "a")
    _, copy = (await _guide_copies(b))[str(shared)]
    assert copy.published_version == 2
    latest = await b.read(lambda s: guides_repo.version(s, copy.id, 2))
    assert latest.content["summary"] == "second"
    first = await b.read(lambda s: guides_repo.version(s, copy.id, 1))
    assert first.content["summary"] == "first"

    # Archived on A: archived on B.
    await a.write(lambda s: guides.archive(s, None, shared))
    report = await _pull(b, "a")
    assert report.outcomes.get("REVOKED") == 1
    _, copy = (await _guide_copies(b))[str(shared)]
    assert copy.status == "ARCHIVED"
