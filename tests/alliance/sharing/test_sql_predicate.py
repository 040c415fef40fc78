"""The SQL predicate selects exactly what ``can_see`` admits, on SQLite and PostgreSQL.

Rows go into ``change_log`` (which carries the four visibility fields) inside the test's
rolled-back transaction; each test tags its rows with a kind of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, Visibility, can_see, sql_predicate
from tests.alliance.sharing.matrix import EDGE_CASES, RELATIONS, expected, matrix_object
from tests.alliance.sharing.test_policy import objects, viewers


async def insert(session: AsyncSession, kind: str, objs: Sequence[Visibility]) -> list[int]:
    rows = [
        ChangeLogEntry(
            kind=kind,
            object_id=str(index),
            version=1,
            operation=Operation.CREATE,
            owner_org_id=obj.owner_org_id,
            working_group_id=obj.working_group_id,
            distribution=obj.distribution,
            tlp=obj.tlp,
        )
        for index, obj in enumerate(objs)
    ]
    session.add_all(rows)
    await session.flush()
    return [row.seq for row in rows]


def predicate(viewer: Viewer):  # type: ignore[no-untyped-def]
    return sql_predicate(
        viewer,
        ChangeLogEntry.owner_org_id,
        ChangeLogEntry.working_group_id,
        ChangeLogEntry.distribution,
        ChangeLogEntry.tlp,
    )


async def selected(session: AsyncSession, kind: str, viewer: Viewer, *, negate=False) -> set[int]:
    condition = not_(predicate(viewer)) if negate else predicate(viewer)
    rows = await session.scalars(
        select(ChangeLogEntry.seq).where(ChangeLogEntry.kind == kind, condition)
    )
    return set(rows)


GRID = [(d, t) for d in Distribution for t in TLP]


async def test_the_predicate_follows_the_matrix(session: AsyncSession) -> None:
    objs = [matrix_object(d, t) for d, t in GRID] + [obj for obj, _ in EDGE_CASES]
    seqs = await insert(session, "sharing.matrix", objs)
    by_seq = dict(zip(seqs, objs, strict=True))

    for relation, viewer in RELATIONS.items():
        seen = await selected(session, "sharing.matrix", viewer)

        grid_expected = {
            seq
            for seq, (d, t) in zip(seqs[: len(GRID)], GRID, strict=True)
            if expected(d, t)[relation]
        }
        edge_expected = {
            seq
            for seq, (_obj, seen_by) in zip(seqs[len(GRID) :], EDGE_CASES, strict=True)
            if relation in seen_by
        }
        assert seen == grid_expected | edge_expected, relation
        assert seen == {seq for seq, obj in by_seq.items() if can_see(viewer, obj)}, relation


async def test_the_predicate_is_two_valued(session: AsyncSession) -> None:
    """``NOT predicate`` selects the rest, nulls included: finding who lost access relies on it."""
    objs = [matrix_object(d, t) for d, t in GRID] + [obj for obj, _ in EDGE_CASES]
    seqs = set(await insert(session, "sharing.negated", objs))

    for relation, viewer in RELATIONS.items():
        seen = await selected(session, "sharing.negated", viewer)
        hidden = await selected(session, "sharing.negated", viewer, negate=True)
        assert seen | hidden == seqs, relation
        assert not seen & hidden, relation


async def test_anonymous_selects_nothing_even_from_a_wide_open_log(session: AsyncSession) -> None:
    await insert(
        session, "sharing.open", [Visibility(None, None, Distribution.FEDERATION, TLP.CLEAR)]
    )

    assert await selected(session, "sharing.open", Viewer.anonymous()) == set()
    assert len(await selected(session, "sharing.open", Viewer.federated_peer())) == 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    viewer_list=st.lists(viewers, min_size=1, max_size=4),
    objs=st.lists(objects, min_size=1, max_size=25),
)
async def test_for_random_viewers_and_objects_sql_selects_what_can_see_admits(
    session: AsyncSession, viewer_list: list[Viewer], objs: list[Visibility]
) -> None:
    kind = f"sharing.random.{uuid.uuid4().hex[:12]}"
    seqs = await insert(session, kind, objs)

    for viewer in viewer_list:
        admitted = {seq for seq, obj in zip(seqs, objs, strict=True) if can_see(viewer, obj)}
        assert await selected(session, kind, viewer) == admitted
