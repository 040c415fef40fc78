"""Elastic's published OpenAPI description as request and response validators.

The description rarely forbids unknown keys, so a misspelt option would pass a plain
validation; schemas here are made strict first: each named object schema is flattened
through its ``allOf`` parts and gets ``additionalProperties: false``. A body the backend
sends must then use only keys and shapes the specification knows.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SPEC_PATH = ("elasticsearch", "elasticsearch-serverless-openapi.json")
REF = "#/components/schemas/"
# Where the description lost a TypeScript index signature: sort options are keyed by field
# name as well as by ``_score``, ``_doc``… (``SortOptions`` in elasticsearch-specification).
# The description has no ``FieldSort``; ``ScoreSort`` (an ``order``) is the part we use of it.
DYNAMIC_KEYS = {"_types.SortOptions": {"$ref": REF + "_types.ScoreSort"}}
# Queries keyed by field name besides their own options (``terms: {field: [values]}``).
INDEX_SIGNATURES = {"_types.query_dsl.TermsQuery"}


@functools.cache
def load_spec(shared: Path) -> dict[str, Any]:
    spec = _one_of_as_any_of(json.loads(shared.joinpath(*SPEC_PATH).read_text(encoding="utf-8")))
    schemas = spec["components"]["schemas"]
    spec["components"]["schemas"] = {name: _strict(schemas, name) for name in schemas}
    return spec


def _one_of_as_any_of(node: Any) -> Any:
    """The description's ``oneOf`` lists overlap (a number is both ``long`` and ``double``);
    it means "any of these", as OpenAPI tools read it."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _one_of_as_any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_one_of_as_any_of(v) for v in node]
    return node


def _strict(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    schema = copy.deepcopy(schemas[name])
    if name in INDEX_SIGNATURES:
        # Keys are field names, which the description cannot say: its other parts, made
        # strict, would refuse them, so it stays open.
        return {"type": "object"}
    merged = _merged_object(schemas, schema, set())
    if merged is None:
        return schema
    properties, required = merged
    out = {k: v for k, v in schema.items() if k not in ("allOf", "properties", "required")}
    out.update(
        type="object", properties=properties, additionalProperties=DYNAMIC_KEYS.get(name, False)
    )
    if required:
        out["required"] = sorted(required)
    return out


def _merged_object(
    schemas: dict[str, Any], schema: dict[str, Any], seen: set[str]
) -> tuple[dict[str, Any], set[str]] | None:
    """The properties of an object schema and of its ``allOf`` parts, or None if it is not a
    plain object schema (maps, unions, scalars stay as they are)."""
    if "additionalProperties" in schema or "oneOf" in schema or "anyOf" in schema:
        return None
    if "discriminator" in schema:
        return None
    parts = schema.get("allOf", [])
    if "properties" not in schema and not parts:
        return None
    # ``{"type": "object"}`` in an ``allOf`` is an interface adding nothing to its base.
    parts = [part for part in parts if part != {"type": "object"}]
    properties = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    for part in parts:
        if "$ref" in part:
            ref = part["$ref"].removeprefix(REF)
            if ref in seen:
                return None
            inner = _merged_object(schemas, schemas[ref], seen | {ref})
        else:
            inner = _merged_object(schemas, part, seen)
        if inner is None:
            return None
        properties.update(inner[0])
        required |= inner[1]
    return properties, required


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The specification's operation for a request (literal segments win over parameters)."""
    candidates = [
        (template.count("{"), template)
        for template in spec["paths"]
        if _template_regex(template).match(path) and method.lower() in spec["paths"][template]
    ]
    assert candidates, f"{method} {path} is not an operation of the specification"
    template = min(candidates)[1]
    return template, spec["paths"][template][method.lower()]


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and not node["$ref"].startswith(REF):
        section, name = node["$ref"].removeprefix("#/components/").split("/", 1)
        node = spec["components"][section][name]
    return node


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft7Validator:
    root = dict(schema)
    root["components"] = spec["components"]
    return Draft7Validator(root)


def schema_errors(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    errors = sorted(_validator(spec, schema).iter_errors(instance), key=lambda e: list(e.path))
    out = []
    for e in errors:
        detail = e.message
        if e.context:  # oneOf: say why the closest branch failed
            detail += " / " + min(e.context, key=lambda c: len(list(c.path))).message
        out.append(f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {detail[:400]}")
    return out


def request_errors(spec: dict[str, Any], method: str, path: str, body: Any) -> list[str]:
    template, op = operation(spec, method, path)
    if body is None:
        return []
    assert "requestBody" in op, f"{method} {template} takes no body"
    request = _resolve(spec, op["requestBody"])
    schema = next(iter(request["content"].values()))["schema"]
    if template == "/_bulk":
        # NDJSON: an action line, then (except for delete) its document.
        errors: list[str] = []
        lines = list(body)
        i = 0
        while i < len(lines):
            action = lines[i]
            errors += [
                f"line {i}: {e}"
                for e in schema_errors(
                    spec, {"$ref": REF + "_global.bulk.OperationContainer"}, action
                )
            ]
            assert len(action) == 1, f"line {i}: one action per line"
            i += 1 if "delete" in action else 2
        return errors
    return schema_errors(spec, schema, body)


def response_errors(
    spec: dict[str, Any], method: str, path: str, status: int, body: Any
) -> list[str]:
    _template, op = operation(spec, method, path)
    response = op["responses"].get(str(status))
    if response is None:
        return []
    response = _resolve(spec, response)
    content = response.get("content", {}).get("application/json")
    if content is None:
        return []
    return schema_errors(spec, content["schema"], body)
