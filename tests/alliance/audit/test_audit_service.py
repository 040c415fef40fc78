"""The audit log: written with the transaction or not at all, one entry per change, denials
kept although their request rolls back, and one unforked chain under concurrent writers."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from alliance import migrate
from alliance.audit import service as audit
from alliance.audit.chain import GENESIS_HASH, Problem, entry_hash
from alliance.audit.models import AuditEntry
from alliance.changelog import service as changelog
from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.db import AllianceSession, make_engine, make_sessionmaker, unit_of_work
from alliance.observability.context import Caller, begin_request, end_request, set_caller
from alliance.orgs import service
from alliance.orgs.models import MembershipRole, OrganisationKind
from alliance.sharing import TLP, Distribution
from tests.conftest import BACKENDS, create_fresh_database


def org(slug: str) -> service.OrganisationData:
    return service.OrganisationData(slug=slug, name=slug.title(), kind=OrganisationKind.BRAND)


async def entries_after(session, seq: int) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(
        await session.scalars(
            select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
        )
    )


async def head(sessions) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as s:
        return int(await s.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))))


async def test_a_committed_write_leaves_one_entry_per_change(sessions) -> None:
    before = await head(sessions)
    async with unit_of_work(sessions) as s:
        created = await service.create_organisation(s, None, org("audited-org"))
        group = await service.create_working_group(
            s, None, service.WorkingGroupData(slug="audited-wg", name="Audited", sector="test")
        )
        seat = await service.add_working_group_member(
            s, None, working_group_id=group.id, organisation_id=created.id, role="CHAIR"
        )
    async with sessions() as s:
        entries = await entries_after(s, before)
        changes = list(
            await s.scalars(
                select(ChangeLogEntry).order_by(ChangeLogEntry.seq.desc()).limit(len(entries))
            )
        )

    assert [(e.action, e.target_kind, e.target_id) for e in entries] == [
        ("organisation.create", "organisation", str(created.id)),
        ("working_group.create", "working_group", str(group.id)),
        ("membership.create", "membership", str(seat.id)),
    ]
    assert len(changes) == 3
    assert entries[2].detail == {
        "version": 1,
        "distribution": "ALLIANCE",
        "tlp": "GREEN",
        "owner_org_id": str(created.id),
        "working_group_id": str(group.id),
    }
    assert all(e.outcome == "allowed" for e in entries)
    assert [e.seq for e in entries] == [before + 1, before + 2, before + 3]
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    assert all(entry_hash(e) == e.entry_hash for e in entries)


async def test_a_rolled_back_write_leaves_no_entry(sessions) -> None:
    before = await head(sessions)
    with pytest.raises(RuntimeError, match="abandon"):
        async with unit_of_work(sessions) as s:
            await service.create_organisation(s, None, org("never-audited"))
            audit.record(s, action="test.explicit", target_kind="test", target_id="x")
            await changelog.write_pending_changes(s)  # the change's audit entry is now buffered
            assert [e.action for e in audit.pending_entries(s)] == [
                "test.explicit",
                "organisation.create",
            ]
            raise RuntimeError("abandon the transaction")
    assert await head(sessions) == before


async def test_a_rollback_drops_buffered_entries_before_the_next_commit(sessions) -> None:
    before = await head(sessions)
    async with sessions() as s:
        audit.record(s, action="test.dropped")
        await service.create_organisation(s, None, org("dropped"))
        await s.rollback()
        assert audit.pending_entries(s) == ()
        await s.commit()
    assert await head(sessions) == before


async def test_the_caller_and_request_id_come_from_the_request_context(sessions) -> None:
    person, organisation = uuid.uuid4(), uuid.uuid4()
    state, token = begin_request("req-audit-0001")
    try:
        set_caller(
            Caller(
                actor=f"person:{person}@acme-motors",
                organisation_id=organisation,
                person_id=person,
                client_id="portal",
            )
        )
        async with unit_of_work(sessions) as s:
            audit.record(s, action="test.context", detail={"when": "now"})
            audit.record(s, action="test.named", actor="system", client_id="cron")
    finally:
        end_request(token)
    async with sessions() as s:
        named, contextual = (
            await s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2))
        ).all()
    assert (contextual.actor, contextual.person_id, contextual.organisation_id) == (
        f"person:{person}@acme-motors",
        person,
        organisation,
    )
    assert (contextual.client_id, contextual.request_id) == ("portal", state.request_id)
    # Naming anyone replaces the whole caller: no mix of the two.
    assert (named.actor, named.client_id, named.organisation_id, named.person_id) == (
        "system",
        "cron",
        None,
        None,
    )
    assert named.request_id == "req-audit-0001"


async def test_a_denial_recorded_after_the_rollback_is_kept(sessions) -> None:
    """The order ``run_mutation`` follows: roll the refused work back, then audit the denial."""
    before = await head(sessions)
    async with sessions() as s:
        await service.create_organisation(s, None, org("denied-write"))
        await s.rollback()
        await audit.record_now(
            sessions,
            action="test.denied",
            outcome=audit.Outcome.DENIED,
            actor="client:x@y",
            detail={"reason": "no"},
        )
    async with sessions() as s:
        [entry] = await entries_after(s, before)
    assert (entry.action, entry.outcome, entry.actor, entry.detail) == (
        "test.denied",
        "denied",
        "client:x@y",
        {"reason": "no"},
    )


@pytest.mark.parametrize("backend_name", BACKENDS)
async def test_a_denial_outlives_the_open_request_transaction(
    backend_name: str, tmp_path: Path
) -> None:
    """The order ``AccessExtension`` follows: the request's transaction is open (it has read)
    when the denial is written, and is rolled back afterwards. Separate connections, as in
    production (the per-test fixture would nest one transaction in the other)."""
    url, drop = await create_fresh_database(backend_name, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as request_session:
            assert await request_session.scalar(select(func.count()).select_from(AuditEntry)) == 0
            await audit.record_now(sessions, action="test.denied", outcome="denied")
            await request_session.rollback()
        async with sessions() as s:
            [entry] = await entries_after(s, 0)
    finally:
        await engine.dispose()
        if drop:
            await drop()
    assert (entry.seq, entry.action, entry.outcome) == (1, "test.denied", "denied")


async def test_misuse_is_refused_when_recorded(sessions) -> None:
    with Session() as plain, pytest.raises(TypeError, match="AllianceSession"):
        audit.record(plain, action="x")
    async with sessions() as s:
        with pytest.raises(ValueError, match="longer than 100"):
            audit.record(s, action="a" * 101)
        with pytest.raises(ValueError, match="needs an action"):
            audit.record(s, action="")
        with pytest.raises(ValueError, match="is not a valid Outcome"):
            audit.record(s, action="x", outcome="maybe")
        with pytest.raises(TypeError, match="not JSON serialisable"):
            audit.record(s, action="x", detail={"x": object()})
        assert audit.pending_entries(s) == ()


async def test_verify_chain_reports_an_intact_and_a_tampered_log(sessions) -> None:
    async with unit_of_work(sessions) as s:
        for n in range(5):
            audit.record(s, action="test.verify", target_id=str(n))
    async with sessions() as s:
        report = await audit.verify_chain(s, batch_size=2)
        assert report.ok
        assert report.verified == report.entries == report.head_seq
        last = (await entries_after(s, report.head_seq - 1))[0]
        assert report.head_hash == last.entry_hash
        await s.execute(
            update(AuditEntry).where(AuditEntry.seq == report.head_seq - 2).values(actor="mallory")
        )
        broken = await audit.verify_chain(s, batch_size=2)
    assert not broken.ok
    assert broken.broken is not None
    assert (broken.broken.seq, broken.broken.problem) == (report.head_seq - 2, Problem.ALTERED)
    assert broken.verified == report.head_seq - 3


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://").replace(
        "postgresql+asyncpg://", "postgresql+psycopg://"
    )


@pytest.mark.parametrize("backend_name", BACKENDS)
async def test_sync_sessions_and_concurrent_writers_share_one_unforked_chain(
    backend_name: str, tmp_path: Path
) -> None:
    """Async writers (some also writing the change log, some taking its lock early) and sync
    writers (the authorization server's sessions) commit at random moments into one chain."""
    url, drop = await create_fresh_database(backend_name, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url, pool_size=12)
    sessions = make_sessionmaker(engine)
    sync_engine = create_engine(
        sync_url(url), **({"connect_args": {"timeout": 30}} if backend_name == "sqlite" else {})
    )
    sync_sessions = sessionmaker(sync_engine, class_=AllianceSession)
    writers, per_writer, sync_writers = 6, 10, 2

    async def writer(n: int) -> int:
        rng, written = random.Random(n), 0
        for i in range(per_writer):
            async with unit_of_work(sessions) as s:
                audit.record(s, action="test.async", target_id=f"{n}-{i}")
                written += 1
                if i % 2 == 0:
                    changelog.record_change(
                        s,
                        kind="test",
                        object_id=f"{n}-{i}",
                        version=1,
                        operation=Operation.CREATE,
                        distribution=Distribution.ALLIANCE,
                        tlp=TLP.GREEN,
                    )
                    written += 1
                    if i % 4 == 0:
                        await changelog.write_pending_changes(s)
                await asyncio.sleep(rng.random() * 0.005)
        return written

    def sync_writer(n: int) -> int:
        for i in range(per_writer):
            if i % 2:
                audit.record_now_sync(sync_sessions, action="test.sync_now", target_id=f"{n}-{i}")
            else:
                with sync_sessions() as s, s.begin():
                    audit.record(s, action="test.sync", target_id=f"{n}-{i}")
        return per_writer

    try:
        counts = await asyncio.gather(
            *(writer(n) for n in range(writers)),
            *(asyncio.to_thread(sync_writer, n) for n in range(sync_writers)),
        )
        async with sessions() as s:
            report = await audit.verify_chain(s)
            seqs = list(await s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
            first = (await entries_after(s, 0))[0]
    finally:
        sync_engine.dispose()
        await engine.dispose()
        if drop:
            await drop()
    assert report.ok, report.broken
    assert report.entries == sum(counts)
    assert seqs == list(range(1, sum(counts) + 1))
    assert first.prev_hash == GENESIS_HASH


async def test_members_of_a_committed_unit_are_audited_in_order(sessions) -> None:
    """Changes and explicit entries of one transaction: explicit entries recorded before the
    commit come first, then the change log's, all in one contiguous run."""
    async with unit_of_work(sessions) as s:
        group = await service.create_working_group(
            s, None, service.WorkingGroupData(slug="ordered-wg", name="Ordered", sector="test")
        )
        for slug, role in (("ordered-a", MembershipRole.CHAIR), ("ordered-b", "MEMBER")):
            member = await service.create_organisation(s, None, org(slug))
            await service.add_working_group_member(
                s, None, working_group_id=group.id, organisation_id=member.id, role=role
            )
    before = await head(sessions)
    async with unit_of_work(sessions) as s:
        audit.record(s, action="test.before_changes")
        await service.change_working_group_role(
            s, None, working_group_id=group.id, organisation_id=member.id, role="OBSERVER"
        )
    async with sessions() as s:
        entries = await entries_after(s, before)
    assert [e.action for e in entries] == ["test.before_changes", "membership.update"]
