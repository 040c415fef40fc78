"""The change log: written with the transaction or not at all, and never skippable by a reader."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from alliance import migrate
from alliance.audit.service import verify_chain
from alliance.changelog import service as changelog
from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.db import COPY_FROM, make_engine, make_sessionmaker, unit_of_work
from alliance.orgs import service
from alliance.orgs.models import OrganisationKind
from alliance.sharing import TLP, Distribution
from tests.conftest import BACKENDS, create_fresh_database


def org(slug: str) -> service.OrganisationData:
    return service.OrganisationData(slug=slug, name=slug.title(), kind=OrganisationKind.BRAND)


async def change_rows(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(ChangeLogEntry)))


async def test_a_committed_write_leaves_exactly_one_change(sessions) -> None:
    async with sessions() as s:
        before = await change_rows(s)
    async with unit_of_work(sessions) as s:
        created = await service.create_organisation(s, None, org("one-change"))
    async with sessions() as s:
        assert await change_rows(s) == before + 1
        entry = (
            await s.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.seq.desc()).limit(1))
        ).one()
    assert (entry.kind, entry.object_id, entry.version, entry.operation) == (
        "organisation",
        str(created.id),
        1,
        Operation.CREATE,
    )
    assert (entry.distribution, entry.tlp) == (Distribution.ALLIANCE, TLP.GREEN)


async def test_a_rolled_back_write_leaves_no_change(sessions) -> None:
    async with sessions() as s:
        before = await change_rows(s)
    with pytest.raises(RuntimeError, match="abandon"):
        async with unit_of_work(sessions) as s:
            await service.create_organisation(s, None, org("rolled-back"))
            assert len(changelog.pending_changes(s)) == 1
            raise RuntimeError("abandon the transaction")
    async with sessions() as s:
        assert await change_rows(s) == before
        assert await service.repo.organisation_by_slug(s, "rolled-back") is None


async def test_a_failed_service_call_buffers_nothing_for_the_next_commit(sessions) -> None:
    """A rollback must also drop buffered changes, or the next commit on the session would write them."""
    async with sessions() as s:
        before = await change_rows(s)
        await service.create_organisation(s, None, org("first-try"))
        await s.rollback()
        assert changelog.pending_changes(s) == ()
        await s.commit()
        assert await change_rows(s) == before


@pytest.mark.parametrize("backend_name", BACKENDS)
async def test_concurrent_writers_never_let_a_reader_skip_a_change(
    backend_name: str, tmp_path: Path
) -> None:
    """Many writers commit in random order while a reader follows the log by cursor.

    Without the commit-order guarantee a writer holding seq N could commit after one holding
    N+1, and a reader already at N+1 would never see N.
    """
    url, drop = await create_fresh_database(backend_name, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url, pool_size=12)
    sessions = make_sessionmaker(engine)
    writers, per_writer = 8, 15
    done = asyncio.Event()
    seen: list[int] = []

    async def writer(n: int) -> None:
        rng = random.Random(n)
        for i in range(per_writer):
            async with unit_of_work(sessions) as s:
                changelog.record_change(
                    s,
                    kind="test",
                    object_id=f"{n}-{i}",
                    version=1,
                    operation=Operation.CREATE,
                    distribution=Distribution.ALLIANCE,
                    tlp=TLP.GREEN,
                )
                # Take a sequence number now and hold the transaction open a random while,
                # so that without the commit-order lock, commits would land out of order.
                await changelog.write_pending_changes(s)
                await asyncio.sleep(rng.random() * 0.01)

    async def reader() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            async with sessions() as s:
                rows = await changelog.read_after(s, cursor, 1000)
            for row in rows:
                seen.append(row.seq)
                cursor = row.seq
            if finished and not rows:
                return
            await asyncio.sleep(0.001)

    try:
        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer(n) for n in range(writers)))
        done.set()
        await reading
        async with sessions() as s:
            committed = list(
                await s.scalars(select(ChangeLogEntry.seq).order_by(ChangeLogEntry.seq))
            )
    finally:
        await engine.dispose()
        if drop:
            await drop()
    assert len(committed) == writers * per_writer
    assert seen == committed, "the reader skipped changes that committed behind its cursor"


async def test_a_large_batch_of_changes_lands_whole_and_in_order(sessions) -> None:
    """A bulk import's chunk (over ``COPY_FROM`` changes; COPY on PostgreSQL, for the changes
    and their audit entries) lands every column of every change, in the order recorded, each
    with its audit entry, and the audit chain still verifies."""
    from alliance.audit.models import AuditEntry
    from alliance.sharing.policy import Visibility

    owner, group = uuid.uuid4(), uuid.uuid4()
    wide = Visibility(owner, None, Distribution.ALLIANCE, TLP.GREEN)
    count = COPY_FROM + 50
    ids = [uuid.uuid4() for _ in range(count)]
    async with sessions() as s:
        audit_before = int(await s.scalar(select(func.count()).select_from(AuditEntry)))
    async with unit_of_work(sessions) as s:
        for n, object_id in enumerate(ids):
            changelog.record_change(
                s,
                kind="indicator_assertion",
                object_id=object_id,
                version=n + 1,
                operation=Operation.REVOKE if n % 2 else Operation.CREATE,
                distribution=Distribution.WORKING_GROUP,
                tlp=TLP.AMBER,
                owner_org_id=owner,
                working_group_id=group if n % 3 else None,
                previous=wide if n % 2 else None,
                reason="FALSE_POSITIVE" if n % 2 else None,
            )
    async with sessions() as s:
        rows = list(
            await s.scalars(
                select(ChangeLogEntry)
                .where(ChangeLogEntry.owner_org_id == owner)
                .order_by(ChangeLogEntry.seq)
            )
        )
        audit_after = int(await s.scalar(select(func.count()).select_from(AuditEntry)))
        chain = await verify_chain(s)
        newest = list(
            await s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(count))
        )
    assert chain.ok, chain.broken
    assert [e.target_id for e in reversed(newest)] == [str(i) for i in ids]
    assert newest[0].detail["version"] == count
    assert newest[0].occurred_at.tzinfo is not None
    assert [r.object_id for r in rows] == [str(i) for i in ids]
    for n, r in enumerate(rows):
        assert (r.kind, r.version, r.operation) == (
            "indicator_assertion",
            n + 1,
            Operation.REVOKE if n % 2 else Operation.CREATE,
        )
        assert (r.distribution, r.tlp, r.working_group_id) == (
            Distribution.WORKING_GROUP,
            TLP.AMBER,
            group if n % 3 else None,
        )
        assert (r.prev_owner_org_id, r.prev_distribution, r.prev_tlp, r.reason) == (
            (owner, Distribution.ALLIANCE, TLP.GREEN, "FALSE_POSITIVE")
            if n % 2
            else (None, None, None, None)
        )
        assert r.occurred_at.tzinfo is not None
    assert audit_after == audit_before + count
