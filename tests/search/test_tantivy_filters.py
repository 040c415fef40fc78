"""The sharing policy's filter compiled to a Tantivy query admits exactly what the policy's
own evaluator admits, whatever the filter's shape: the compiler flattens unions and rewrites
"this distribution and one of these groups" to single pair tokens, and neither may change
an answer."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.orgs.models import MembershipRole
from alliance.search.documents import SearchDocument
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import (
    AllOf,
    AnyOf,
    FieldName,
    Filter,
    Terms,
    Viewer,
    Visibility,
    matches,
    search_filter,
)
from search.query import SearchQuery, Upsert
from search.tantivy_backend import TERM_UNION_MAX, TantivyBackend
from tests.search.test_contract import T0

ORGS = [uuid.uuid4(), uuid.uuid4()]
GROUPS = [uuid.uuid4() for _ in range(3)]
UNUSED = uuid.uuid4()  # a value no document holds
VOCABULARY = {
    FieldName.DISTRIBUTION: list(Distribution),
    FieldName.TLP: list(TLP),
    FieldName.OWNER_ORG_ID: [*ORGS, UNUSED],
    FieldName.WORKING_GROUP_ID: [*GROUPS, UNUSED],
}
VISIBILITIES = [
    Visibility(owner, group, distribution, tlp)
    for distribution, tlp, owner, group in itertools.product(
        Distribution, TLP, [*ORGS, None], [*GROUPS, None]
    )
]


def key(v: Visibility) -> str:
    return f"{v.distribution}/{v.tlp}/{v.owner_org_id}/{v.working_group_id}"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TantivyBackend]:
    backend = TantivyBackend(tmp_path_factory.mktemp("filters") / "search")
    asyncio.run(backend.ensure_index())
    docs = [
        SearchDocument(
            object_id=key(v),
            title="Counterfeit airbag",
            body="",
            kind="indicator.assertion",
            owner_org_id=v.owner_org_id,
            working_group_id=v.working_group_id,
            distribution=v.distribution,
            tlp=v.tlp,
            updated_at=T0,
        )
        for v in VISIBILITIES
    ]
    backend.bulk_sync([Upsert(d, 1) for d in docs])
    yield backend
    asyncio.run(backend.close())


def admitted(backend: TantivyBackend, rule: Filter, text: str = "") -> set[str]:
    result = backend.search_sync(
        SearchQuery(text, rule, limit=len(VISIBILITIES) + 1, facets=False, highlight=False)
    )
    assert result.total == len(result.hits)
    return {h.object_id for h in result.hits}


def expected(rule: Filter) -> set[str]:
    return {key(v) for v in VISIBILITIES if matches(rule, v)}


def terms_of(name: FieldName) -> st.SearchStrategy[Filter]:
    values = st.lists(st.sampled_from(VOCABULARY[name]), unique=True, max_size=4)
    return values.map(lambda vs: Terms(name, tuple(vs)))


TERMS = st.one_of(*(terms_of(name) for name in FieldName))
# The policy's working-group shape, with any number of distributions and groups (up to
# 4 x 4 pair tokens, and so across the term-set threshold).
PAIRS = st.tuples(terms_of(FieldName.DISTRIBUTION), terms_of(FieldName.WORKING_GROUP_ID)).map(
    lambda pair: AllOf(pair if pair[0].values else pair[::-1])
)
FILTERS = st.recursive(
    st.one_of(TERMS, PAIRS),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda cs: AllOf(tuple(cs))),
        st.lists(children, max_size=3).map(lambda cs: AnyOf(tuple(cs))),
    ),
    max_leaves=8,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rule=FILTERS)
def test_any_filter_admits_what_the_policy_admits(backend: TantivyBackend, rule: Filter) -> None:
    assert admitted(backend, rule) == expected(rule)


@pytest.mark.parametrize(
    "viewer",
    [
        pytest.param(Viewer.member(ORGS[0]), id="no-seats"),
        pytest.param(Viewer.member(ORGS[1], [(GROUPS[0], MembershipRole.MEMBER)]), id="one-seat"),
        pytest.param(
            Viewer.member(ORGS[0], [(g, MembershipRole.MEMBER) for g in GROUPS[1:]]),
            id="two-seats",
        ),
        pytest.param(Viewer.member(UNUSED, [(UNUSED, MembershipRole.MEMBER)]), id="outsider"),
    ],
)
def test_a_member_sees_working_group_objects_of_its_own_groups_only(
    backend: TantivyBackend, viewer: Viewer
) -> None:
    rule = search_filter(viewer)
    seen = admitted(backend, rule)
    assert seen == expected(rule)
    groups = {str(g) for g in viewer.working_group_ids}
    # Split by "/": distribution, TLP, owner, group.
    shared_with_groups = [
        k.split("/")
        for k in seen
        if k.startswith(f"{Distribution.WORKING_GROUP}/")
        and k.split("/")[2] != str(viewer.organisation_id)
    ]
    assert {parts[3] for parts in shared_with_groups} == groups & {str(g) for g in GROUPS}
    # The same with text in the query, where the filter meets the text's intersection.
    assert admitted(backend, rule, "airbag") == seen


def test_more_groups_than_a_union_of_terms_holds(backend: TantivyBackend) -> None:
    many = [*GROUPS, *(uuid.uuid4() for _ in range(TERM_UNION_MAX + 4))]
    viewer = Viewer.member(UNUSED, [(g, MembershipRole.MEMBER) for g in many])
    rule = search_filter(viewer)
    want = expected(rule)
    assert {k for k in want if k.startswith(f"{Distribution.WORKING_GROUP}/")}  # not vacuous
    assert admitted(backend, rule) == want
    assert admitted(backend, rule, "airbag") == want
