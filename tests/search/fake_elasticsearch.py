"""A stand-in for an Elasticsearch server at the transport's edge (none runs on these
machines). It keeps indices, aliases and external versions in memory, evaluates the filter
part of the query DSL (terms, bool, range, prefix, match_all/none; text clauses match
everything), and validates every request body the client sends and every response it
returns against Elastic's published OpenAPI description. Validation failures are kept in
``Cluster.problems`` (and answered with a 400), so a test fails on any of them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from elastic_transport import ApiResponseMeta, BaseAsyncNode, HttpHeaders
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport._node._base import NodeApiResponse

from tests.search.es_spec import request_errors, response_errors

HEADERS = {"content-type": "application/json", "x-elastic-product": "Elasticsearch"}
SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}


@dataclass
class Index:
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)  # tombstones stay


@dataclass
class Cluster:
    spec: dict[str, Any]
    indices: dict[str, Index] = field(default_factory=dict)
    aliases: dict[str, dict[str, bool]] = field(default_factory=dict)  # alias -> index -> write
    templates: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    down: bool = False

    def node_class(self) -> type[BaseAsyncNode]:
        return type("FakeNode", (FakeNode,), {"cluster": self})

    # --- request handling ---

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        segments = [s for s in path.split("/") if s]
        if segments[0] == "_index_template":
            if method == "DELETE":
                self.templates.pop(segments[1], None)
            else:
                self.templates[segments[1]] = body
            return 200, {"acknowledged": True}
        if segments[0] == "_alias":
            found = self.aliases.get(segments[1])
            if not found:
                return 404, {"error": f"alias [{segments[1]}] missing", "status": 404}
            return 200, {i: {"aliases": {segments[1]: {}}} for i in found}
        if segments[0] == "_aliases":
            for action in body["actions"]:
                ((verb, args),) = action.items()
                if verb == "add":
                    self.aliases.setdefault(args["alias"], {})[args["index"]] = bool(
                        args.get("is_write_index")
                    )
                elif verb == "remove":
                    self.aliases.get(args["alias"], {}).pop(args["index"], None)
                else:
                    self._drop(args["index"])
            return 200, {"acknowledged": True}
        if segments[0] == "_bulk":
            return 200, self._bulk(body)
        if len(segments) == 1:
            if method == "DELETE":
                self._drop(segments[0])
                return 200, {"acknowledged": True}
            self.indices[segments[0]] = Index()
            for alias, options in (body or {}).get("aliases", {}).items():
                self.aliases.setdefault(alias, {})[segments[0]] = bool(
                    options.get("is_write_index")
                )
            return 200, {"index": segments[0], "shards_acknowledged": True, "acknowledged": True}
        target, action = segments
        if action == "_refresh":
            return 200, {"_shards": SHARDS}
        docs = [d for name in self._resolve(target) for d in self.indices[name].docs.values()]
        matched = [d for d in docs if self.matches((body or {}).get("query", {}), d)]
        if action == "_count":
            return 200, {"count": len(matched), "_shards": SHARDS}
        return 200, self._search(body, matched)

    def _drop(self, index: str) -> None:
        self.indices.pop(index, None)
        for members in self.aliases.values():
            members.pop(index, None)

    def _resolve(self, name: str, *, write: bool = False) -> list[str]:
        if name in self.indices:
            return [name]
        members = self.aliases.get(name, {})
        if write:
            return [i for i, is_write in members.items() if is_write] or list(members)[:1]
        return list(members)

    def _bulk(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        items = []
        i = 0
        while i < len(lines):
            ((op, meta),) = lines[i].items()
            (index,) = self._resolve(meta["_index"], write=True)
            store = self.indices[index]
            current = store.versions.get(meta["_id"])
            version = meta["version"]
            result: dict[str, Any] = {"_index": index, "_id": meta["_id"], "_version": version}
            if current is not None and current >= version:
                result |= {
                    "status": 409,
                    "error": {"type": "version_conflict_engine_exception", "reason": "newer"},
                }
            elif op == "delete":
                found = store.docs.pop(meta["_id"], None)
                store.versions[meta["_id"]] = version
                result |= {
                    "status": 200 if found else 404,
                    "result": "deleted" if found else "not_found",
                }
            else:
                store.docs[meta["_id"]] = lines[i + 1]
                store.versions[meta["_id"]] = version
                result |= {"status": 201 if current is None else 200, "result": "created"}
            items.append({op: result})
            i += 1 if op == "delete" else 2
        return {
            "took": 1,
            "errors": any(r["status"] >= 400 for it in items for r in it.values()),
            "items": items,
        }

    def _search(self, body: dict[str, Any], matched: list[dict[str, Any]]) -> dict[str, Any]:
        sort = body.get("sort", [])

        def key(doc: dict[str, Any]) -> list[Any]:
            return [1.0 if "_score" in s else doc.get(next(iter(s))) for s in sort]

        def ordered(doc: dict[str, Any]) -> tuple[Any, ...]:
            out = []
            for spec, value in zip(sort, key(doc), strict=True):
                ((name, options),) = spec.items()
                desc = options.get("order") == "desc"
                if isinstance(value, str) and desc:
                    out.append(tuple(-ord(c) for c in value))
                else:
                    out.append(-value if desc and isinstance(value, float) else value)
            return tuple(out)

        ranked = sorted(matched, key=ordered)
        after = body.get("search_after")
        if after is not None:
            ranked = [
                d
                for d in ranked
                if ordered(d)
                > ordered(dict(zip([next(iter(s)) for s in sort], after, strict=True)))
            ]
        includes = body.get("_source", {}).get("includes", [])
        hits = [
            {
                "_index": "fake",
                "_id": d["id"],
                "_score": 1.0,
                "_source": {k: d[k] for k in includes if k in d},
                "sort": key(d),
            }
            for d in ranked[: body.get("size", 10)]
        ]
        response: dict[str, Any] = {
            "took": 1,
            "timed_out": False,
            "_shards": SHARDS,
            "hits": {
                "total": {"value": len(matched), "relation": "eq"},
                "max_score": 1.0,
                "hits": hits,
            },
        }
        if "aggs" in body:
            response["aggregations"] = {
                name: {
                    "doc_count_error_upper_bound": 0,
                    "sum_other_doc_count": 0,
                    "buckets": _buckets(matched, agg["terms"]),
                }
                for name, agg in body["aggs"].items()
            }
        return response

    # --- the filter part of the query DSL ---

    def matches(self, query: dict[str, Any], doc: dict[str, Any]) -> bool:
        if not query:
            return True
        ((kind, args),) = query.items()
        if kind == "match_all":
            return True
        if kind == "match_none":
            return False
        if kind == "terms":
            ((name, values),) = args.items()
            have = doc.get(name)
            have = have if isinstance(have, list) else [have]
            return any(v in values for v in have if v is not None)
        if kind == "prefix":
            ((name, options),) = args.items()
            return any(str(v).startswith(options["value"]) for v in _values(doc, name))
        if kind == "range":
            ((name, bounds),) = args.items()
            if name not in doc:
                return False
            value = datetime.fromisoformat(doc[name])
            if "gt" in bounds and not value > datetime.fromisoformat(bounds["gt"]):
                return False
            return not ("lt" in bounds and not value < datetime.fromisoformat(bounds["lt"]))
        if kind == "bool":

            def clauses(name: str) -> list[dict[str, Any]]:
                value = args.get(name, [])
                return value if isinstance(value, list) else [value]

            if not all(self.matches(q, doc) for q in clauses("filter") + clauses("must")):
                return False
            if any(self.matches(q, doc) for q in clauses("must_not")):
                return False
            should = clauses("should")
            needed = args.get(
                "minimum_should_match", 0 if clauses("filter") + clauses("must") else 1
            )
            return not should or sum(self.matches(q, doc) for q in should) >= int(needed)
        return True  # a text query: this stand-in does not analyse text


def _values(doc: dict[str, Any], name: str) -> list[Any]:
    value = doc.get(name)
    return value if isinstance(value, list) else [] if value is None else [value]


def _buckets(docs: list[dict[str, Any]], terms: dict[str, Any]) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for doc in docs:
        for value in set(_values(doc, terms["field"])):
            if "include" in terms:
                import re

                if not re.fullmatch(terms["include"], str(value)):
                    continue
            counts[str(value)] = counts.get(str(value), 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: terms.get("size", 10)]
    return [{"key": k, "doc_count": n} for k, n in ranked]


class FakeNode(BaseAsyncNode):
    cluster: Cluster

    async def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: Any = None,
        request_timeout: Any = None,
    ) -> NodeApiResponse:
        cluster = self.cluster
        if cluster.down:
            raise TransportConnectionError("connection refused (the fake cluster is down)")
        path = urlsplit(target).path
        text = body.decode() if body else ""
        if path == "/_bulk":
            parsed: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            parsed = json.loads(text) if text else None
        cluster.requests.append((method, path, parsed))
        problems = request_errors(cluster.spec, method, path, parsed)
        if problems:
            cluster.problems += [f"{method} {path} request: {p}" for p in problems]
            status, answer = 400, {"error": "; ".join(problems)[:500], "status": 400}
        else:
            status, answer = cluster.handle(method, path, parsed)
            cluster.problems += [
                f"{method} {path} response: {p}"
                for p in response_errors(cluster.spec, method, path, status, answer)
            ]
        meta = ApiResponseMeta(status, "1.1", HttpHeaders(HEADERS), 0.001, self.config)
        return NodeApiResponse(meta, json.dumps(answer).encode())

    async def close(self) -> None:
        return None
