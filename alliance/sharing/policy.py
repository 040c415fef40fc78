"""The sharing policy: the one place that decides who may see an object and where it may travel.

The visibility rules are written once, in :func:`search_filter`, as a small filter tree over
an object's four visibility fields (owner organisation, working group, distribution, TLP).
Every reading of the rules comes from that tree: :func:`can_see` evaluates it for one
object, :func:`sql_predicate` compiles it to a SQLAlchemy expression, and the search
backends translate it to their own query languages. No read path filters on its own, so
no two paths can disagree (STYLE.md, habit 3).

Pure: no I/O. :mod:`alliance.sharing.service` loads a :class:`Viewer` from the database.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, true

from alliance.auth.principal import Principal
from alliance.orgs.models import MembershipRole
from alliance.sharing import TLP, Distribution

# A token carrying this scope belongs to a peer instance pulling what may cross federation.
FEDERATION_SCOPE = "federation"

# Distributions every organisation of this instance sees.
INSTANCE_WIDE = (Distribution.ALLIANCE, Distribution.FEDERATION)
# The only markings that may cross to a federated peer.
FEDERATION_TLPS = (TLP.CLEAR, TLP.GREEN)
CONTRIBUTING_ROLES = frozenset({MembershipRole.CHAIR, MembershipRole.MEMBER})


# --- who is looking --------------------------------------------------------------------------


class ViewerKind(enum.StrEnum):
    ANONYMOUS = "ANONYMOUS"
    MEMBER = "MEMBER"  # an organisation of this instance (a person or a client of it)
    FEDERATED_PEER = "FEDERATED_PEER"  # another alliance instance


@dataclass(frozen=True, slots=True)
class Seat:
    working_group_id: uuid.UUID
    role: MembershipRole


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, as plain data: hashable, so callers may cache per viewer."""

    kind: ViewerKind
    organisation_id: uuid.UUID | None = None
    seats: frozenset[Seat] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if (self.kind == ViewerKind.MEMBER) != (self.organisation_id is not None):
            raise ValueError("a member viewer has an organisation, and only a member viewer")
        if self.seats and self.kind != ViewerKind.MEMBER:
            raise ValueError("only a member viewer holds working-group seats")
        groups = [s.working_group_id for s in self.seats]
        if len(groups) != len(set(groups)):
            raise ValueError("an organisation holds at most one seat per working group")

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls(ViewerKind.ANONYMOUS)

    @classmethod
    def federated_peer(cls) -> Viewer:
        return cls(ViewerKind.FEDERATED_PEER)

    @classmethod
    def member(
        cls,
        organisation_id: uuid.UUID,
        seats: Iterable[Seat | tuple[uuid.UUID, MembershipRole]] = (),
    ) -> Viewer:
        return cls(
            ViewerKind.MEMBER,
            organisation_id,
            frozenset(
                s if isinstance(s, Seat) else Seat(s[0], MembershipRole(s[1])) for s in seats
            ),
        )

    @classmethod
    def for_principal(cls, principal: Principal | None, seats: Iterable[Seat]) -> Viewer:
        """``seats`` are the principal's organisation's seats in working groups.

        A token limited to some working groups keeps only its seats in those (it still sees
        what its organisation owns). A token with the federation scope is a peer instance's
        credential: it sees as a peer, whatever else it carries (the narrower view wins).
        """
        if principal is None:
            return cls.anonymous()
        if principal.has_scope(FEDERATION_SCOPE):
            return cls.federated_peer()
        limit = principal.working_group_ids
        return cls.member(
            principal.organisation_id,
            (s for s in seats if limit is None or s.working_group_id in limit),
        )

    @property
    def working_group_ids(self) -> frozenset[uuid.UUID]:
        """Groups in which the viewer holds any seat (chair, member or observer)."""
        return frozenset(s.working_group_id for s in self.seats)

    def role_in(self, working_group_id: uuid.UUID) -> MembershipRole | None:
        return next((s.role for s in self.seats if s.working_group_id == working_group_id), None)


ANONYMOUS = Viewer.anonymous()
FEDERATED_PEER = Viewer.federated_peer()


# --- what is looked at -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visibility:
    """The visibility fields every shared object (and its change-log rows) carries."""

    owner_org_id: uuid.UUID | None
    working_group_id: uuid.UUID | None
    distribution: Distribution
    tlp: TLP

    def value_of(self, name: FieldName) -> Any:
        return getattr(self, name.value)


class FieldName(enum.StrEnum):
    """The visibility fields, by the names search documents and tables give them."""

    OWNER_ORG_ID = "owner_org_id"
    WORKING_GROUP_ID = "working_group_id"
    DISTRIBUTION = "distribution"
    TLP = "tlp"


OPTIONAL_FIELDS = frozenset({FieldName.OWNER_ORG_ID, FieldName.WORKING_GROUP_ID})


# --- the filter tree ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Terms:
    """The field's value is one of ``values``. A missing (null) value never matches."""

    field: FieldName
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every clause matches; with no clauses, everything matches."""

    clauses: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Some clause matches; with no clauses, nothing matches."""

    clauses: tuple[Filter, ...]


Filter = Terms | AllOf | AnyOf

MATCH_NOTHING = AnyOf(())


def _terms(name: FieldName, values: Iterable[Any]) -> Terms:
    # Sorted, so a viewer always yields the same filter (and the same search-engine cache key).
    return Terms(name, tuple(sorted(set(values), key=str)))


@functools.lru_cache(maxsize=4096)
def search_filter(viewer: Viewer) -> Filter:
    """The rules: the objects ``viewer`` may see, as a backend-neutral filter.

    ====================  =============================================================
    distribution          who sees it
    ====================  =============================================================
    ORGANISATION          the owner organisation
    WORKING_GROUP         the owner, and organisations with any seat in the object's group
    ALLIANCE, FEDERATION  every organisation of this instance
    ====================  =============================================================

    A federated peer sees FEDERATION objects marked CLEAR or GREEN only; anonymous
    callers see nothing. Within the instance TLP does not narrow visibility; it governs
    where an object may travel next (:func:`may_travel`).
    """
    if viewer.kind == ViewerKind.ANONYMOUS:
        return MATCH_NOTHING
    if viewer.kind == ViewerKind.FEDERATED_PEER:
        return TRAVEL_RULES[Destination.FEDERATION]
    assert viewer.organisation_id is not None
    clauses: list[Filter] = [
        _terms(FieldName.DISTRIBUTION, INSTANCE_WIDE),
        _terms(FieldName.OWNER_ORG_ID, [viewer.organisation_id]),
    ]
    if viewer.seats:
        clauses.append(
            AllOf(
                (
                    _terms(FieldName.DISTRIBUTION, [Distribution.WORKING_GROUP]),
                    _terms(FieldName.WORKING_GROUP_ID, viewer.working_group_ids),
                )
            )
        )
    return AnyOf(tuple(clauses))


def matches(rule: Filter, visibility: Visibility) -> bool:
    """Evaluate a filter against one object."""
    if isinstance(rule, Terms):
        value = visibility.value_of(rule.field)
        return value is not None and value in rule.values
    if isinstance(rule, AllOf):
        return all(matches(c, visibility) for c in rule.clauses)
    return any(matches(c, visibility) for c in rule.clauses)


def can_see(viewer: Viewer, visibility: Visibility) -> bool:
    return matches(search_filter(viewer), visibility)


@dataclass(frozen=True, slots=True)
class VisibilityColumns:
    owner_org_id: ColumnElement[Any]
    working_group_id: ColumnElement[Any]
    distribution: ColumnElement[Any]
    tlp: ColumnElement[Any]

    def column(self, name: FieldName) -> ColumnElement[Any]:
        return getattr(self, name.value)  # type: ignore[no-any-return]


def compile_sql(rule: Filter, columns: VisibilityColumns) -> ColumnElement[bool]:
    """A filter as a SQLAlchemy boolean. It is two-valued (never NULL), so ``not_()`` of it
    selects exactly the complement, which is what finding who lost access needs."""
    if isinstance(rule, Terms):
        if not rule.values:
            return false()
        column = columns.column(rule.field)
        test = column == rule.values[0] if len(rule.values) == 1 else column.in_(rule.values)
        if rule.field in OPTIONAL_FIELDS:
            return and_(column.is_not(None), test)
        return test
    parts = [compile_sql(c, columns) for c in rule.clauses]
    if isinstance(rule, AllOf):
        return and_(*parts) if parts else true()
    return or_(*parts) if parts else false()


def sql_predicate(
    viewer: Viewer,
    owner_col: ColumnElement[Any],
    group_col: ColumnElement[Any],
    distribution_col: ColumnElement[Any],
    tlp_col: ColumnElement[Any],
) -> ColumnElement[bool]:
    """Selects, in any table carrying the visibility fields, exactly the rows :func:`can_see`
    admits (``false()`` for an anonymous viewer). Works on SQLite and PostgreSQL."""
    return compile_sql(
        search_filter(viewer),
        VisibilityColumns(owner_col, group_col, distribution_col, tlp_col),
    )


# --- where an object may travel next ------------------------------------------------------------


class Destination(enum.StrEnum):
    # A peer alliance instance (federation export, peers pulling the change feed).
    FEDERATION = "FEDERATION"
    # Out of this instance into a recipient's own systems: file exports, STIX/TAXII, webhooks.
    EXTERNAL_EXPORT = "EXTERNAL_EXPORT"


TRAVEL_RULES: dict[Destination, Filter] = {
    Destination.FEDERATION: AllOf(
        (
            _terms(FieldName.DISTRIBUTION, [Distribution.FEDERATION]),
            _terms(FieldName.TLP, FEDERATION_TLPS),
        )
    ),
    # RED never leaves the instance; AMBER and AMBER+STRICT may reach the recipient
    # organisation's own systems, which is where an export goes.
    Destination.EXTERNAL_EXPORT: _terms(FieldName.TLP, [t for t in TLP if t != TLP.RED]),
}


def may_travel(visibility: Visibility, destination: Destination) -> bool:
    """Whether an object may be passed on to ``destination`` (by someone who may see it)."""
    return matches(TRAVEL_RULES[destination], visibility)


# --- who may write --------------------------------------------------------------------------


def can_contribute(viewer: Viewer, working_group_id: uuid.UUID | None) -> bool:
    """Chairs and members write to their working group; observers only read.

    ``None`` is an object of the viewer's own organisation outside any group, which any
    member viewer may write. Peers and anonymous callers never write.
    """
    if viewer.kind != ViewerKind.MEMBER:
        return False
    if working_group_id is None:
        return True
    return viewer.role_in(working_group_id) in CONTRIBUTING_ROLES


def can_see_restricted_tier(
    viewer: Viewer,
    owner_org_id: uuid.UUID,
    working_group_id: uuid.UUID | None,
    *,
    enforcement: bool,
    holds_review_scope: bool,
) -> bool:
    """Whether ``viewer``, who may already see a guide, also sees its covert and forensic
    features: enforcement organisations, reviewers (the ``guides:review`` scope and a seat in
    the guide's group) and the owner do; whatever else the guide's distribution allows,
    nobody else does. ``enforcement``: the viewer's organisation is an enforcement one."""
    if viewer.kind != ViewerKind.MEMBER:
        return False
    if viewer.organisation_id == owner_org_id or enforcement:
        return True
    return (
        holds_review_scope
        and working_group_id is not None
        and viewer.role_in(working_group_id) is not None
    )


# --- participants only (cases) ----------------------------------------------------------------


def can_see_participants_only(viewer: Viewer, participant_org_ids: Iterable[uuid.UUID]) -> bool:
    """An object seen by its participants only (a case): the organisations named on it, and
    nobody else whatever their seats or distribution; peers and anonymous callers never."""
    if viewer.kind != ViewerKind.MEMBER:
        return False
    return viewer.organisation_id in set(participant_org_ids)


def participants_only_predicate(
    viewer: Viewer,
    object_id_col: ColumnElement[Any],
    participant_object_col: ColumnElement[Any],
    participant_org_col: ColumnElement[Any],
) -> ColumnElement[bool]:
    """:func:`can_see_participants_only` in SQL: the object's id appears in the participants
    table with the viewer's organisation (``false()`` for anyone but a member)."""
    if viewer.kind != ViewerKind.MEMBER:
        return false()
    return exists().where(
        participant_object_col == object_id_col,
        participant_org_col == viewer.organisation_id,
    )


# --- the change feed: changes, and removals for those who lost access -----------------------


class FeedView(enum.StrEnum):
    """How one change-log row reaches one viewer."""

    HIDDEN = "HIDDEN"
    CHANGE = "CHANGE"  # the viewer sees the object now: the row as it is
    REMOVAL = "REMOVAL"  # the viewer saw the object and does not now: drop your copy


def _representatives(*objs: Visibility) -> list[Viewer]:
    """Viewers standing for every class of viewer, as far as ``objs`` can tell them apart.

    Visibility depends only on whether the viewer is the owner and whether it sits in the
    object's group, so the owners of ``objs``, a stranger, every combination of their groups,
    and a peer cover every case."""
    stranger = uuid.UUID(int=0)
    orgs = {o.owner_org_id for o in objs if o.owner_org_id is not None} | {stranger}
    groups = sorted({o.working_group_id for o in objs if o.working_group_id is not None}, key=str)
    seat_sets: list[list[uuid.UUID]] = [[]]
    for group in groups:
        seat_sets += [[*s, group] for s in seat_sets]
    viewers = [
        Viewer.member(org, [(g, MembershipRole.MEMBER) for g in seats])
        for org in orgs
        for seats in seat_sets
    ]
    return [*viewers, FEDERATED_PEER]


def narrows(previous: Visibility, current: Visibility) -> bool:
    """Whether some viewer who could see ``previous`` cannot see ``current``."""
    return any(
        can_see(v, previous) and not can_see(v, current)
        for v in _representatives(previous, current)
    )


def feed_view(
    viewer: Viewer,
    current: Visibility,
    previous: Visibility | None = None,
    audience_org_id: uuid.UUID | None = None,
    *,
    working_group_ids: Iterable[uuid.UUID] | None = None,
) -> FeedView:
    """The change feed's rule for one row; :func:`feed_predicate` is the same rule in SQL.

    A row addressed to one organisation (``audience_org_id``) is a removal for it and for
    nobody else. Any other row is the change itself to whoever sees the object now, and a
    removal to whoever could see it before the change (``previous``) but not after.
    ``working_group_ids`` keeps rows of those groups only, judged by the visibility the
    viewer is shown (a removal by the group the object was in), so that a filter cannot
    tell a viewer where an object it lost went.
    """
    groups = None if working_group_ids is None else frozenset(working_group_ids)

    def in_groups(group: uuid.UUID | None) -> bool:
        return groups is None or (group is not None and group in groups)

    if audience_org_id is not None:
        if (
            viewer.kind == ViewerKind.MEMBER
            and viewer.organisation_id == audience_org_id
            and in_groups(current.working_group_id)
        ):
            return FeedView.REMOVAL
        return FeedView.HIDDEN
    if can_see(viewer, current):
        return FeedView.CHANGE if in_groups(current.working_group_id) else FeedView.HIDDEN
    if previous is not None and can_see(viewer, previous):
        return FeedView.REMOVAL if in_groups(previous.working_group_id) else FeedView.HIDDEN
    return FeedView.HIDDEN


@dataclass(frozen=True, slots=True)
class FeedColumns:
    """The columns of a change-log table the feed's rule reads."""

    current: VisibilityColumns
    previous: VisibilityColumns
    audience_org_id: ColumnElement[Any]


def feed_predicate(
    viewer: Viewer,
    columns: FeedColumns,
    *,
    working_group_ids: Iterable[uuid.UUID] | None = None,
) -> ColumnElement[bool]:
    """Selects exactly the rows :func:`feed_view` does not hide (both databases).

    Built from the same filter as :func:`sql_predicate`, applied once to the current and
    once to the previous visibility columns; a row without a previous visibility has a
    null ``distribution`` there, which that filter never matches."""
    rule = search_filter(viewer)
    groups = None if working_group_ids is None else tuple(working_group_ids)

    def in_groups(column: ColumnElement[Any]) -> ColumnElement[bool]:
        if groups is None:
            return true()
        return and_(column.is_not(None), column.in_(groups)) if groups else false()

    current = compile_sql(rule, columns.current)
    previous = and_(columns.previous.distribution.is_not(None), compile_sql(rule, columns.previous))
    shared = and_(
        columns.audience_org_id.is_(None),
        or_(
            and_(current, in_groups(columns.current.working_group_id)),
            and_(not_(current), previous, in_groups(columns.previous.working_group_id)),
        ),
    )
    if viewer.kind != ViewerKind.MEMBER:
        return shared
    return or_(
        shared,
        and_(
            columns.audience_org_id == viewer.organisation_id,
            in_groups(columns.current.working_group_id),
        ),
    )
