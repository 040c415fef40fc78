"""The indexer follows the change log: idempotent, resumable, and losing nothing while the
engine is away; the rebuild swaps a fresh index in; ``alliance search`` reports and rebuilds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.changelog import service as changelog
from alliance.db import unit_of_work
from alliance.orgs import repository as orgs_repo
from alliance.orgs import service as orgs
from alliance.orgs.models import OrganisationKind
from alliance.search import repository as cursor_repo
from alliance.sharing.policy import AllOf
from search import indexer
from search.backend import SearchUnavailable
from search.query import SearchQuery
from search.tantivy_backend import FORMAT_FILE, INDEX_FORMAT, TantivyBackend, _open_index
from tests.test_cli import clean_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def backend(tmp_path: Path) -> TantivyBackend:
    b = TantivyBackend(tmp_path / "search")
    await b.ensure_index()
    return b


async def database_documents(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """What the index must hold: every organisation and working group, at its newest change."""
    async with sessions() as s:
        newest: dict[tuple[str, str], int] = {}
        for change in await changelog.read_after(s, 0, 100_000):
            newest[(change.kind, change.object_id)] = change.seq
        orgs_page = await orgs_repo.page_organisations(s, kinds=None, after=None, limit=1000)
        groups_page = await orgs_repo.page_working_groups(s, after=None, limit=1000)
    wanted = {("organisation", str(o.id)) for o in orgs_page.items}
    wanted |= {("working_group", str(g.id)) for g in groups_page.items}
    return {f"{kind}:{oid}": newest[(kind, oid)] for kind, oid in wanted}


async def add_organisations(sessions: Any, *slugs: str) -> None:
    async with unit_of_work(sessions) as s:
        for slug in slugs:
            await orgs.create_organisation(
                s,
                None,
                orgs.OrganisationData(slug=slug, name=slug.title(), kind=OrganisationKind.BRAND),
            )


async def cursor_row(sessions: Any):
    async with sessions() as s:
        return await cursor_repo.read_cursor(s, indexer.CURSOR_NAME)


async def test_the_index_follows_the_change_log_idempotently(
    demo: dict[str, Any], sessions: Any, backend: TantivyBackend
) -> None:
    reports = await indexer.drain(sessions, backend, batch_size=7)
    assert len(reports) > 1, "small batches: the drain goes on until the log is empty"
    assert await backend.versions() == await database_documents(sessions)
    async with sessions() as s:
        state = await indexer.status(s, backend.name)
    assert state.lag == 0
    assert state.cursor == state.head
    # Nothing new: nothing read, nothing written.
    (again,) = await indexer.drain(sessions, backend)
    assert again.changes == 0
    # Replaying the whole log (a lost cursor) changes nothing: every write is versioned.
    async with unit_of_work(sessions) as s:
        await cursor_repo.set_cursor(s, indexer.CURSOR_NAME, 0)
    replay = await indexer.drain(sessions, backend)
    assert sum(r.applied for r in replay) == 0
    assert sum(r.stale for r in replay) > 0
    await add_organisations(sessions, "brand-new-brand")
    await indexer.drain(sessions, backend)
    hits = (await backend.search(SearchQuery("brand new", AllOf(())))).hits
    assert [h.kind for h in hits] == ["organisation"]
    assert await backend.versions() == await database_documents(sessions)


async def test_nothing_is_lost_while_the_backend_is_away(
    demo: dict[str, Any], sessions: Any, backend: TantivyBackend
) -> None:
    await indexer.drain(sessions, backend)
    # Another writer takes the index's lock: to this indexer the engine is gone.
    live = backend.root / (backend._pointer() or "")
    blocker = _open_index(live).writer(heap_size=15_000_000, num_threads=1)
    try:
        before = (await cursor_row(sessions)).seq
        for round_ in range(3):
            await add_organisations(sessions, f"written-while-down-{round_}")
            with pytest.raises(SearchUnavailable):
                await indexer.drain(sessions, backend)
            async with unit_of_work(sessions) as s:
                await indexer.record_failure(s, "search is away")
            row = await cursor_row(sessions)
            assert row.seq == before, "the cursor must not move past changes not indexed"
            assert row.last_error == "search is away"
    finally:
        blocker.rollback()
        blocker.wait_merging_threads()
    await add_organisations(sessions, "written-after-return")
    await indexer.drain(sessions, backend)
    assert await backend.versions() == await database_documents(sessions)
    row = await cursor_row(sessions)
    assert row.last_error is None
    for slug in ("written-while-down-0", "written-while-down-2", "written-after-return"):
        result = await backend.search(SearchQuery(slug.replace("-", " "), AllOf(()), limit=1))
        assert result.hits, slug


async def test_an_error_recorded_after_catching_up_is_cleared_by_the_next_run(
    demo: dict[str, Any], sessions: Any, backend: TantivyBackend
) -> None:
    await indexer.drain(sessions, backend)
    async with unit_of_work(sessions) as s:
        await indexer.record_failure(s, "a run that failed while another was writing")
    caught_up = (await cursor_row(sessions)).seq
    assert (await cursor_row(sessions)).last_error is not None
    reports = await indexer.drain(sessions, backend)
    assert [r.changes for r in reports] == [0]
    row = await cursor_row(sessions)
    assert (row.seq, row.last_error) == (caught_up, None)


async def test_a_reindex_rebuilds_from_the_database_and_sets_the_cursor_to_its_head(
    demo: dict[str, Any], sessions: Any, backend: TantivyBackend
) -> None:
    await indexer.drain(sessions, backend)
    old_index = backend._pointer()
    seen: dict[str, int] = {}
    report = await indexer.reindex(
        sessions,
        backend,
        page_size=2,
        progress=lambda k, n: seen.__setitem__(k, seen.get(k, 0) + n),
    )
    assert backend._pointer() != old_index
    db = await database_documents(sessions)
    assert report.documents == len(db) == sum(seen.values())
    assert set(seen) == {"organisation", "working_group", "indicator.assertion", "rule", "guide"}
    assert await backend.versions() == dict.fromkeys(db, report.version)
    assert (await cursor_row(sessions)).seq == report.version
    await add_organisations(sessions, "after-the-rebuild")
    await indexer.drain(sessions, backend)
    assert set(await backend.versions()) == set(await database_documents(sessions))


def test_the_search_commands(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "var", NO_COLOR="1")

    def cli(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "alliance.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("db", "upgrade")
    cli("demo")
    before = json.loads(cli("search", "status", "--json"))
    assert before["backend"] == "tantivy"
    assert before["change_log_head"] > 0
    assert before["lag"] == before["change_log_head"]
    rebuilt = json.loads(cli("search", "reindex", "--json"))
    # The directory (10), the demo indicators and rules, and the two demo guides with the four
    # indicators their counterfeit tells compiled into.
    assert rebuilt["documents"] == 32
    after = json.loads(cli("search", "status", "--json"))
    # The rebuild holds everything up to the head it started at: nothing is left to replay.
    assert after["indexed_cursor"] == before["change_log_head"]
    assert after["lag"] == 0
    text = cli("search", "status")
    assert "change-log head" in text
    assert "lag" in text


async def test_an_index_of_an_older_format_is_refused_until_rebuilt(
    demo: dict[str, Any], sessions: Any, tmp_path: Path
) -> None:
    """An index made before the pair tokens opens with the same schema yet would hide
    working-group documents: it is refused with the fix named, and a rebuild restores it."""
    old = TantivyBackend(tmp_path / "search")
    await old.ensure_index()
    await indexer.drain(sessions, old)
    live = old.root / (old._pointer() or "")
    (live / FORMAT_FILE).unlink()  # what an index of the first format looks like
    await old.close()
    backend = TantivyBackend(tmp_path / "search")
    with pytest.raises(SearchUnavailable, match="search reindex"):
        await backend.search(SearchQuery("", AllOf(())))
    await indexer.reindex(sessions, backend)
    assert (backend.root / (backend._pointer() or "") / FORMAT_FILE).read_text() == INDEX_FORMAT
    # A rebuild writes every document at the head it started from.
    assert (await backend.versions()).keys() == (await database_documents(sessions)).keys()
