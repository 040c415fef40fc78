"""The request bodies the Elasticsearch backend sends, as pure functions (tests validate each
against Elastic's published OpenAPI description), and the parsing of its responses.

Analysis mirrors the Tantivy backend: ``alliance_text`` is the standard tokenizer, width
folding, lowercase, ASCII folding and Porter2 stemming (Tantivy's English stemmer is the
same Snowball algorithm); CJK text has sub-fields analysed by the built-in ``cjk_bigram``
filter, as the ``cjk`` analyzer does, so no plugin is needed (``analysis-icu`` would only
improve tokenising of scripts without spaces such as Thai; see docker-compose.yml). The
confusable skeleton and the plain word list are computed in Python (:mod:`search.analysis`)
and sent as fields of their own.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from typing import Any

from alliance.search.documents import SearchDocument
from alliance.sharing.policy import AllOf, AnyOf, Filter, Terms
from search.analysis import CJK_RUN, has_cjk, parse_query, plain_words, skeleton_text
from search.backend import FACET_SIZE, InvalidCursor
from search.query import (
    Delete,
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

KEYWORD_FIELDS = (
    "id",
    "object_id",
    "kind",
    "type",
    "status",
    "brands",
    "language",
    "owner_org_id",
    "working_group_id",
    "distribution",
    "tlp",
    "words",
)
HIGHLIGHT_FIELDS = ("title", "body", "title.cjk", "body.cjk")

ANALYSIS: dict[str, Any] = {
    "filter": {
        "alliance_english_stemmer": {"type": "stemmer", "language": "porter2"},
        "alliance_english_possessive": {"type": "stemmer", "language": "possessive_english"},
    },
    "analyzer": {
        "alliance_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": [
                "cjk_width",
                "lowercase",
                "asciifolding",
                "alliance_english_possessive",
                "alliance_english_stemmer",
            ],
        },
        "alliance_words": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase", "asciifolding"],
        },
        "alliance_cjk": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase", "cjk_bigram"],
        },
    },
}


def _text_with_cjk() -> dict[str, Any]:
    return {
        "type": "text",
        "analyzer": "alliance_text",
        "fields": {"cjk": {"type": "text", "analyzer": "alliance_cjk"}},
    }


MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        **{name: {"type": "keyword"} for name in KEYWORD_FIELDS},
        "title": _text_with_cjk(),
        "body": _text_with_cjk(),
        "keywords": {"type": "text", "analyzer": "alliance_text"},
        "skeleton": {"type": "text", "analyzer": "alliance_words"},
        "version": {"type": "long"},
        "updated_at": {"type": "date"},
    },
}


def index_template(prefix: str) -> dict[str, Any]:
    """``PUT _index_template/<prefix>``: every ``<prefix>-v-*`` index gets these settings."""
    return {
        "index_patterns": [f"{prefix}-v-*"],
        "priority": 200,
        "template": {
            "settings": {"analysis": copy.deepcopy(ANALYSIS)},
            "mappings": copy.deepcopy(MAPPINGS),
        },
    }


def create_index(read_alias: str | None = None, write_alias: str | None = None) -> dict[str, Any]:
    """``PUT <index>``: the template supplies settings and mappings; aliases for a first index."""
    aliases: dict[str, Any] = {}
    if read_alias:
        aliases[read_alias] = {}
    if write_alias:
        aliases[write_alias] = {"is_write_index": True}
    return {"aliases": aliases} if aliases else {}


def alias_actions(*actions: tuple[str, str, str | None]) -> dict[str, Any]:
    """``POST _aliases`` (atomic): ``("add"|"remove", index, alias)`` or ``("remove_index",
    index, None)``; a write alias is added as the write index."""
    out: list[dict[str, Any]] = []
    for verb, index, alias in actions:
        if verb == "remove_index":
            out.append({"remove_index": {"index": index}})
        elif verb == "add" and alias and alias.endswith("-write"):
            out.append({"add": {"index": index, "alias": alias, "is_write_index": True}})
        else:
            out.append({verb: {"index": index, "alias": alias}})
    return {"actions": out}


def source(document: SearchDocument, version: int) -> dict[str, Any]:
    keywords = " ".join(document.keywords)
    body: dict[str, Any] = {
        "id": document.doc_id,
        "object_id": document.object_id,
        "kind": document.kind,
        "title": document.title,
        "body": document.body,
        "keywords": keywords,
        "skeleton": skeleton_text(f"{document.title}\n{keywords}"),
        "words": sorted(set(plain_words(f"{document.title} {keywords}"))),
        "brands": list(document.brands),
        "version": version,
        "updated_at": document.updated_at.isoformat(),
    }
    for name in ("type", "status", "language"):
        value = getattr(document, name)
        if value:
            body[name] = value
    for name, value in document.visibility_fields().items():
        if value is not None:
            body[name.value] = value
    return body


def bulk_lines(index: str, actions: list[IndexAction]) -> list[dict[str, Any]]:
    """The NDJSON lines of ``POST _bulk``: external versions, so an older write never wins."""
    lines: list[dict[str, Any]] = []
    for action in actions:
        if isinstance(action, Upsert):
            meta = {
                "_index": index,
                "_id": action.document.doc_id,
                "version": action.version,
                "version_type": "external",
            }
            lines += [{"index": meta}, source(action.document, action.version)]
        else:
            assert isinstance(action, Delete)
            lines.append(
                {
                    "delete": {
                        "_index": index,
                        "_id": action.doc_id,
                        "version": action.version,
                        "version_type": "external",
                    }
                }
            )
    return lines


def compile_filter(rule: Filter) -> dict[str, Any]:
    """The sharing policy's filter in the query DSL (a missing field never matches ``terms``)."""
    if isinstance(rule, Terms):
        if not rule.values:
            return {"match_none": {}}
        return {"terms": {rule.field.value: [str(v) for v in rule.values]}}
    parts = [compile_filter(c) for c in rule.clauses]
    if isinstance(rule, AllOf):
        return {"bool": {"filter": parts}} if parts else {"match_all": {}}
    assert isinstance(rule, AnyOf)
    if not parts:
        return {"match_none": {}}
    return {"bool": {"should": parts, "minimum_should_match": 1}}


def _unit_query(text: str, phrase: bool) -> dict[str, Any] | None:
    """Its CJK runs as bigram phrases, and the rest as words; both must match (as in the
    Tantivy backend: the text fields' own analysis would split CJK into single characters)."""
    clauses: list[dict[str, Any]] = []
    if has_cjk(text):
        normalised = unicodedata.normalize("NFKC", text)
        for run in CJK_RUN.findall(normalised):
            clauses.append(
                {
                    "bool": {
                        "should": [
                            {"match_phrase": {f: {"query": run}}} for f in ("title.cjk", "body.cjk")
                        ],
                        "minimum_should_match": 1,
                    }
                }
            )
        text = CJK_RUN.sub(" ", normalised)
    if plain_words(text):
        clauses.append(_words_query(text, phrase))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"bool": {"must": clauses}}


def _words_query(text: str, phrase: bool) -> dict[str, Any]:
    options: list[dict[str, Any]] = []
    skeleton = skeleton_text(text)
    if phrase:
        options += [{"match_phrase": {f: {"query": text}}} for f in ("title", "body", "keywords")]
        options.append({"match_phrase": {"skeleton": {"query": skeleton}}})
    else:
        options.append(
            {
                "multi_match": {
                    "query": text,
                    "fields": ["title^3", "body", "keywords^2"],
                    "operator": "and",
                    "boost": 2,
                }
            }
        )
        options.append(
            {
                "multi_match": {
                    "query": text,
                    "fields": ["title", "body", "keywords"],
                    "operator": "and",
                    "fuzziness": "AUTO",
                }
            }
        )
        words = plain_words(text)
        if words:
            options.append(
                {
                    "bool": {
                        "filter": [
                            {"fuzzy": {"words": {"value": w, "fuzziness": "AUTO"}}} for w in words
                        ]
                    }
                }
            )
        options.append({"match": {"skeleton": {"query": skeleton, "operator": "and"}}})
    return {"bool": {"should": options, "minimum_should_match": 1}}


def filter_clauses(query: SearchQuery) -> list[dict[str, Any]]:
    clauses = [compile_filter(query.visibility)]
    for field, values in query.filters.terms().items():
        if values:
            clauses.append({"terms": {field: list(values)}})
    f = query.filters
    if f.updated_after or f.updated_before:
        bounds: dict[str, Any] = {}
        if f.updated_after:
            bounds["gt"] = f.updated_after.isoformat()
        if f.updated_before:
            bounds["lt"] = f.updated_before.isoformat()
        clauses.append({"range": {"updated_at": bounds}})
    return clauses


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        values = json.loads(cursor.removeprefix("s:")) if cursor.startswith("s:") else None
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != 2:
        raise InvalidCursor("not a cursor of this backend")
    return values


def search_body(query: SearchQuery) -> dict[str, Any]:
    units = [q for u in parse_query(query.text) if (q := _unit_query(u.text, u.phrase))]
    bool_query: dict[str, Any] = {"filter": filter_clauses(query)}
    if units:
        bool_query["must"] = units
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "size": query.limit + 1,
        "track_total_hits": True,
        "sort": (
            [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
            if units
            else [{"updated_at": {"order": "desc"}}, {"id": {"order": "asc"}}]
        ),
        "_source": {"includes": ["kind", "object_id"]},
    }
    after = decode_cursor(query.after)
    if after is not None:
        body["search_after"] = after
    if query.facets:
        body["aggs"] = {
            facet.value: {"terms": {"field": facet.value, "size": FACET_SIZE}}
            for facet in FacetName
        }
    if query.highlight and units:
        body["highlight"] = {
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            # The list form: the object form holds one field only.
            "fields": [
                {f: {"number_of_fragments": 1, "fragment_size": 160}} for f in HIGHLIGHT_FIELDS
            ],
        }
    return body


def parse_search(query: SearchQuery, response: dict[str, Any]) -> SearchResult:
    raw_hits = response["hits"]["hits"]
    hits = []
    for raw in raw_hits[: query.limit]:
        merged: dict[str, list[str]] = {}
        for field, fragments in (raw.get("highlight") or {}).items():
            merged.setdefault(field.split(".")[0], []).extend(fragments)
        hits.append(
            SearchHit(
                kind=raw["_source"]["kind"],
                object_id=raw["_source"]["object_id"],
                score=float(raw.get("_score") or 1.0),
                highlights=tuple(
                    Highlight(f, (fr[0],)) for f in ("title", "body") if (fr := merged.get(f))
                ),
                cursor="s:" + json.dumps(raw["sort"], separators=(",", ":")),
            )
        )
    total = response["hits"]["total"]
    facets: dict[FacetName, list[FacetCount]] = {}
    for facet in FacetName:
        agg = (response.get("aggregations") or {}).get(facet.value)
        if agg is not None:
            facets[facet] = [FacetCount(str(b["key"]), int(b["doc_count"])) for b in agg["buckets"]]
    more = len(raw_hits) > query.limit
    return SearchResult(
        hits=hits,
        total=int(total["value"] if isinstance(total, dict) else total),
        next_cursor=hits[-1].cursor if more and hits else None,
        facets=facets,
    )


def suggest_body(prefix: str, visibility: Filter, limit: int) -> dict[str, Any]:
    import re

    return {
        "size": 0,
        "query": {
            "bool": {
                "filter": [compile_filter(visibility), {"prefix": {"words": {"value": prefix}}}]
            }
        },
        "aggs": {
            "suggest": {
                "terms": {"field": "words", "include": re.escape(prefix) + ".*", "size": limit}
            }
        },
    }


def parse_suggest(response: dict[str, Any]) -> list[Suggestion]:
    buckets = response.get("aggregations", {}).get("suggest", {}).get("buckets", [])
    return [Suggestion(str(b["key"]), int(b["doc_count"])) for b in buckets]


def count_body(visibility: Filter) -> dict[str, Any]:
    return {"query": compile_filter(visibility)}


def versions_body(after: list[Any] | None, size: int = 1000) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": {"match_all": {}},
        "size": size,
        "sort": [{"id": {"order": "asc"}}],
        "_source": {"includes": ["id", "version"]},
    }
    if after is not None:
        body["search_after"] = after
    return body
