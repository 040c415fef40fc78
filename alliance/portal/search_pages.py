"""The portal's search page: ``/portal/search``.

The question goes to the function the app wired into ``app.state.portal_search`` (the one
search service, with the viewer the sharing policy made), so results, totals and facet counts
hold only what the viewer may see. The hits are then read back through the domains' visible-
to-viewer reads, so a hit whose object has since gone or narrowed is dropped, not shown.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.route_access import declare
from alliance.db import unit_of_work
from alliance.errors import InvalidInput
from alliance.guides import repository as guides_repo
from alliance.guides.models import GuideStatus
from alliance.guides.service import GUIDE_KIND
from alliance.indicators import repository as indicators_repo
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import AssertionStatus
from alliance.indicators.service import ASSERTION_KIND
from alliance.orgs import repository as orgs_repo
from alliance.orgs.models import OrganisationKind
from alliance.portal.http import PORTAL_SESSION, Visit, render, sign_in_redirect, visit_of
from alliance.portal.search_contract import FoundHit, FoundPage, SearchAsk, SearchOffline
from alliance.rules import repository as rules_repo
from alliance.rules.definition import Decision, RuleStatus
from alliance.rules.service import RULE_KIND
from alliance.search.orgs import ORGANISATION, WORKING_GROUP
from alliance.sharing import TLP
from alliance.sharing.policy import Viewer
from alliance.sharing.service import load_viewer

PAGE_SIZE = 20
MAX_VALUES = 20  # per filter
MAX_VALUE_LENGTH = 200
MAX_CURSOR_LENGTH = 100
MAX_QUERY_LENGTH = 500  # the search service's own bound, which it enforces
GROUPS_READ = 500
# Dates the engines can compare (Tantivy's range ends in 2262); nothing is updated outside.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2199, 12, 31)
KINDS = (ASSERTION_KIND, RULE_KIND, GUIDE_KIND, ORGANISATION, WORKING_GROUP)
STATUSES = frozenset(
    [*AssertionStatus, *RuleStatus, *GuideStatus, "VERIFIED", "UNVERIFIED"]  # organisations'
)
FIXED_TYPES = frozenset([*IndicatorType, *OrganisationKind, *Decision, "guide"])
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
HIGHLIGHT_MARKER = re.compile(r"(</?em>)")
# Query parameter -> facet name of the engine; also the order filters are shown in.
FILTERS = {
    "kind": "kind",
    "type": "type",
    "group": "working_group_id",
    "status": "status",
    "brand": "brands",
    "tlp": "tlp",
    "lang": "language",
}


def marked(fragment: str) -> Markup:
    """A highlight fragment as HTML: every character escaped, and only the engine's own
    ``<em>``/``</em>`` markers, balanced, turned into ``<mark>``. A marker-like string in the
    indexed text itself can at worst mark a word; it can never open any other element."""
    out: list[str] = []
    open_mark = False
    for part in HIGHLIGHT_MARKER.split(fragment):
        if part == "<em>" and not open_mark:
            out.append("<mark>")
            open_mark = True
        elif part == "</em>" and open_mark:
            out.append("</mark>")
            open_mark = False
        else:
            out.append(str(escape(part)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The values each filter accepts; anything else is a mistake worth saying so."""

    group_names: Mapping[str, str]  # working group id -> name
    types: frozenset[str]


@dataclass
class Question:
    """The page's parameters as given (for redisplay and links) and the problems found."""

    text: str = ""
    chosen: dict[str, list[str]] = field(default_factory=dict)
    updated_from: str = ""
    updated_to: str = ""
    after: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def problem(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def pairs(self, *, without: tuple[str, str] | None = None) -> list[tuple[str, str]]:
        """The question as query pairs (never its cursor: a changed question starts over)."""
        found: list[tuple[str, str]] = [("q", self.text)] if self.text else []
        for name in FILTERS:
            found += [(name, v) for v in self.chosen.get(name, []) if (name, v) != without]
        if self.updated_from:
            found.append(("from", self.updated_from))
        if self.updated_to:
            found.append(("to", self.updated_to))
        return found

    def link(self, *, add: tuple[str, str] | None = None, **kw: Any) -> str:
        pairs = self.pairs(**kw)
        if add is not None and add not in pairs:
            pairs.append(add)
        return "/portal/search" + (f"?{urlencode(pairs)}" if pairs else "")

    def next_link(self, cursor: str) -> str:
        return "/portal/search?" + urlencode([*self.pairs(), ("after", cursor)])


def _date(raw: str, name: str, question: Question, t: Any) -> date | None:
    if not raw:
        return None
    try:
        found = date.fromisoformat(raw)
    except ValueError:
        question.problem(name, t("search.bad_date"))
        return None
    if not EARLIEST_DATE <= found <= LATEST_DATE:
        question.problem(name, t("search.date_range", first=EARLIEST_DATE, last=LATEST_DATE))
        return None
    return found


def read_question(
    params: Mapping[str, Sequence[str]], vocabulary: Vocabulary, t: Any
) -> tuple[Question, SearchAsk | None]:
    """The page's parameters checked against ``vocabulary``; the ask is None when any is
    wrong (the page then shows the messages beside the fields and searches nothing)."""

    def first(name: str) -> str:
        values = params.get(name) or [""]
        return values[0]

    question = Question(
        text=first("q").strip(),
        updated_from=first("from").strip(),
        updated_to=first("to").strip(),
        after=first("after"),
    )
    accepted = {
        "kind": set(KINDS),
        "type": vocabulary.types,
        "group": set(vocabulary.group_names),
        "status": STATUSES,
        "tlp": {v.value for v in TLP},
    }
    for name in FILTERS:
        values = list(dict.fromkeys(v.strip() for v in params.get(name, []) if v.strip()))
        question.chosen[name] = values
        if len(values) > MAX_VALUES:
            question.problem(name, t("search.too_many", count=MAX_VALUES))
            continue
        for value in values:
            known = accepted.get(name)
            if len(value) > MAX_VALUE_LENGTH:
                question.problem(name, t("search.too_long_value", count=MAX_VALUE_LENGTH))
            elif known is not None and value not in known:
                question.problem(name, t("search.unknown_value", value=value))
            elif name == "lang" and not LANGUAGE.fullmatch(value):
                question.problem(name, t("search.unknown_value", value=value))
    since = _date(question.updated_from, "from", question, t)
    until = _date(question.updated_to, "to", question, t)
    if since and until and until < since:
        question.problem("to", t("search.dates_reversed"))
    if len(question.after) > MAX_CURSOR_LENGTH:
        question.problem("after", t("search.bad_cursor"))
    if question.errors:
        return question, None
    chosen = question.chosen
    ask = SearchAsk(
        text=question.text,
        kinds=tuple(chosen["kind"]),
        types=tuple(chosen["type"]),
        working_group_ids=tuple(chosen["group"]),
        statuses=tuple(chosen["status"]),
        brands=tuple(chosen["brand"]),
        tlps=tuple(chosen["tlp"]),
        languages=tuple(chosen["lang"]),
        # The engine's bounds are exclusive; the page's dates are whole days, both included.
        updated_after=datetime.combine(since, time.min, UTC) - timedelta(seconds=1)
        if since
        else None,
        updated_before=datetime.combine(until + timedelta(days=1), time.min, UTC)
        if until
        else None,
        after=question.after or None,
        limit=PAGE_SIZE,
    )
    return question, ask


@dataclass(frozen=True, slots=True)
class ShownHit:
    kind: str
    title: Markup
    href: str | None  # None: the portal has no page for this kind
    detail: str
    snippets: tuple[Markup, ...]


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


async def _titles(
    db: AsyncSession, viewer: Viewer, hits: Sequence[FoundHit]
) -> dict[tuple[str, str], tuple[str, str | None, str]]:
    """(kind, id) -> (title, portal page, detail) for the hits the viewer may still see; one
    read per kind, each through that domain's visible-to-viewer query."""
    ids: dict[str, list[uuid.UUID]] = {}
    for hit in hits:
        ids.setdefault(hit.kind, []).extend(_uuids([hit.object_id]))
    found: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    if ids.get(ASSERTION_KIND):
        assertions = await indicators_repo.visible_assertions_by_ids(
            db, viewer, ids[ASSERTION_KIND]
        )
        indicators = {
            i.id: i
            for i in await indicators_repo.indicators_by_ids(
                db, list({a.indicator_id for a in assertions})
            )
        }
        for a in assertions:
            if (indicator := indicators.get(a.indicator_id)) is not None:
                found[(ASSERTION_KIND, str(a.id))] = (
                    indicator.value,
                    f"/portal/indicators/{indicator.id}",
                    indicator.type.value,
                )
    if ids.get(RULE_KIND):
        for rule in await rules_repo.visible_rules_by_ids(db, viewer, ids[RULE_KIND]):
            found[(RULE_KIND, str(rule.id))] = (
                rule.name,
                f"/portal/rules/{rule.id}",
                rule.status.value,
            )
    if ids.get(GUIDE_KIND):
        for guide in await guides_repo.readable_guides_by_ids(db, viewer, ids[GUIDE_KIND]):
            found[(GUIDE_KIND, str(guide.id))] = (
                guide.title,
                f"/portal/guides/{guide.id}",
                guide.status.value,
            )
    # The directory: every member sees it, and the portal has no page for its entries.
    if ids.get(ORGANISATION):
        for org in await orgs_repo.organisations_by_ids(db, ids[ORGANISATION]):
            found[(ORGANISATION, str(org.id))] = (org.name, None, org.kind.value)
    if ids.get(WORKING_GROUP):
        for group in await orgs_repo.working_groups_by_ids(db, ids[WORKING_GROUP]):
            found[(WORKING_GROUP, str(group.id))] = (group.name, None, group.sector)
    return found


async def shown_hits(db: AsyncSession, viewer: Viewer, hits: Sequence[FoundHit]) -> list[ShownHit]:
    titles = await _titles(db, viewer, hits)
    shown = []
    for hit in hits:
        known = titles.get((hit.kind, hit.object_id))
        if known is None:  # gone or narrowed since it was indexed; the indexer catches up
            continue
        title, href, detail = known
        by_field = dict(hit.highlights)
        title_marks = by_field.get("title", ())
        shown.append(
            ShownHit(
                kind=hit.kind,
                title=marked(title_marks[0]) if title_marks else Markup(escape(title)),
                href=href,
                detail=detail,
                snippets=tuple(
                    marked(f)
                    for name, fragments in hit.highlights
                    if name != "title"
                    for f in fragments
                ),
            )
        )
    return shown


async def _vocabulary(db: AsyncSession) -> Vocabulary:
    groups = await orgs_repo.page_working_groups(db, after=None, limit=GROUPS_READ)
    return Vocabulary(
        group_names={str(g.id): g.name for g in groups.items},
        types=FIXED_TYPES | {g.sector for g in groups.items},
    )


def _service_errors(exc: InvalidInput, t: Any) -> dict[str, list[str]]:
    """The search service's problems under the page's field names, in the page's language."""
    errors: dict[str, list[str]] = {}
    for p in exc.problems:
        name = {"query": "q", "after": "after"}.get(p.path[0] if p.path else "", "q")
        if p.code == "INVALID_CURSOR":
            message = t("search.bad_cursor")
        elif p.code == "TOO_LONG" and name == "q":
            message = t("search.too_long_query", count=MAX_QUERY_LENGTH)
        else:
            message = p.message
        errors.setdefault(name, []).append(message)
    return errors


def _facets(question: Question, page: FoundPage | None) -> list[tuple[str, list[dict[str, Any]]]]:
    if page is None:
        return []
    shown = []
    for name, facet in FILTERS.items():
        chosen = set(question.chosen.get(name, []))
        counts = [
            {
                "value": value,
                "count": count,
                "chosen": value in chosen,
                "href": question.link(without=(name, value))
                if value in chosen
                else question.link(add=(name, value)),
            }
            for value, count in page.facets.get(facet, [])
        ]
        if counts:
            shown.append((name, counts))
    return shown


def add_search_page(router: APIRouter) -> None:
    @router.get("/portal/search", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def search_page(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        run = getattr(request.app.state, "portal_search", None)
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            vocabulary = await _vocabulary(db)
            question, ask = read_question(params, vocabulary, visit.t)
            if run is None:
                return _page(visit, question, vocabulary, notice="search.not_configured")
            if ask is None:
                return _page(visit, question, vocabulary, status=400)
            try:
                found = await run(viewer, ask)
            except InvalidInput as exc:
                question.errors = _service_errors(exc, visit.t)
                return _page(visit, question, vocabulary, status=400)
            except SearchOffline:
                return _page(visit, question, vocabulary, notice="search.offline", status=503)
            hits = await shown_hits(db, viewer, found.hits)
        return _page(visit, question, vocabulary, found=found, hits=hits)


def _page(
    visit: Visit,
    question: Question,
    vocabulary: Vocabulary,
    *,
    found: FoundPage | None = None,
    hits: list[ShownHit] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        visit,
        "search.html",
        status=status,
        question=question,
        errors=question.errors,
        found=found,
        hits=hits or [],
        facets=_facets(question, found),
        notice=notice,
        kinds=KINDS,
        group_names=vocabulary.group_names,
        next_href=question.next_link(found.next_cursor) if found and found.next_cursor else None,
    )
