"""The change feed's rule: changes, removals for who lost access, and rows addressed to one
organisation. ``feed_view`` (one row) and ``feed_predicate`` (SQL) agree, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.changelog.repository import FEED_COLUMNS
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import (
    FeedView,
    Viewer,
    Visibility,
    can_see,
    feed_predicate,
    feed_view,
    narrows,
)
from tests.alliance.sharing.matrix import GROUP, NO_SEAT_ORG, OTHER_GROUP, OWNER, RELATIONS
from tests.alliance.sharing.test_policy import GROUP_POOL, ORG_POOL, objects, viewers

D, T = Distribution, TLP

Row = tuple[Visibility, Visibility | None, uuid.UUID | None]

rows = st.tuples(
    objects,
    st.one_of(st.none(), objects),
    st.one_of(st.none(), st.sampled_from(ORG_POOL)),
)


def test_a_lowered_distribution_is_a_removal_for_exactly_those_who_lost_it() -> None:
    before = Visibility(OWNER, GROUP, D.ALLIANCE, T.GREEN)
    after = Visibility(OWNER, GROUP, D.WORKING_GROUP, T.GREEN)

    views = {relation: feed_view(viewer, after, before) for relation, viewer in RELATIONS.items()}

    assert views == {
        "owner": FeedView.CHANGE,
        "chair": FeedView.CHANGE,
        "member": FeedView.CHANGE,
        "observer": FeedView.CHANGE,
        "other-group": FeedView.REMOVAL,
        "no-seat": FeedView.REMOVAL,
        "peer": FeedView.HIDDEN,
        "anonymous": FeedView.HIDDEN,
    }


def test_a_row_addressed_to_one_organisation_reaches_it_alone() -> None:
    obj = Visibility(OWNER, GROUP, D.WORKING_GROUP, T.AMBER)

    views = {r: feed_view(v, obj, None, NO_SEAT_ORG) for r, v in RELATIONS.items()}

    assert views == {r: FeedView.REMOVAL if r == "no-seat" else FeedView.HIDDEN for r in RELATIONS}


@given(st.lists(viewers, min_size=1, max_size=6), objects, objects)
def test_whenever_a_viewer_loses_sight_the_change_narrows(
    viewer_list: list[Viewer], before: Visibility, after: Visibility
) -> None:
    if any(can_see(v, before) and not can_see(v, after) for v in viewer_list):
        assert narrows(before, after)
    if not narrows(before, after):
        assert all(can_see(v, after) for v in viewer_list if can_see(v, before))


def test_widening_and_equal_visibility_do_not_narrow() -> None:
    group = Visibility(OWNER, GROUP, D.WORKING_GROUP, T.RED)
    assert not narrows(group, Visibility(OWNER, GROUP, D.ALLIANCE, T.RED))
    assert not narrows(group, group)
    assert narrows(
        Visibility(OWNER, GROUP, D.FEDERATION, T.GREEN),
        Visibility(OWNER, GROUP, D.FEDERATION, T.AMBER),
    )


async def insert(session: AsyncSession, kind: str, entries: Sequence[Row]) -> list[int]:
    models = [
        ChangeLogEntry(
            kind=kind,
            object_id=str(index),
            version=1,
            operation=Operation.UPDATE,
            owner_org_id=current.owner_org_id,
            working_group_id=current.working_group_id,
            distribution=current.distribution,
            tlp=current.tlp,
            prev_owner_org_id=previous.owner_org_id if previous else None,
            prev_working_group_id=previous.working_group_id if previous else None,
            prev_distribution=previous.distribution if previous else None,
            prev_tlp=previous.tlp if previous else None,
            audience_org_id=audience,
        )
        for index, (current, previous, audience) in enumerate(entries)
    ]
    session.add_all(models)
    await session.flush()
    return [m.seq for m in models]


async def selected(
    session: AsyncSession, kind: str, viewer: Viewer, groups: list[uuid.UUID] | None = None
) -> set[int]:
    found = await session.scalars(
        select(ChangeLogEntry.seq).where(
            ChangeLogEntry.kind == kind,
            feed_predicate(viewer, FEED_COLUMNS, working_group_ids=groups),
        )
    )
    return set(found)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    viewer_list=st.lists(viewers, min_size=1, max_size=4),
    entries=st.lists(rows, max_size=25),
    groups=st.one_of(st.none(), st.lists(st.sampled_from(GROUP_POOL), max_size=2)),
)
async def test_the_sql_predicate_selects_what_feed_view_does_not_hide(
    session: AsyncSession,
    viewer_list: list[Viewer],
    entries: list[Row],
    groups: list[uuid.UUID] | None,
) -> None:
    kind = f"feed.random.{uuid.uuid4().hex[:12]}"
    seqs = await insert(session, kind, entries)

    for viewer in viewer_list:
        shown = {
            seq
            for seq, (current, previous, audience) in zip(seqs, entries, strict=True)
            if feed_view(viewer, current, previous, audience, working_group_ids=groups)
            != FeedView.HIDDEN
        }
        assert await selected(session, kind, viewer, groups) == shown


def test_a_group_filter_never_tells_where_a_lost_object_went() -> None:
    """Moved from ALLIANCE in GROUP to WORKING_GROUP in OTHER_GROUP: the no-seat viewer reads a
    removal under GROUP, and nothing at all under OTHER_GROUP."""
    before = Visibility(OWNER, GROUP, D.ALLIANCE, T.GREEN)
    after = Visibility(OWNER, OTHER_GROUP, D.WORKING_GROUP, T.GREEN)
    viewer = RELATIONS["no-seat"]

    assert feed_view(viewer, after, before, working_group_ids=[GROUP]) == FeedView.REMOVAL
    assert feed_view(viewer, after, before, working_group_ids=[OTHER_GROUP]) == FeedView.HIDDEN
    assert feed_view(RELATIONS["other-group"], after, before, working_group_ids=[OTHER_GROUP]) == (
        FeedView.CHANGE
    )


async def test_the_relations_on_a_hand_made_log(session: AsyncSession) -> None:
    lowered = (
        Visibility(OWNER, GROUP, D.ORGANISATION, T.AMBER),
        Visibility(OWNER, GROUP, D.WORKING_GROUP, T.AMBER),
        None,
    )
    unfederated = (
        Visibility(OWNER, None, D.ALLIANCE, T.GREEN),
        Visibility(OWNER, None, D.FEDERATION, T.GREEN),
        None,
    )
    addressed = (Visibility(OWNER, GROUP, D.WORKING_GROUP, T.AMBER), None, NO_SEAT_ORG)
    seq_lowered, seq_unfederated, seq_addressed = await insert(
        session, "feed.hand", [lowered, unfederated, addressed]
    )

    seen = {r: await selected(session, "feed.hand", v) for r, v in RELATIONS.items()}

    assert seen == {
        "owner": {seq_lowered, seq_unfederated},
        "chair": {seq_lowered, seq_unfederated},
        "member": {seq_lowered, seq_unfederated},
        "observer": {seq_lowered, seq_unfederated},
        "other-group": {seq_unfederated},
        "no-seat": {seq_unfederated, seq_addressed},
        "peer": {seq_unfederated},
        "anonymous": set(),
    }
