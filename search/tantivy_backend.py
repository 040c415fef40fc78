"""The embedded backend: a Tantivy index under the data dir.

Layout: ``<root>/current`` names the live index directory (``<root>/index-…``); a rebuild
writes a new directory and swaps the pointer with one atomic rename, so readers never see
a half-built index. Tantivy's analyzers do the English part (lowercase, ASCII folding,
Porter2 stemming); :mod:`search.analysis` adds the confusable skeleton and CJK bigrams as
fields of their own, and the queries are analysed the same way.

Versions: each document holds its version (the change-log sequence number) in a fast
field; an action applies only if its version is newer than the indexed one. A delete
leaves a tombstone (id and version, no visibility fields), so an older upsert replayed
after it cannot bring the document back; no visibility filter ever matches a tombstone.

Writers: a writer is taken for each bulk and released after its commit, so another process
(the CLI's rebuild, a second worker) can write in between; while someone else holds the
index lock the backend is :class:`SearchUnavailable` and the indexer retries.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import tantivy
from tantivy import Filter as TFilter
from tantivy import Occur, Query, TextAnalyzerBuilder, Tokenizer

from alliance.search.documents import split_document_id
from alliance.sharing.policy import AllOf, AnyOf, FieldName, Filter, Terms
from search.analysis import (
    CJK_RUN,
    WORD,
    cjk_bigrams,
    fuzziness,
    has_cjk,
    highlight,
    parse_query,
    skeleton_text,
    within_distance,
)
from search.backend import FACET_SIZE, BulkOutcome, InvalidCursor, SearchUnavailable
from search.query import (
    FacetCount,
    FacetName,
    Highlight,
    IndexAction,
    SearchHit,
    SearchQuery,
    SearchResult,
    Suggestion,
    Upsert,
)

# Whole values in a field and a column of their own: brands, a facet of many values.
KEYWORD_FIELDS = ("brands",)
# Whole values of few distinct values share one field, each token marked by its field's
# prefix (``k:guide``, ``o:<uuid>``): a document adds two values where it would add eight.
# ``facets`` is also a column, whose tokens are counted as the facets of those fields.
FACET_PREFIXES = {
    "kind": "k:",
    "type": "t:",
    "status": "s:",
    "tlp": "p:",
    "working_group_id": "w:",
}
TAG_PREFIXES = {"language": "l:", "owner_org_id": "o:", "distribution": "d:"}
PREFIXES = FACET_PREFIXES | TAG_PREFIXES
# A document's distribution and working group, both single-valued, also as one ``tags``
# token (``dw:WORKING_GROUP/<uuid>``): the sharing policy's "shared with my groups" clause
# is then a union of a member's few pair terms, not two dense unions intersected.
PAIR_PREFIX = "dw:"
PAIR_FIELDS = frozenset({FieldName.DISTRIBUTION, FieldName.WORKING_GROUP_ID})
# The layout of documents in an index, raised whenever what is indexed changes though the
# schema does not (2: the pair tokens).
INDEX_FORMAT = "2"
FORMAT_FILE = "alliance-format"
# Beyond this many values a union of term queries costs more than one term-set query.
TERM_UNION_MAX = 16
# Enough buckets for every distinct kind, type, status, TLP and working group; if ever
# there were more, the total is counted apart (see ``search_sync``).
FACET_BUCKETS = 10_000
_WHITESPACE_OR_PERCENT = re.compile(r"[\s%]")
TEXT_ANALYZER = "alliance_text"
WORDS_ANALYZER = "alliance_words"
POINTER = "current"
DELETED = "deleted"
HIGHLIGHT_FIELDS = ("title", "body")


def build_schema() -> tantivy.Schema:
    """Every field costs indexing time, so each is indexed, stored or a column only where a
    query, a hit or a facet reads it: a hit's kind and object id are read from its ``id``,
    the version as a column, and ``updated_at`` is filtered and sorted, never shown."""
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("state", tokenizer_name="raw", index_option="basic")
    for name in KEYWORD_FIELDS:
        b.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("facets", fast=True, tokenizer_name="whitespace", index_option="basic")
    b.add_text_field("tags", tokenizer_name="whitespace", index_option="basic")
    b.add_text_field("title", stored=True, tokenizer_name=TEXT_ANALYZER)
    b.add_text_field("body", stored=True, tokenizer_name=TEXT_ANALYZER)
    b.add_text_field("keywords", tokenizer_name=TEXT_ANALYZER)
    b.add_text_field("skeleton", tokenizer_name=WORDS_ANALYZER)
    b.add_text_field("cjk", tokenizer_name="whitespace")
    b.add_text_field("words", tokenizer_name=WORDS_ANALYZER, index_option="basic")
    b.add_unsigned_field("version", fast=True)
    # Microseconds since the epoch, as a column only: the range filter and the sort read
    # the column, and an integer costs less to add than a date.
    b.add_integer_field("updated_at", fast=True)
    return b.build()


def _analyzers() -> dict[str, tantivy.TextAnalyzer]:
    def base() -> TextAnalyzerBuilder:
        return (
            TextAnalyzerBuilder(Tokenizer.simple())
            .filter(TFilter.remove_long(64))
            .filter(TFilter.lowercase())
            .filter(TFilter.ascii_fold())
        )

    return {
        TEXT_ANALYZER: base().filter(TFilter.stemmer("english")).build(),
        WORDS_ANALYZER: base().build(),
    }


SCHEMA = build_schema()
ANALYZERS = _analyzers()


def analyse(text: str) -> list[str]:
    return ANALYZERS[TEXT_ANALYZER].analyze(text)


def words(text: str) -> list[str]:
    return ANALYZERS[WORDS_ANALYZER].analyze(text)


@lru_cache(maxsize=100_000)
def _word_keys(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One word of stored text as highlighting compares it: its terms, and its skeleton's."""
    return tuple({*analyse(word), *words(word)}), tuple(words(skeleton_text(word)))


def _open_index(path: Path) -> tantivy.Index:
    """Open (or create) the index at ``path``. Its format is written beside it when it is
    made and checked when it is opened: tokens this version queries for (such as the pair
    tokens) that an older index lacks would otherwise hide documents without an error."""
    path.mkdir(parents=True, exist_ok=True)
    marker = path / FORMAT_FILE
    if not (path / "meta.json").exists():
        marker.write_text(INDEX_FORMAT, encoding="utf-8")
    else:
        found = marker.read_text(encoding="utf-8").strip() if marker.exists() else "1"
        if found != INDEX_FORMAT:
            raise ValueError(f"index format {found}, this version reads format {INDEX_FORMAT}")
    index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
    for name, analyzer in ANALYZERS.items():
        index.register_tokenizer(name, analyzer)
    return index


class _Memo(dict[Any, str]):
    """``make(value)`` for values that repeat across documents, each made once (emptied
    when full): cheaper on the indexing path than ``lru_cache``'s bookkeeping."""

    def __init__(self, make: Any, size: int = 65_536) -> None:
        super().__init__()
        self.make, self.size = make, size

    def __missing__(self, value: Any) -> str:
        if len(self) >= self.size:
            self.clear()
        made = self[value] = self.make(value)
        return made


# Owners and working groups repeat across documents; ``str(UUID)`` is slow Python.
_uuid_text = _Memo(str).__getitem__


def to_tantivy(action: Upsert, doc_id: str | None = None) -> tantivy.Document:
    """The engine's document for ``action`` (whose id the caller may have made already).
    On the path of every indexed document, so written for speed: one bound ``add_text``,
    enums and repeated ids not converted anew."""
    doc = action.document
    out = tantivy.Document()
    add = out.add_text
    add("id", doc_id or doc.doc_id)
    # Kinds, statuses and string enums (their values) hold no whitespace; types may.
    facets = f"k:{doc.kind} p:{doc.tlp}"
    if doc.type:
        facets = f"{facets} t:{_token(doc.type)}"
    if doc.status:
        facets = f"{facets} s:{doc.status}"
    if doc.working_group_id is not None:
        facets = f"{facets} w:{_uuid_text(doc.working_group_id)}"
    add("facets", facets)
    tags = f"d:{doc.distribution}"
    if doc.working_group_id is not None:
        tags = f"{tags} {PAIR_PREFIX}{doc.distribution}/{_uuid_text(doc.working_group_id)}"
    if doc.owner_org_id is not None:
        tags = f"{tags} o:{_uuid_text(doc.owner_org_id)}"
    if doc.language:
        tags = f"{tags} l:{_token(doc.language)}"
    add("tags", tags)
    for brand in doc.brands:
        add("brands", brand)
    title, body = doc.title, doc.body
    add("title", title)
    if body:
        add("body", body)
    keywords = " ".join(doc.keywords)
    if keywords:
        add("keywords", keywords)
    # Look-alike letters matter in names (titles, keywords), which is where they are folded.
    add("skeleton", skeleton_text(f"{title}\n{keywords}"))
    if has_cjk(title) or has_cjk(body):
        add("cjk", " ".join(cjk_bigrams(f"{title}\n{body}")))
    add("words", f"{title} {keywords}")
    out.add_unsigned("version", action.version)
    out.add_integer("updated_at", _micros(doc.updated_at))
    return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp is not exact to the
    microsecond); a naive time is local, as ``datetime.timestamp`` takes it."""
    if moment.tzinfo is None:
        moment = moment.astimezone(UTC)
    return (moment - _EPOCH) // _MICROSECOND


def _encode_token(value: str) -> str:
    """A value as one token of a whitespace-split field: percent-encoded if it holds
    whitespace or a percent sign (so decoding is unambiguous), else as it is."""
    return quote(value, safe="") if _WHITESPACE_OR_PERCENT.search(value) else value


# Types and languages repeat, so each is looked at once.
_token = _Memo(_encode_token).__getitem__


def _untoken(token: str) -> str:
    return unquote(token) if "%" in token else token


def _tombstone(doc_id: str, version: int) -> tantivy.Document:
    out = tantivy.Document()
    out.add_text("id", doc_id)
    out.add_text("state", DELETED)
    out.add_unsigned("version", version)
    return out


# --- filters and queries -----------------------------------------------------------------------


def compile_filter(rule: Filter) -> Query:
    """The sharing policy's filter as a Tantivy query (missing values never match a term).
    A filter that is a union of terms, however nested, becomes one flat union: nested
    unions each buffer their own postings where the intersection seeks them."""
    terms = _union_terms(rule)
    if terms is not None:
        return _union(terms)
    parts = [compile_filter(c) for c in rule.clauses]
    if isinstance(rule, AllOf):
        return Query.boolean_query([(Occur.Must, p) for p in parts]) if parts else Query.all_query()
    assert isinstance(rule, AnyOf)
    if not parts:
        return Query.empty_query()
    return parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Should, p) for p in parts])


def _union_terms(rule: Filter) -> list[tuple[str, str]] | None:
    """The (field, token) terms whose union ``rule`` is, or None if it is not one: a
    ``Terms``, the pair of a distribution and a working group (see ``PAIR_PREFIX``), or any
    of these."""
    if isinstance(rule, Terms):
        return [_term(rule.field.value, str(v)) for v in rule.values]
    if isinstance(rule, AnyOf):
        terms: list[tuple[str, str]] = []
        for clause in rule.clauses:
            sub = _union_terms(clause)
            if sub is None:
                return None
            terms += sub
        return terms
    clauses = rule.clauses
    if (
        len(clauses) == 2
        and all(isinstance(c, Terms) for c in clauses)
        and {c.field for c in clauses} == PAIR_FIELDS  # type: ignore[union-attr]
    ):
        by_field = {c.field: c.values for c in clauses}  # type: ignore[union-attr]
        return [
            ("tags", f"{PAIR_PREFIX}{distribution}/{group}")
            for distribution in by_field[FieldName.DISTRIBUTION]
            for group in by_field[FieldName.WORKING_GROUP_ID]
        ]
    return None


def _term(field: str, value: str) -> tuple[str, str]:
    """Where a field's value is indexed: its own field, or a prefixed token of a shared one."""
    prefix = PREFIXES.get(field)
    if prefix is None:
        return field, value
    return ("facets" if field in FACET_PREFIXES else "tags"), prefix + _token(value)


def _terms(field: str, values: list[str]) -> Query:
    """Documents whose ``field`` holds one of ``values``."""
    return _union([_term(field, v) for v in values])


def _union(terms: list[tuple[str, str]]) -> Query:
    """A few terms as a union of term queries, which the text query's intersection seeks
    by skipping; many of one field as a term set."""
    if not terms:
        return Query.empty_query()
    by_field: dict[str, list[str]] = {}
    for field, token in terms:
        by_field.setdefault(field, []).append(token)
    queries: list[Query] = []
    for field, tokens in by_field.items():
        if len(tokens) > TERM_UNION_MAX:
            queries.append(Query.term_set_query(SCHEMA, field, tokens))
        else:
            queries += [Query.term_query(SCHEMA, field, t) for t in tokens]
    return _any(queries)


def _any(queries: list[Query]) -> Query:
    return (
        queries[0]
        if len(queries) == 1
        else Query.boolean_query([(Occur.Should, q) for q in queries])
    )


def _all(queries: list[Query]) -> Query:
    return (
        queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Must, q) for q in queries])
    )


def _phrase(field: str, tokens: list[str]) -> Query:
    if len(tokens) == 1:
        return Query.term_query(SCHEMA, field, tokens[0])
    return Query.phrase_query(SCHEMA, field, tokens)


class TextPlan:
    """What a query's text asks, analysed as the documents were: the engine query, and the
    terms that mark highlights."""

    def __init__(self, text: str) -> None:
        self.clauses: list[Query] = []
        self.exact: set[str] = set()
        self.fuzzy: list[tuple[str, int]] = []
        self.skeletons: set[str] = set()
        self.cjk_runs: list[str] = []
        self._matched: dict[str, bool] = {}
        for unit in parse_query(text):
            clause = self._unit(unit.text, unit.phrase)
            if clause is not None:
                self.clauses.append(clause)

    def _unit(self, text: str, phrase: bool) -> Query | None:
        """Its CJK runs as bigram phrases, and the rest as words; both must match."""
        clauses: list[Query] = []
        if has_cjk(text):
            runs = CJK_RUN.findall(unicodedata.normalize("NFKC", text))
            self.cjk_runs.extend(runs)
            clauses += [_phrase("cjk", cjk_bigrams(run)) for run in runs]
            text = CJK_RUN.sub(" ", unicodedata.normalize("NFKC", text))
        latin = self._words(text, phrase)
        if latin is not None:
            clauses.append(latin)
        return _all(clauses) if clauses else None

    def _words(self, text: str, phrase: bool) -> Query | None:
        options: list[Query] = []
        tokens = analyse(text)
        skeleton_tokens = words(skeleton_text(text))
        if tokens:
            self.exact.update(tokens)
            self.skeletons.update(skeleton_tokens)
            if phrase:
                options += [_phrase(f, tokens) for f in ("title", "body", "keywords")]
                if skeleton_tokens:
                    options.append(_phrase("skeleton", skeleton_tokens))
            else:
                exact = _all(
                    [
                        _any(
                            [
                                Query.boost_query(Query.term_query(SCHEMA, "title", t), 3.0),
                                Query.term_query(SCHEMA, "body", t),
                                Query.boost_query(Query.term_query(SCHEMA, "keywords", t), 2.0),
                            ]
                        )
                        for t in tokens
                    ]
                )
                options.append(Query.boost_query(exact, 2.0))
                plain = words(text)
                if any(fuzziness(w) for w in plain):
                    # Typos are forgiven on the words as written too: a stemmer may cut a
                    # misspelt word elsewhere than the right one ("prts" vs "parts" → "part").
                    self.fuzzy.extend((w, fuzziness(w)) for w in plain)
                    options.append(
                        _all(
                            [
                                Query.fuzzy_term_query(SCHEMA, "words", w, distance=fuzziness(w))
                                if fuzziness(w)
                                else Query.term_query(SCHEMA, "words", w)
                                for w in plain
                            ]
                        )
                    )
                if any(fuzziness(t) for t in tokens):
                    self.fuzzy.extend((t, fuzziness(t)) for t in tokens)
                    options.append(
                        _all(
                            [
                                # Titles and keywords are forgiven through ``words``
                                # above; here the body's stemmed terms.
                                Query.fuzzy_term_query(SCHEMA, "body", t, distance=fuzziness(t))
                                if fuzziness(t)
                                else _any(
                                    [
                                        Query.term_query(SCHEMA, f, t)
                                        for f in ("title", "body", "keywords")
                                    ]
                                )
                                for t in tokens
                            ]
                        )
                    )
                if skeleton_tokens:
                    options.append(
                        _all([Query.term_query(SCHEMA, "skeleton", s) for s in skeleton_tokens])
                    )
        return _any(options) if options else None

    def query(self) -> Query | None:
        return _all(self.clauses) if self.clauses else None

    def matches_word(self, word: str) -> bool:
        known = self._matched.get(word)
        if known is None:
            known = self._matched[word] = self._matches_word(word)
        return known

    def _matches_word(self, word: str) -> bool:
        tokens, skeletons = _word_keys(word)
        for token in tokens:
            if token in self.exact:
                return True
            if any(within_distance(token, term, d) for term, d in self.fuzzy):
                return True
        return bool(skeletons) and all(s in self.skeletons for s in skeletons)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = [(m.start(), m.end()) for m in WORD.finditer(text) if self.matches_word(m.group())]
        for run in self.cjk_runs:
            start = text.find(run)
            while start >= 0:
                found.append((start, start + len(run)))
                start = text.find(run, start + 1)
        return found


def filters_query(query: SearchQuery) -> list[Query]:
    parts = [compile_filter(query.visibility)]
    for field, values in query.filters.terms().items():
        if values:
            parts.append(_terms(field, list(values)))
    f = query.filters
    if f.updated_after or f.updated_before:
        parts.append(
            Query.range_query(
                SCHEMA,
                "updated_at",
                tantivy.FieldType.Integer,
                None if f.updated_after is None else _micros(f.updated_after),
                None if f.updated_before is None else _micros(f.updated_before),
                include_lower=f.updated_after is None,
                include_upper=f.updated_before is None,
            )
        )
    return parts


FACET_AGGREGATIONS = {
    "facets": {"terms": {"field": "facets", "size": FACET_BUCKETS}},
    **{name: {"terms": {"field": name, "size": FACET_SIZE}} for name in KEYWORD_FIELDS},
}


_FACET_OF_PREFIX = {prefix: name for name, prefix in FACET_PREFIXES.items()}


def _facet_counts(raw: dict[str, Any]) -> tuple[dict[FacetName, list[FacetCount]], int | None]:
    """The facets from the engine's aggregations, and the total (every document has one
    kind) unless some buckets of ``facets`` were left out."""
    by_field: dict[str, list[FacetCount]] = {name: [] for name in FACET_PREFIXES}
    shared = raw.get("facets", {})
    for bucket in shared.get("buckets", []):
        key = str(bucket["key"])
        by_field[_FACET_OF_PREFIX[key[:2]]].append(
            FacetCount(_untoken(key[2:]), int(bucket["doc_count"]))
        )
    facets: dict[FacetName, list[FacetCount]] = {}
    for facet in FacetName:
        if facet.value in FACET_PREFIXES:
            counts = sorted(by_field[facet.value], key=lambda c: (-c.count, c.value))
        else:
            buckets = raw.get(facet.value, {}).get("buckets", [])
            counts = [FacetCount(str(b["key"]), int(b["doc_count"])) for b in buckets]
        facets[facet] = counts[:FACET_SIZE]
    complete = not shared.get("sum_other_doc_count")
    total = sum(c.count for c in by_field["kind"]) if complete else None
    return facets, total


# The deepest page a cursor may reach: the engine allocates offset + limit slots, so a forged
# cursor far beyond any real result set would exhaust memory instead of finding nothing.
MAX_OFFSET = 10_000


def _parse_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = int(cursor.removeprefix("o:"))
    except ValueError:
        raise InvalidCursor("not a cursor of this backend") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidCursor("not a cursor of this backend")
    return offset


class TantivyBackend:
    name = "tantivy"

    def __init__(self, root: Path, *, heap_size: int = 64_000_000, writer_threads: int = 1):
        self.root = Path(root)
        self.heap_size = heap_size
        self.writer_threads = writer_threads
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._index_name: str | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tantivy-facets")

    # --- the live index ---

    def _pointer(self) -> str | None:
        try:
            return (self.root / POINTER).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _write_pointer(self, name: str) -> None:
        tmp = self.root / f".{POINTER}.{uuid.uuid4().hex}"
        tmp.write_text(name, encoding="utf-8")
        os.replace(tmp, self.root / POINTER)

    def _live(self) -> tantivy.Index:
        name = self._pointer()
        if name is None:
            self._ensure()
            name = self._pointer()
            assert name is not None
        with self._lock:
            if self._index is None or self._index_name != name:
                try:
                    self._index = _open_index(self.root / name)
                except (OSError, ValueError) as exc:
                    # A schema changed by an upgrade lands here too: a rebuild makes a new one.
                    raise SearchUnavailable(
                        f"cannot open the index {name} ({exc}); "
                        "if Alliance was upgraded, run 'alliance search reindex'"
                    ) from exc
                self._index_name = name
            return self._index

    def _ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if self._pointer() is None:
                name = _new_index_name()
                _open_index(self.root / name)
                self._write_pointer(name)
        except OSError as exc:
            raise SearchUnavailable(f"cannot create the index under {self.root}: {exc}") from exc

    async def ensure_index(self) -> None:
        await asyncio.to_thread(self._live)

    # --- writing ---

    async def bulk(self, actions: Sequence[IndexAction]) -> BulkOutcome:
        return await asyncio.to_thread(self.bulk_sync, actions)

    def bulk_sync(self, actions: Sequence[IndexAction]) -> BulkOutcome:
        return _bulk(self._live(), actions, self.heap_size, self.writer_threads)

    # --- reading ---

    def _searcher(self) -> tantivy.Searcher:
        index = self._live()
        index.reload()
        return index.searcher()

    async def search(self, query: SearchQuery) -> SearchResult:
        return await asyncio.to_thread(self.search_sync, query)

    def search_sync(self, query: SearchQuery) -> SearchResult:
        offset = _parse_offset(query.after)
        searcher = self._searcher()
        plan = TextPlan(query.text)
        text_query = plan.query()
        parts = filters_query(query)
        # Filters do not score: a constant-score wrapper spares BM25 on every clause.
        filters = Query.const_score_query(_all(parts), 0.0)
        engine_query = _all([text_query, filters]) if text_query is not None else filters
        # Facets are counted on a second thread while the first collects the page (the
        # engine releases the GIL), so a page costs the slower of the two, not their sum.
        aggregated = (
            self._pool.submit(searcher.aggregate, engine_query, FACET_AGGREGATIONS)
            if query.facets
            else None
        )
        # With facets, the total is their kind counts (every document has one kind), so the
        # page is collected without counting, which lets the engine skip blocks that
        # cannot reach the top hits.
        count = aggregated is None
        if text_query is None:
            result = searcher.search(
                engine_query,
                query.limit + 1,
                count=count,
                offset=offset,
                order_by_field="updated_at",
            )
        else:
            result = searcher.search(engine_query, query.limit + 1, count=count, offset=offset)
        hits = []
        for position, (score, address) in enumerate(result.hits[: query.limit], offset + 1):
            stored = searcher.doc(address).to_dict()
            highlights: list[Highlight] = []
            if query.highlight and text_query is not None:
                for field in HIGHLIGHT_FIELDS:
                    value = " ".join(stored.get(field, []))
                    fragment = highlight(value, plan.spans(value))
                    if fragment:
                        highlights.append(Highlight(field, (fragment,)))
            kind, object_id = split_document_id(stored["id"][0])
            hits.append(
                SearchHit(
                    kind=kind,
                    object_id=object_id,
                    score=float(score) if text_query is not None else 1.0,
                    highlights=tuple(highlights),
                    cursor=f"o:{position}",
                )
            )
        facets: dict[FacetName, list[FacetCount]] = {}
        total = int(result.count or 0)
        if aggregated is not None:
            facets, counted = _facet_counts(aggregated.result())
            total = (
                counted if counted is not None else int(searcher.search(engine_query, 1).count or 0)
            )
        more = len(result.hits) > query.limit and offset + query.limit <= MAX_OFFSET
        return SearchResult(
            hits=hits,
            total=total,
            next_cursor=f"o:{offset + query.limit}" if more else None,
            facets=facets,
        )

    async def suggest(self, prefix: str, visibility: Filter, limit: int) -> list[Suggestion]:
        return await asyncio.to_thread(self.suggest_sync, prefix, visibility, limit)

    def suggest_sync(self, prefix: str, visibility: Filter, limit: int) -> list[Suggestion]:
        tokens = words(prefix)
        if not tokens or limit <= 0:
            return []
        searcher = self._searcher()
        found = searcher.terms_with_prefix(
            "words", tokens[-1], filter_query=compile_filter(visibility), limit=limit
        )
        return [Suggestion(term, int(count)) for term, count in found if count > 0][:limit]

    async def count(self, visibility: Filter) -> int:
        def run() -> int:
            return int(self._searcher().search(compile_filter(visibility), 1).count or 0)

        return await asyncio.to_thread(run)

    async def versions(self) -> dict[str, int]:
        def run() -> dict[str, int]:
            searcher = self._searcher()
            live = Query.all_query().and_must_not_match(Query.term_query(SCHEMA, "state", DELETED))
            result = searcher.search(live, max(searcher.num_docs, 1))
            addresses = [address for _score, address in result.hits]
            versions = searcher.fast_field_values("version", addresses)
            return {
                searcher.doc(address).get_first("id"): int(version or 0)
                for address, version in zip(addresses, versions, strict=True)
            }

        return await asyncio.to_thread(run)

    async def rebuild(self) -> TantivyRebuild:
        def start() -> TantivyRebuild:
            # The live index need not open: a rebuild is how an index of an older schema
            # is replaced.
            self.root.mkdir(parents=True, exist_ok=True)
            name = _new_index_name()
            return TantivyRebuild(self, name, _open_index(self.root / name))

        return await asyncio.to_thread(start)

    async def close(self) -> None:
        with self._lock:
            self._index = None
            self._index_name = None
        self._pool.shutdown(wait=False)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tantivy-facets")


class TantivyRebuild:
    """A new index filled by one writer held from the first bulk to :meth:`finish`: the
    index is not live, so nothing needs to be visible before the swap (one commit, at the
    end, instead of one per page)."""

    def __init__(self, backend: TantivyBackend, name: str, index: tantivy.Index) -> None:
        self.backend, self.name, self.index = backend, name, index
        self._writer: Any = None
        self._versions: dict[str, int] = {}

    def _bulk(self, actions: Sequence[IndexAction]) -> BulkOutcome:
        if self._writer is None:
            self._writer = self.index.writer(
                heap_size=max(self.backend.heap_size, 256_000_000),
                num_threads=self.backend.writer_threads,
            )
        applied = stale = 0
        versions, writer = self._versions, self._writer
        add = writer.add_document
        for action in actions:
            upsert = isinstance(action, Upsert)
            key = action.document.doc_id if upsert else action.doc_id
            known = versions.get(key)
            if known is not None:
                if known >= action.version:
                    stale += 1
                    continue
                writer.delete_documents_by_term("id", key)
            versions[key] = action.version
            add(to_tantivy(action, key) if upsert else _tombstone(key, action.version))
            applied += 1
        return BulkOutcome(applied, stale)

    async def bulk(self, actions: Sequence[IndexAction]) -> BulkOutcome:
        return await asyncio.to_thread(self._bulk, actions)

    def _commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None

    async def finish(self) -> None:
        def swap() -> None:
            self._commit()
            old = self.backend._pointer()
            self.backend._write_pointer(self.name)
            if old and old != self.name:
                # Readers holding the old files keep them until they reopen (POSIX unlink).
                shutil.rmtree(self.backend.root / old, ignore_errors=True)

        await asyncio.to_thread(swap)

    async def abort(self) -> None:
        def drop() -> None:
            if self._writer is not None:
                self._writer.rollback()
                self._writer.wait_merging_threads()
                self._writer = None
            shutil.rmtree(self.backend.root / self.name, ignore_errors=True)

        await asyncio.to_thread(drop)


def _new_index_name() -> str:
    return f"index-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"


def _bulk(
    index: tantivy.Index, actions: Sequence[IndexAction], heap_size: int, threads: int
) -> BulkOutcome:
    latest: dict[str, IndexAction] = {}
    for action in actions:
        key = action.document.doc_id if isinstance(action, Upsert) else action.doc_id
        if key not in latest or latest[key].version < action.version:
            latest[key] = action
    if not latest:
        return BulkOutcome(0, 0)
    index.reload()
    existing = _indexed_versions(index.searcher(), list(latest))
    todo = [a for k, a in latest.items() if existing.get(k, -1) < a.version]
    stale = len(actions) - len(todo)
    if not todo:
        return BulkOutcome(0, stale)
    try:
        writer = index.writer(heap_size=heap_size, num_threads=threads)
    except ValueError as exc:  # LockBusy: another writer holds the index
        raise SearchUnavailable(f"the index is locked by another writer: {exc}") from exc
    try:
        for action in todo:
            key = action.document.doc_id if isinstance(action, Upsert) else action.doc_id
            if key in existing:
                writer.delete_documents_by_term("id", key)
            if isinstance(action, Upsert):
                writer.add_document(to_tantivy(action, key))
            else:
                writer.add_document(_tombstone(key, action.version))
        writer.commit()
    except (OSError, ValueError) as exc:
        writer.rollback()
        raise SearchUnavailable(f"indexing failed: {exc}") from exc
    finally:
        writer.wait_merging_threads()
    index.reload()
    return BulkOutcome(len(todo), stale)


def _indexed_versions(searcher: tantivy.Searcher, ids: list[str]) -> dict[str, int]:
    if searcher.num_docs == 0:
        return {}
    found: dict[str, int] = {}
    for start in range(0, len(ids), 1024):
        chunk = ids[start : start + 1024]
        result = searcher.search(Query.term_set_query(SCHEMA, "id", chunk), len(chunk) * 2)
        if not result.hits:
            continue
        addresses = [a for _s, a in result.hits]
        versions = searcher.fast_field_values("version", addresses)
        for address, version in zip(addresses, versions, strict=True):
            doc_id = searcher.doc(address).get_first("id")
            found[doc_id] = max(found.get(doc_id, -1), int(version or 0))
    return found
