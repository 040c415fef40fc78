"""The in-memory listing matcher: every active rule, indicator and allowlist entry, one index.

Built once from the database and then kept fresh entry by entry (``put_*`` / ``drop_*``),
so a change takes effect without a rebuild. Lookups:

- indicators: a hash map on (type, key, normalised value) for seller accounts, URLs,
  domains, phones, e-mails, GTINs; the keyword index (:mod:`keywords`) over titles and
  descriptions for keywords and brand misspellings; Hamming search (:mod:`hamming`) for
  pHash (≤ 10 of 64 bits) and PDQ (≤ 31 of 256 bits); serial patterns as regular expressions;
- rules: by category (a listing's category and each of its ancestors), plus the rules
  without categories, their keyword terms in a keyword index of their own;
- brand allowlists: the same hash map and Hamming search.

Visibility is per entry, not per build: each entry carries its :class:`Visibility`, and a
candidate is kept only when ``can_see(viewer, visibility)`` — the sharing policy's one
function. The verdict, the score and the explanation are computed afterwards from the
kept matches alone, so nothing a caller may not see can move them.

Pure: no I/O; the loaders in :mod:`alliance.listings.service` fill it.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alliance.db import utcnow
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.keyword import fold_case
from alliance.indicators.serial_pattern import compile_serial_pattern
from alliance.listings.hamming import HammingIndex, Hit
from alliance.listings.keywords import FoldedText, KeywordMatcher, fold_pattern
from alliance.listings.listing import Listing, Probe, probes
from alliance.rules.definition import Decision, RuleDefinition
from alliance.sharing.policy import Viewer, Visibility, can_see
from alliance.taxonomy.tree import CategoryTree

T = IndicatorType
PHASH_RADIUS = 10
PDQ_RADIUS = 31
KEYWORD_TYPES = frozenset({T.KEYWORD, T.BRAND_MISSPELLING})
_NONE: frozenset[uuid.UUID] = frozenset()
HASH_TYPES = {T.IMAGE_PHASH: "imagePhashes", T.IMAGE_PDQ: "imagePdqs"}
# Indicator scores (0–100) combined at or above these send a listing to review or block it.
REVIEW_AT = 30.0
# How much of a seller network an explanation shows.
NETWORK_DEPTH = 2
NETWORK_LIMIT = 20
BLOCK_AT = 80.0
# Viewers whose visibility decisions are kept between checks (a request's viewer is one
# object for all of its listings).
SIGHTS_KEPT = 256


class Verdict(enum.StrEnum):
    BLOCK = "BLOCK"
    REVIEW = "REVIEW"
    ALLOW = "ALLOW"


_RANK = {Verdict.ALLOW: 0, Verdict.REVIEW: 1, Verdict.BLOCK: 2}


class MatchKind(enum.StrEnum):
    INDICATOR = "INDICATOR"
    RULE = "RULE"
    ALLOWLIST = "ALLOWLIST"


@dataclass(frozen=True, slots=True)
class Match:
    kind: MatchKind
    id: str
    field: str
    reason: str
    outcome: Verdict
    text: str | None = None
    distance: int | None = None
    score: float = 0.0
    # RULE: the exception that lets the listing through; INDICATOR: its seller network.
    exception: str | None = None
    links: tuple[str, ...] = ()
    # An indicator hit an allowlist entry overrides: reported, but it moves nothing.
    overridden: bool = False


@dataclass(frozen=True, slots=True)
class CheckResult:
    verdict: Verdict
    score: float
    matches: tuple[Match, ...]
    ref: str | None = None


# --- entries ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleEntry:
    id: uuid.UUID
    version: int
    definition: RuleDefinition
    visibility: Visibility
    # Folded once here rather than per listing.
    brands: frozenset[str] = field(default=frozenset())
    statement: str | None = None
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, id: uuid.UUID, version: int, definition: RuleDefinition, visibility: Visibility
    ) -> RuleEntry:
        statement = definition.exceptions.required_statement
        words = definition.keywords
        return cls(
            id,
            version,
            definition,
            visibility,
            frozenset(fold_case(b) for b in definition.brands),
            fold_pattern(statement) if statement else None,
            tuple(fold_pattern(t) for t in words.all_of),
            tuple(fold_pattern(t) for t in words.any_of),
            tuple(fold_pattern(t) for t in words.none_of),
        )


@dataclass(frozen=True, slots=True)
class IndicatorEntry:
    """One visible statement (assertion) about one indicator."""

    id: uuid.UUID  # the assertion
    indicator_id: uuid.UUID
    type: IndicatorType
    value: str
    visibility: Visibility
    score: float
    keys: tuple[tuple[str, str], ...] = ()
    brands: tuple[str, ...] = ()
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AllowlistEntry:
    id: uuid.UUID
    type: IndicatorType
    value: str
    brand: str
    label: str
    visibility: Visibility
    keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Link:
    """Two assertions known to belong together (one seller network)."""

    other: uuid.UUID
    reason: str


# --- the matcher -------------------------------------------------------------------------------


class _Sight:
    """``can_see`` for one viewer: entries share a few visibilities (the loaders intern
    them), so each distinct one is decided once. Both are immutable, so a decision never
    goes stale; the matcher keeps a viewer's sight across its checks."""

    __slots__ = ("known", "viewer")

    # Decisions kept per viewer: far more than the distinct visibilities of an instance.
    LIMIT = 1 << 16

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        # id(visibility) -> (visibility, decision): by identity, which spares hashing the
        # ids a visibility holds; keeping the object keeps its id from being reused meanwhile.
        self.known: dict[int, tuple[Visibility, bool]] = {}

    def __call__(self, visibility: Visibility) -> bool:
        known = self.known.get(id(visibility))
        if known is None:
            if len(self.known) >= self.LIMIT:
                self.known.clear()
            known = self.known[id(visibility)] = (visibility, can_see(self.viewer, visibility))
        return known[1]


class _ValueIndex:
    """Objects (indicators, allowlist entries) under (type, key, value) and image hashes."""

    def __init__(self) -> None:
        self.exact: dict[tuple[str, str, str], set[uuid.UUID]] = {}
        self.keys_of: dict[uuid.UUID, list[tuple[str, str, str]]] = {}
        self.phash = HammingIndex(64, PHASH_RADIUS)
        self.pdq = HammingIndex(256, PDQ_RADIUS)

    def put(
        self, id: uuid.UUID, type_: IndicatorType, value: str, keys: Iterable[tuple[str, str]]
    ) -> None:
        self.drop(id)
        if type_ == T.IMAGE_PHASH:
            self.phash.add(id, value)
        elif type_ == T.IMAGE_PDQ:
            self.pdq.add(id, value)
        self.put_keys(id, type_, value, keys)

    def put_keys(
        self, id: uuid.UUID, type_: IndicatorType, value: str, keys: Iterable[tuple[str, str]]
    ) -> None:
        triples = [(type_.value, "value", value)]
        triples += [(type_.value, k, v) for k, v in keys]
        self.keys_of[id] = triples
        for triple in triples:
            self.exact.setdefault(triple, set()).add(id)

    def drop(self, id: uuid.UUID) -> None:
        for triple in self.keys_of.pop(id, ()):
            ids = self.exact.get(triple)
            if ids is not None:
                ids.discard(id)
                if not ids:
                    del self.exact[triple]
        self.phash.remove(id)
        self.pdq.remove(id)

    def lookup(self, probe: Probe) -> frozenset[uuid.UUID] | set[uuid.UUID]:
        # The type as itself: a StrEnum hashes and compares as its value.
        return self.exact.get((probe.type, probe.name, probe.value), _NONE)

    def index(self, type_: IndicatorType) -> HammingIndex:
        """The Hamming index of an image-hash type."""
        return self.phash if type_ == T.IMAGE_PHASH else self.pdq

    def compact(self) -> None:
        self.phash.compact()
        self.pdq.compact()


class Matcher:
    def __init__(self, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock
        self.tree = CategoryTree()
        self.platform_categories: dict[tuple[str, str], int] = {}
        # rules
        self.rules: dict[uuid.UUID, RuleEntry] = {}
        self._rules_by_category: dict[int, set[uuid.UUID]] = {}
        self._uncategorised: set[uuid.UUID] = set()
        # The rules that may apply to a category (its own, its ancestors', the uncategorised),
        # worked out on first use and forgotten whenever a rule or the tree changes.
        self._candidates: dict[int | None, frozenset[uuid.UUID]] = {}
        # Rule terms: each distinct folded term once in the index, the rules naming it
        # beside it, so a term many rules share is one hit, not one per rule.
        self._rule_terms = KeywordMatcher()
        self._rules_of_term: dict[str, set[uuid.UUID]] = {}
        self._term_keys: dict[uuid.UUID, list[str]] = {}
        # indicators: the canonical value once, its assertions beside it
        self.assertions: dict[uuid.UUID, IndicatorEntry] = {}
        self._assertions_of: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._indicators = _ValueIndex()
        self._keywords = KeywordMatcher()
        self._serials: dict[uuid.UUID, re.Pattern[str]] = {}
        self.links: dict[uuid.UUID, tuple[Link, ...]] = {}
        # allowlists
        self.allowlist: dict[uuid.UUID, AllowlistEntry] = {}
        self._allowed = _ValueIndex()
        # id(viewer) -> its sight; the sight holds the viewer, so the id is not reused.
        self._sights: dict[int, _Sight] = {}

    # -- taxonomy ----------------------------------------------------------------------------

    def set_tree(self, tree: CategoryTree) -> None:
        self.tree = tree
        self._candidates = {}

    def set_platform_map(self, platform: str, mapping: dict[str, int]) -> None:
        self.platform_categories = {
            k: v for k, v in self.platform_categories.items() if k[0] != platform
        }
        self.platform_categories.update({(platform, pid): cid for pid, cid in mapping.items()})

    def category_of(self, listing: Listing) -> int | None:
        if listing.category_id is not None:
            return listing.category_id
        if listing.platform and listing.platform_category_id:
            return self.platform_categories.get((listing.platform, listing.platform_category_id))
        return None

    # -- rules -------------------------------------------------------------------------------

    def put_rule(self, entry: RuleEntry) -> None:
        self.drop_rule(entry.id)
        self.rules[entry.id] = entry
        self._candidates = {}
        if entry.definition.category_ids:
            for category in entry.definition.category_ids:
                self._rules_by_category.setdefault(category, set()).add(entry.id)
        else:
            self._uncategorised.add(entry.id)
        patterns = []
        for term in entry.definition.keywords.terms():
            pattern = fold_pattern(term)
            if not pattern.strip() or pattern in patterns:
                continue
            rules = self._rules_of_term.setdefault(pattern, set())
            if not rules:
                self._rule_terms.add(pattern, term)
            rules.add(entry.id)
            patterns.append(pattern)
        self._term_keys[entry.id] = patterns

    def drop_rule(self, rule_id: uuid.UUID) -> None:
        entry = self.rules.pop(rule_id, None)
        if entry is None:
            return
        self._candidates = {}
        for category in entry.definition.category_ids:
            self._rules_by_category.get(category, set()).discard(rule_id)
        self._uncategorised.discard(rule_id)
        for pattern in self._term_keys.pop(rule_id, ()):
            rules = self._rules_of_term.get(pattern, set())
            rules.discard(rule_id)
            if not rules:
                self._rules_of_term.pop(pattern, None)
                self._rule_terms.remove(pattern)

    # -- indicators --------------------------------------------------------------------------

    def put_indicator(self, entry: IndicatorEntry) -> None:
        self.drop_indicator(entry.id)
        self.assertions[entry.id] = entry
        siblings = self._assertions_of.setdefault(entry.indicator_id, set())
        siblings.add(entry.id)
        if len(siblings) == 1:
            self._index_value(entry)

    def _index_value(self, entry: IndicatorEntry) -> None:
        if entry.type in KEYWORD_TYPES:
            self._keywords.add(entry.indicator_id, entry.value)
        elif entry.type == T.SERIAL_PATTERN:
            self._serials[entry.indicator_id] = compile_serial_pattern(entry.value)
        else:
            self._indicators.put(entry.indicator_id, entry.type, entry.value, entry.keys)

    def drop_indicator(self, assertion_id: uuid.UUID) -> None:
        entry = self.assertions.pop(assertion_id, None)
        if entry is None:
            return
        siblings = self._assertions_of.get(entry.indicator_id, set())
        siblings.discard(assertion_id)
        if not siblings:
            self._assertions_of.pop(entry.indicator_id, None)
            self._keywords.remove(entry.indicator_id)
            self._serials.pop(entry.indicator_id, None)
            self._indicators.drop(entry.indicator_id)

    def load_indicators(self, entries: Iterable[IndicatorEntry]) -> None:
        """Replace every indicator at once (at start): each index is built in one pass
        instead of growing entry by entry."""
        self.assertions = {}
        self._assertions_of = {}
        self._indicators = _ValueIndex()
        self._serials = {}
        keywords: list[tuple[uuid.UUID, str]] = []
        hashes: dict[IndicatorType, list[tuple[uuid.UUID, str]]] = {t: [] for t in HASH_TYPES}
        for entry in entries:
            self.assertions[entry.id] = entry
            siblings = self._assertions_of.setdefault(entry.indicator_id, set())
            siblings.add(entry.id)
            if len(siblings) > 1:
                continue
            if entry.type in KEYWORD_TYPES:
                keywords.append((entry.indicator_id, entry.value))
            elif entry.type == T.SERIAL_PATTERN:
                self._serials[entry.indicator_id] = compile_serial_pattern(entry.value)
            else:
                if entry.type in hashes:
                    hashes[entry.type].append((entry.indicator_id, entry.value))
                self._indicators.put_keys(entry.indicator_id, entry.type, entry.value, entry.keys)
        self._keywords.build(keywords)
        self._indicators.phash.build(hashes[T.IMAGE_PHASH])
        self._indicators.pdq.build(hashes[T.IMAGE_PDQ])

    def set_links(self, assertion_id: uuid.UUID, links: Iterable[Link]) -> None:
        found = tuple(links)
        if found:
            self.links[assertion_id] = found
        else:
            self.links.pop(assertion_id, None)

    # -- allowlists --------------------------------------------------------------------------

    def put_allowlist(self, entry: AllowlistEntry) -> None:
        self.allowlist[entry.id] = entry
        self._allowed.put(entry.id, entry.type, entry.value, entry.keys)

    def drop_allowlist(self, entry_id: uuid.UUID) -> None:
        self.allowlist.pop(entry_id, None)
        self._allowed.drop(entry_id)

    def compact(self) -> None:
        self._indicators.compact()
        self._allowed.compact()

    # -- checking ----------------------------------------------------------------------------

    def check(
        self, viewer: Viewer, listing: Listing, *, now: datetime | None = None
    ) -> CheckResult:
        at, sees = now or self.clock(), self._sight(viewer)
        folded = _folded(listing)
        rules = self._rule_matches(sees, listing, folded, at)
        words = self._keyword_patterns(folded)
        return self._finish(sees, listing, at, _Searched(), probes(listing), folded, rules, words)

    def check_many(
        self, viewer: Viewer, listings: Sequence[Listing], *, now: datetime | None = None
    ) -> list[CheckResult]:
        """:meth:`check` for each of ``listings``, in order. The batch goes through each
        stage of a check together (its image hashes searched in one pass, see
        ``HammingIndex.search_many``; then every listing's keys, every text folded, every
        listing's rules, every listing's indicators), so that each stage's tables stay in
        the processor's cache while it runs; each listing's result is what it would be alone."""
        at, sees, searched = now or self.clock(), self._sight(viewer), _Searched()
        owners = (self._indicators, self._allowed) if self.allowlist else (self._indicators,)
        for type_ in HASH_TYPES:
            values = list(dict.fromkeys(v for listing in listings for v in _hashes(listing, type_)))
            if values:
                for owner in owners:
                    searched.search_all(owner.index(type_), values)
        keyed = [probes(listing) for listing in listings]
        folded = [_folded(listing) for listing in listings]
        rules = [
            self._rule_matches(sees, listing, text, at)
            for listing, text in zip(listings, folded, strict=True)
        ]
        words = [self._keyword_patterns(text) for text in folded]
        return [
            self._finish(sees, listing, at, searched, *stages)
            for listing, *stages in zip(listings, keyed, folded, rules, words, strict=True)
        ]

    def _keyword_patterns(
        self, folded: FoldedText | None
    ) -> list[tuple[str, set[Hashable], int, int]]:
        """The keyword and misspelling indicators' patterns found in a listing's text."""
        if not len(self._keywords) or folded is None:
            return []
        return self._keywords.search_patterns(folded)

    def _finish(
        self,
        sees: _Sight,
        listing: Listing,
        at: datetime,
        searched: _Searched,
        keyed: list[Probe],
        folded: FoldedText | None,
        matches: list[Match],
        words: list[tuple[str, set[Hashable], int, int]],
    ) -> CheckResult:
        """A listing's check from its keys, folded text, rule matches and keyword patterns
        found: its allowlist and indicator matches, the one overriding the other, and the
        verdict."""
        allowed = self._allowlist_matches(sees, listing, keyed, searched)
        indicator_hits = self._indicator_matches(sees, listing, keyed, folded, words, at, searched)
        if allowed:
            images_only = all(m.field in HASH_TYPES.values() for m in allowed)
            overridden = [
                m for m in indicator_hits if not images_only or m.field in HASH_TYPES.values()
            ]
            indicator_hits = [
                _replace_overridden(m) if m in overridden else m for m in indicator_hits
            ]
        return _verdict(matches + allowed + indicator_hits, listing.ref)

    def _sight(self, viewer: Viewer) -> _Sight:
        sight = self._sights.get(id(viewer))
        if sight is None:
            if len(self._sights) >= SIGHTS_KEPT:
                self._sights.clear()
            sight = self._sights[id(viewer)] = _Sight(viewer)
        return sight

    def _candidate_rules(self, category: int | None) -> frozenset[uuid.UUID]:
        found = self._candidates.get(category)
        if found is None:
            rules = set(self._uncategorised)
            if category is not None:
                for node in self.tree.ancestors(category) or [category]:
                    rules |= self._rules_by_category.get(node, set())
            found = frozenset(rules)
            # Only categories of the tree: a listing may name any number, so the table of
            # the others would have no bound.
            if category is None or category in self.tree:
                self._candidates[category] = found
        return found

    def _rule_matches(
        self, sees: _Sight, listing: Listing, folded: FoldedText | None, at: datetime
    ) -> list[Match]:
        category = self.category_of(listing)
        candidates: frozenset[uuid.UUID] | set[uuid.UUID] = self._candidate_rules(category)
        # (rule, folded term) -> the term's first place in the text, as word offsets
        found_terms: dict[uuid.UUID, dict[str, tuple[int, int]]] = {}
        if folded is not None and len(self._rule_terms):
            category_known = category is not None and category in self.tree
            for _, keys, start, end in self._rule_terms.search_patterns(folded):
                for term in keys:  # the term as folded when the rule was put
                    rules = self._rules_of_term.get(term)  # type: ignore[call-overload]
                    if not rules:
                        continue
                    # A categorised rule outside the listing's category is irrelevant, unless
                    # the listing named no known category (then keywords send it to review).
                    if category_known:
                        rules = rules & candidates
                    elif not rules <= candidates:
                        candidates = candidates | rules
                    for rule_id in rules:
                        found_terms.setdefault(rule_id, {}).setdefault(term, (start, end))  # type: ignore[arg-type]
        if not candidates:
            return []
        out: list[Match] = []
        for rule_id in candidates:
            entry = self.rules.get(rule_id)
            if entry is None or not sees(entry.visibility):
                continue
            places = found_terms.get(rule_id)
            terms = (
                {t: folded.original(*place) for t, place in places.items()}
                if places and folded is not None
                else {}
            )
            match = _evaluate(entry, listing, category, self.tree, terms, folded, at)
            if match is not None:
                out.append(match)
        return out

    def _allowlist_matches(
        self, sees: _Sight, listing: Listing, keyed: list[Probe], searched: _Searched
    ) -> list[Match]:
        if not self.allowlist:
            return []
        hits: dict[uuid.UUID, tuple[str, str, int | None]] = {}
        for probe in keyed:
            for entry_id in self._allowed.lookup(probe):
                hits.setdefault(entry_id, (probe.field, probe.text, None))
        for type_, field_name in HASH_TYPES.items():
            index = self._allowed.index(type_)
            for value in _hashes(listing, type_):
                for hit in searched.hits(index, value):
                    hits.setdefault(hit.key, (field_name, value, hit.distance))  # type: ignore[arg-type]
        out = []
        for entry_id, (field_name, text, distance) in hits.items():
            entry = self.allowlist.get(entry_id)
            if entry is None or not sees(entry.visibility):
                continue
            out.append(
                Match(
                    MatchKind.ALLOWLIST,
                    str(entry.id),
                    field_name,
                    f"{entry.brand} allowlist: {entry.label} — overrides indicator matches",
                    Verdict.ALLOW,
                    text=text,
                    distance=distance,
                )
            )
        return out

    def _indicator_matches(
        self,
        sees: _Sight,
        listing: Listing,
        keyed: list[Probe],
        folded: FoldedText | None,
        words: list[tuple[str, set[Hashable], int, int]],
        at: datetime,
        searched: _Searched,
    ) -> list[Match]:
        hits: dict[uuid.UUID, tuple[str, str, int | None]] = {}
        for probe in keyed:
            for indicator_id in self._indicators.lookup(probe):
                hits.setdefault(indicator_id, (probe.field, probe.text, None))
        if words and folded is not None:
            for _, keys, start, end in words:
                field_name = "title" if start < folded.first_words else "description"
                text = folded.original(start, end)
                for key in keys:
                    hits.setdefault(key, (field_name, text, None))  # type: ignore[arg-type]
        for type_, field_name in HASH_TYPES.items():
            values = _hashes(listing, type_)
            if not values:
                continue
            index = self._indicators.index(type_)
            for value in values:
                for h in searched.hits(index, value):
                    best = hits.get(h.key)  # type: ignore[arg-type]
                    if best is None or (best[2] is not None and h.distance < best[2]):
                        hits[h.key] = (field_name, value, h.distance)  # type: ignore[index]
        if self._serials and listing.serials:
            for indicator_id, pattern in self._serials.items():
                for serial in listing.serials:
                    if len(serial) <= 256 and pattern.fullmatch(serial.strip()):
                        hits.setdefault(indicator_id, ("serials", serial, None))
                        break
        out = []
        for indicator_id, (field_name, text, distance) in hits.items():
            best: IndicatorEntry | None = None
            for assertion_id in self._assertions_of.get(indicator_id, ()):
                entry = self.assertions[assertion_id]
                if entry.valid_until is not None and entry.valid_until <= at:
                    continue
                if sees(entry.visibility) and (best is None or entry.score > best.score):
                    best = entry
            if best is None:
                continue
            links = self._visible_links(sees, best.indicator_id)
            outcome = _indicator_outcome(best.score)
            if links and outcome == Verdict.ALLOW:
                outcome = Verdict.REVIEW
            reason = f"{best.type.value.replace('_', ' ')} {best.value!r} is a known indicator"
            if distance is not None:
                reason += f" (Hamming distance {distance})"
            if links:
                reason += "; part of a seller network: " + "; ".join(links)
            out.append(
                Match(
                    MatchKind.INDICATOR,
                    str(best.id),
                    field_name,
                    reason,
                    outcome,
                    text=text,
                    distance=distance,
                    score=best.score,
                    links=links,
                )
            )
        return out

    def _visible_links(self, sees: _Sight, indicator_id: uuid.UUID) -> tuple[str, ...]:
        """The seller network around an indicator (two links deep: networks are stored as
        stars), as far as the viewer sees both ends of each link."""
        start = [a for a in self._assertions_of.get(indicator_id, ()) if a in self.assertions]
        seen = {indicator_id}
        frontier = [a for a in start if sees(self.assertions[a].visibility)]
        out: list[str] = []
        for _depth in range(NETWORK_DEPTH):
            following: list[uuid.UUID] = []
            for assertion_id in frontier:
                for link in self.links.get(assertion_id, ()):
                    other = self.assertions.get(link.other)
                    if other is None or other.indicator_id in seen:
                        continue
                    if not sees(other.visibility):
                        continue
                    seen.add(other.indicator_id)
                    following.append(other.id)
                    out.append(
                        f"linked to {other.type.value.replace('_', ' ')} {other.value!r} "
                        f"({link.reason.lower().replace('_', ' ')})"
                    )
                    if len(out) >= NETWORK_LIMIT:
                        return tuple(out)
            frontier = following
        return tuple(out)

    def __len__(self) -> int:
        return len(self.rules) + len(self.assertions) + len(self.allowlist)


# --- pure helpers ---------------------------------------------------------------------------


def _folded(listing: Listing) -> FoldedText | None:
    if not listing.title and not listing.description:
        return None
    return FoldedText.of(listing.title, listing.description)


def _hashes(listing: Listing, type_: IndicatorType) -> tuple[str, ...]:
    values = listing.image_phashes if type_ == T.IMAGE_PHASH else listing.image_pdqs
    return tuple(v.lower() for v in values) if values else ()


def _search(index: HammingIndex, value: str) -> list[Hit]:
    if not len(index):
        return []
    try:
        return index.search(value)
    except ValueError:
        return []  # a malformed hash matches nothing


class _Searched:
    """The image-hash searches of one check, or of a batch's checks: each (index, hash)
    searched once, on demand or all of a batch's ahead."""

    __slots__ = ("found",)

    def __init__(self) -> None:
        self.found: dict[tuple[int, str], list[Hit]] = {}

    def search_all(self, index: HammingIndex, values: list[str]) -> None:
        if not len(index):
            return
        try:
            results = index.search_many(values)
        except ValueError:  # a malformed hash among them: each on its own
            results = [_search(index, value) for value in values]
        for value, hits in zip(values, results, strict=True):
            self.found[(id(index), value)] = hits

    def hits(self, index: HammingIndex, value: str) -> list[Hit]:
        found = self.found.get((id(index), value))
        if found is None:
            found = self.found[(id(index), value)] = _search(index, value)
        return found


def _replace_overridden(match: Match) -> Match:
    return Match(
        match.kind,
        match.id,
        match.field,
        match.reason + " — overridden by a brand allowlist",
        Verdict.ALLOW,
        text=match.text,
        distance=match.distance,
        score=match.score,
        links=match.links,
        overridden=True,
    )


def _indicator_outcome(score: float) -> Verdict:
    if score >= BLOCK_AT:
        return Verdict.BLOCK
    if score >= REVIEW_AT:
        return Verdict.REVIEW
    return Verdict.ALLOW


def _exception(entry: RuleEntry, listing: Listing, folded: FoldedText | None) -> str | None:
    """The first exception of the rule the listing satisfies, named; None when none holds."""
    exceptions = entry.definition.exceptions
    for seller in exceptions.authorised_sellers:
        if listing.platform == seller.platform and listing.seller_id == seller.seller_id:
            return f"authorised seller {seller.label}"
    for certification in exceptions.certification_ids:
        if certification in listing.certifications:
            return f"certification {certification}"
    if entry.statement and folded is not None and entry.statement in folded.haystack:
        return "required statement present"
    if exceptions.ships_to_only and listing.ships_to:
        if set(listing.ships_to) <= set(exceptions.ships_to_only):
            return "ships only to " + ", ".join(exceptions.ships_to_only)
    return None


def _evaluate(
    entry: RuleEntry,
    listing: Listing,
    category: int | None,
    tree: CategoryTree,
    terms: dict[str, str],
    folded: FoldedText | None,
    at: datetime,
) -> Match | None:
    """The rule's match on one listing, or None when the listing is outside its scope."""
    rule = entry.definition
    if not rule.in_force(at):
        return None
    if rule.platforms and listing.platform not in rule.platforms:
        return None
    if rule.jurisdictions:
        places = {listing.country, *listing.ships_to} - {None}
        if places and not places & set(rule.jurisdictions):
            return None
    if rule.brands and (listing.brand is None or fold_case(listing.brand) not in entry.brands):
        return None
    if rule.conditions and listing.condition not in rule.conditions:
        return None
    if any(t not in terms for t in entry.all_of):
        return None
    if entry.any_of and not any(t in terms for t in entry.any_of):
        return None
    if any(t in terms for t in entry.none_of):
        return None
    evidence: list[str] = []
    field_name, text = "categoryId", None
    uncertain = False
    if rule.category_ids:
        within = (
            next((c for c in tree.ancestors(category) if c in rule.category_ids), None)
            if category is not None
            else None
        )
        if within is None and category is not None and category in rule.category_ids:
            within = category
        if within is None:
            if not terms or (category is not None and category in tree):
                return None
            uncertain = True  # keyword evidence, but no known category to confirm it
            evidence.append("category unknown")
        else:
            evidence.append(f"category {category} within {within}")
            text = str(category)
            if listing.category_id is None:
                field_name = "platformCategoryId"
                text = listing.platform_category_id
    if rule.brands:
        evidence.append(f"brand {listing.brand}")
    if rule.conditions and listing.condition is not None:
        evidence.append(f"condition {listing.condition.value}")
    matched_terms = [terms[t] for t in (*entry.all_of, *entry.any_of) if t in terms]
    if matched_terms:
        evidence.append("keywords " + ", ".join(repr(t) for t in matched_terms))
        if field_name == "categoryId" and text is None:
            field_name, text = "title", matched_terms[0]
    exception = _exception(entry, listing, folded)
    if exception is not None:
        outcome = Verdict.ALLOW
    elif rule.decision == Decision.ALLOW_IF or uncertain:
        outcome = Verdict.REVIEW
    else:
        outcome = Verdict.BLOCK
    reason = f"{rule.decision.value} {rule.name!r} ({rule.rationale.value.lower()}): " + (
        "; ".join(evidence)
    )
    if exception is not None:
        reason += f" — allowed: {exception}"
    return Match(
        MatchKind.RULE,
        str(entry.id),
        field_name,
        reason,
        outcome,
        text=text,
        score=100.0 if outcome == Verdict.BLOCK else (50.0 if outcome == Verdict.REVIEW else 0.0),
        exception=exception,
    )


def _verdict(matches: list[Match], ref: str | None) -> CheckResult:
    """From visible matches only: the strongest outcome wins; the score combines indicator
    scores (independent evidence) with the rules' fixed weights."""
    verdict = Verdict.ALLOW
    remaining = 1.0
    for m in matches:
        if _RANK[m.outcome] > _RANK[verdict]:
            verdict = m.outcome
        if not m.overridden:
            remaining *= 1 - min(max(m.score, 0.0), 100.0) / 100
    score = round(100 * (1 - remaining), 2)
    # Several weak indicators together can say more than each alone.
    if _RANK[_indicator_outcome(score)] > _RANK[verdict]:
        verdict = _indicator_outcome(score)
    order = sorted(matches, key=lambda m: (-_RANK[m.outcome], m.kind.value, -m.score, m.id))
    return CheckResult(verdict, score, tuple(order), ref)
