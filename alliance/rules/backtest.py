"""Back-testing a rule (typically a draft) on a sample catalogue before it is activated.

The rule runs alone in a matcher of its own, beside the brand allowlists the caller may see,
over every listing of the catalogue: how many it would block or send to review, which
exceptions let listings through, and which sellers a brand has authorised it would hit.
Nothing is written.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.principal import Principal
from alliance.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.listings import repository as listings_repo
from alliance.listings.listing import parse_listing, read_catalogue
from alliance.listings.matcher import Matcher, MatchKind, RuleEntry, Verdict
from alliance.listings.service import TaxonomyLoader, allowlist_entry_of
from alliance.rules import repository as repo
from alliance.rules.service import definition_of, visibility_of, visible_rule
from alliance.sharing.policy import Viewer
from alliance.sharing.service import load_viewer

MAX_CATALOGUE_BYTES = 20 << 20
MAX_LISTINGS = 100_000
SAMPLE = 20
FORMATS = ("csv", "jsonl")


@dataclass(frozen=True, slots=True)
class SampleHit:
    line: int
    ref: str | None
    outcome: Verdict
    reason: str


@dataclass
class BacktestReport:
    rule_id: uuid.UUID
    version: int
    listings: int = 0
    blocked: int = 0
    review: int = 0
    allowed: int = 0
    refused: int = 0
    in_scope: int = 0
    exceptions: Counter[str] = field(default_factory=Counter)
    # "brand: seller" -> listings of that authorised seller the rule would block or review
    authorised_sellers_hit: Counter[str] = field(default_factory=Counter)
    samples: list[SampleHit] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)


def run_backtest(
    matcher: Matcher, viewer: Viewer, entry: RuleEntry, text: str, fmt: str
) -> BacktestReport:
    """Pure over a prepared matcher (holding ``entry``, the tree and the allowlists)."""
    report = BacktestReport(entry.id, entry.version)
    # A draft is looked at as if in force: at its start date when that is still ahead.
    start = entry.definition.effective_from
    at = max(matcher.clock(), start) if start is not None else matcher.clock()
    for line, item in read_catalogue(text, fmt):
        report.listings += 1
        if report.listings > MAX_LISTINGS:
            raise InvalidInput(
                [FieldProblem(("catalogue",), "TOO_MANY", f"at most {MAX_LISTINGS} listings")]
            )
        try:
            listing = parse_listing(item, path=("catalogue", f"line {line}"))
        except InvalidInput as exc:
            report.refused += 1
            if len(report.problems) < SAMPLE:
                report.problems += exc.problems[:3]
            continue
        result = matcher.check(viewer, listing, now=at)
        rule_hits = [m for m in result.matches if m.kind == MatchKind.RULE]
        if not rule_hits:
            report.allowed += 1
            continue
        hit = rule_hits[0]
        report.in_scope += 1
        if hit.outcome == Verdict.BLOCK:
            report.blocked += 1
        elif hit.outcome == Verdict.REVIEW:
            report.review += 1
        else:
            report.allowed += 1
        if hit.exception:
            report.exceptions[hit.exception] += 1
        if hit.outcome != Verdict.ALLOW:
            for allowed in (m for m in result.matches if m.kind == MatchKind.ALLOWLIST):
                entry_ = matcher.allowlist.get(uuid.UUID(allowed.id))
                if entry_ is not None:
                    report.authorised_sellers_hit[f"{entry_.brand}: {entry_.label}"] += 1
            if len(report.samples) < SAMPLE:
                report.samples.append(SampleHit(line, listing.ref, hit.outcome, hit.reason))
    return report


async def backtest_rule(
    session: AsyncSession,
    principal: Principal | None,
    rule_id: uuid.UUID,
    *,
    catalogue: str,
    fmt: str = "jsonl",
    version: int | None = None,
) -> BacktestReport:
    """Run ``version`` of the rule (default: its latest, the draft while one is open)."""
    if fmt not in FORMATS:
        raise InvalidInput([FieldProblem(("format",), "INVALID_CHOICE", "csv or jsonl")])
    if len(catalogue.encode()) > MAX_CATALOGUE_BYTES:
        raise InvalidInput(
            [FieldProblem(("catalogue",), "TOO_LONG", f"at most {MAX_CATALOGUE_BYTES} bytes")]
        )
    if principal is not None and not any(
        principal.has_scope(s) for s in ("rules:read", "rules:write", "admin")
    ):
        raise Forbidden("requires the 'rules:read' scope")
    viewer = await load_viewer(session, principal) if principal else None
    if viewer is not None:
        rule = await visible_rule(session, viewer, rule_id)
    else:
        found = await repo.rules_by_ids(session, [rule_id])
        if not found:
            raise NotFound("rule", str(rule_id))
        rule = found[0]
        viewer = Viewer.member(rule.owner_org_id)
    stored = await repo.version(session, rule.id, version or rule.latest_version)
    if stored is None:
        raise NotFound("rule version", f"{rule_id} v{version}")
    entry = RuleEntry.of(rule.id, stored.number, definition_of(stored), visibility_of(rule))
    matcher = Matcher()
    await TaxonomyLoader().load_all(session, matcher)
    matcher.put_rule(entry)
    for allow in await listings_repo.allowlist_entries(session):
        matcher.put_allowlist(allowlist_entry_of(allow))
    return run_backtest(matcher, viewer, entry, catalogue, fmt)
