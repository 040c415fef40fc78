"""The orphan collector on the migrated schema (both databases): it removes blob, thumbnail and
evidence files no row refers to once they are past the grace period, and nothing else."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alliance.blobs import orphans, service
from alliance.blobs.errors import UnsupportedStore
from alliance.blobs.orphans import RemovalReason
from alliance.blobs.storage import blob_key, thumbnail_key
from alliance.cases import evidence_store
from alliance.cases import service as cases
from alliance.config import load_settings
from alliance.db import commit
from alliance.indicators import service as indicators
from tests.alliance.blobs import samples
from tests.alliance.blobs.conftest import stored_files

HOURS = 3600.0


def backdate(*paths: Path, seconds: float = 2 * HOURS) -> None:
    """Make files look as old as a file left by an upload that rolled back long ago."""
    moment = time.time() - seconds
    for path in paths:
        os.utime(path, (moment, moment))


def removed(report: orphans.SweepReport) -> set[tuple[str, str, RemovalReason]]:
    return {(r.store, r.key, r.reason) for r in report.removed}


@pytest.fixture
def acme(demo):
    return demo["orgs"]["acme-motors"]


async def test_a_rolled_back_upload_leaves_a_file_removed_after_the_grace_period_not_before(
    session, sessions, settings, acme
) -> None:
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.png", data=samples.png()
    )
    key, size = blob_key(blob.sha256), blob.size
    await session.rollback()
    path = settings.blobs_dir / key
    assert path.is_file(), "the file is written before its row"

    young = await orphans.sweep(sessions, settings)
    assert (young.examined, young.within_grace, young.removed) == (1, 1, [])
    assert path.is_file()

    backdate(path, seconds=settings.blobs.orphan_grace_seconds - 60)
    assert (await orphans.sweep(sessions, settings)).removed == []
    assert path.is_file()

    backdate(path, seconds=settings.blobs.orphan_grace_seconds + 60)
    report = await orphans.sweep(sessions, settings)
    assert removed(report) == {("blobs", key, RemovalReason.UNREFERENCED)}
    assert report.bytes_freed == size
    assert stored_files(settings.blobs_dir) == []


async def test_referenced_files_and_their_thumbnails_are_never_removed(
    session, sessions, settings, acme
) -> None:
    photos = []
    for seed in range(5):
        data = samples.encoded(samples.photo(240, 180, seed=seed), "PNG")
        blob = await service.store_upload(
            session, settings=settings, owner_org_id=acme.id, filename="p.png", data=data
        )
        photos.append(blob)
    await commit(session)
    for blob in photos:
        await service.make_thumbnail(session, settings=settings, blob_id=blob.id)
    await commit(session)
    files = stored_files(settings.blobs_dir)
    assert len(files) == 10
    backdate(*files, seconds=365 * 24 * HOURS)

    # Pages smaller than the store: each page is looked up on its own.
    report = await orphans.sweep(sessions, settings, page_size=3)
    assert (report.examined, report.referenced, report.removed) == (10, 10, [])
    assert stored_files(settings.blobs_dir) == files


async def test_a_file_shared_by_two_rows_goes_only_with_the_last_of_them(
    session, sessions, settings, demo, acme
) -> None:
    data = samples.png()
    first = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="a.png", data=data
    )
    second = await service.store_upload(
        session,
        settings=settings,
        owner_org_id=demo["orgs"]["shopmart"].id,
        filename="b.png",
        data=data,
    )
    await commit(session)
    assert first.sha256 == second.sha256
    await service.make_thumbnail(session, settings=settings, blob_id=first.id)
    await commit(session)
    path = settings.blobs_dir / blob_key(first.sha256)
    thumbnail = settings.blobs_dir / thumbnail_key(first.sha256)

    await session.delete(first)
    await commit(session)
    backdate(path, thumbnail)
    report = await orphans.sweep(sessions, settings)
    assert (report.referenced, report.removed) == (2, [])
    assert path.is_file()
    assert thumbnail.is_file()

    await session.delete(second)
    await commit(session)
    report = await orphans.sweep(sessions, settings)
    assert removed(report) == {
        ("blobs", blob_key(first.sha256), RemovalReason.UNREFERENCED),
        ("blobs", thumbnail_key(first.sha256), RemovalReason.UNREFERENCED),
    }
    assert stored_files(settings.blobs_dir) == []


async def test_a_dry_run_lists_what_it_would_remove_and_removes_nothing(
    session, sessions, settings, acme
) -> None:
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.png", data=samples.png()
    )
    await session.rollback()
    files = stored_files(settings.blobs_dir)
    backdate(*files)

    report = await orphans.sweep(sessions, settings, dry_run=True)
    assert report.dry_run
    assert removed(report) == {("blobs", blob_key(blob.sha256), RemovalReason.UNREFERENCED)}
    assert report.bytes_freed == blob.size
    assert stored_files(settings.blobs_dir) == files


async def test_a_shorter_grace_period_may_be_asked_for(session, sessions, settings, acme) -> None:
    await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.png", data=samples.png()
    )
    await session.rollback()
    backdate(*stored_files(settings.blobs_dir), seconds=10 * 60)
    assert (await orphans.sweep(sessions, settings)).removed == []
    report = await orphans.sweep(sessions, settings, grace_seconds=5 * 60)
    assert len(report.removed) == 1
    assert report.grace_seconds == 5 * 60


async def test_evidence_no_row_refers_to_is_removed_and_recorded_evidence_kept(
    sessions, session, settings, demo, acme
) -> None:
    group = demo["groups"]["automotive-parts"]
    kept = await evidence_store.store_bytes(settings.data_dir, b"receipt of a recorded buy")
    viewer = await indicators.viewer_of_organisation(session, acme.id)
    await cases.record_test_buy(
        session,
        viewer,
        cases.TestBuyData(
            purchased_at=datetime.now(UTC) - timedelta(days=1),
            platform="shopee",
            seller="s",
            order_number="o-1",
            verdict="COUNTERFEIT",
            working_group_id=group.id,
            attachments=[cases.Attachment(kept, "receipt.txt")],
        ),
        actor="test",
    )
    await commit(session)
    # Received, then the mutation failed: the file stays, no row refers to it.
    lost = await evidence_store.store_bytes(settings.data_dir, b"receipt of a refused buy")
    store = evidence_store.evidence_dir(settings.data_dir)
    files = [evidence_store.path_of(settings.data_dir, s.sha256) for s in (kept, lost)]
    backdate(*files)

    report = await orphans.sweep(sessions, settings)
    lost_key = f"{lost.sha256[:2]}/{lost.sha256}"
    assert removed(report) == {("evidence", lost_key, RemovalReason.UNREFERENCED)}
    assert report.bytes_freed == lost.size
    assert report.referenced == 1
    assert stored_files(store) == [files[0]]
    assert evidence_store.read_bytes(settings.data_dir, kept.sha256) == b"receipt of a recorded buy"


async def test_leftover_temporary_files_go_and_files_the_stores_did_not_make_stay(
    sessions, settings
) -> None:
    blobs, evidence = settings.blobs_dir, evidence_store.evidence_dir(settings.data_dir)
    old_upload = blobs / "ab" / "cd" / ".upload-x1.tmp"
    young_upload = blobs / "ab" / "cd" / ".upload-x2.tmp"
    old_incoming = evidence / evidence_store.INCOMING / "tmpa8b2"
    foreign = [blobs / "notes.txt", blobs / "ab" / "cd" / "not-a-hash", evidence / "ab" / "x"]
    for path in [old_upload, young_upload, old_incoming, *foreign]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    backdate(old_upload, old_incoming, *foreign)

    report = await orphans.sweep(sessions, settings)
    assert removed(report) == {
        ("blobs", "ab/cd/.upload-x1.tmp", RemovalReason.LEFTOVER_TEMPORARY),
        ("evidence", "incoming/tmpa8b2", RemovalReason.LEFTOVER_TEMPORARY),
    }
    assert report.within_grace == 1
    assert young_upload.is_file()
    assert all(path.is_file() for path in foreign)


async def test_a_new_upload_of_orphaned_bytes_renews_the_file(session, settings, acme) -> None:
    """What keeps the collector from taking a file whose row is about to commit: the write
    before every new row leaves the file young."""
    data = samples.png()
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.png", data=data
    )
    await session.rollback()
    path = settings.blobs_dir / blob_key(blob.sha256)
    backdate(path)
    await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.png", data=data
    )
    assert path.stat().st_mtime > time.time() - 60


def test_a_file_renewed_while_being_taken_is_put_back(tmp_path: Path) -> None:
    path = tmp_path / "ab" / "cd" / ("ab" + "0" * 62)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"bytes")
    cutoff = time.time() - HOURS
    assert orphans._take_away(path, cutoff) is orphans._Outcome.RENEWED
    assert path.read_bytes() == b"bytes"
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    backdate(path)
    assert orphans._take_away(path, cutoff) is orphans._Outcome.REMOVED
    assert list(path.parent.iterdir()) == []
    assert orphans._take_away(path, cutoff) is orphans._Outcome.GONE


async def test_an_s3_store_is_refused_and_nothing_is_touched(
    session, sessions, settings, acme
) -> None:
    await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.png", data=samples.png()
    )
    await session.rollback()
    files = stored_files(settings.blobs_dir)
    backdate(*files)
    on_s3 = settings.model_copy(
        update={"blobs": settings.blobs.model_copy(update={"url": "s3://guide-photos"})}
    )
    with pytest.raises(UnsupportedStore, match="filesystem blob store only"):
        await orphans.sweep(sessions, on_s3)
    assert stored_files(settings.blobs_dir) == files


def test_the_grace_period_is_a_setting(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.blobs.orphan_grace_seconds == HOURS
    monkeypatch.setenv("ALLIANCE_BLOBS_ORPHAN_GRACE_SECONDS", "600")
    assert load_settings().blobs.orphan_grace_seconds == 600
