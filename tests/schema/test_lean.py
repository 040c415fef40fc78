"""Lean resolvers (``schema.lean``): graphql-core calls them directly, with what Strawberry
would have passed, and a field the mark would change is refused when the schema is built."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from alliance.config import GraphQLSettings
from schema import lean
from schema.schema import build_schema


@strawberry.input
class Window:
    first: int


class Nobody(BasePermission):
    message = "nobody may"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Shelf:
    name: str

    @strawberry.field
    @lean.lean
    def label(self, info: Info) -> str:
        return f"{self.name} for {info.context['reader']}"

    @strawberry.field
    @lean.lean
    def books(self, first_few: int = 2, after_title: str | None = None) -> list[str]:
        titles = ["a", "b", "c", "d"]
        start = titles.index(after_title) + 1 if after_title else 0
        return titles[start : start + first_few]

    @strawberry.field
    @lean.lean
    async def later(self, info: Info) -> str:
        return f"later {self.name} for {info.context['reader']}"


@strawberry.type
class Query:
    @strawberry.field
    def shelf(self) -> Shelf:
        return Shelf(name="crime")


def test_lean_fields_answer_as_strawberry_would() -> None:
    schema = strawberry.Schema(query=Query)
    document = """{ shelf { name label books(firstFew: 3, afterTitle: "a") more: books } }"""
    plain = schema.execute_sync(document, context_value={"reader": "ann"}).data
    installed = lean.install(schema)
    assert sorted(installed) == ["Shelf.books", "Shelf.label", "Shelf.later"]
    fast = schema.execute_sync(document, context_value={"reader": "ann"})
    assert fast.errors is None
    assert (
        fast.data
        == plain
        == {
            "shelf": {
                "name": "crime",
                "label": "crime for ann",
                "books": ["b", "c", "d"],
                "more": ["a", "b"],
            }
        }
    )


async def test_an_async_lean_resolver_is_awaited() -> None:
    schema = strawberry.Schema(query=Query)
    lean.install(schema)
    result = await schema.execute("{ shelf { later } }", context_value={"reader": "bo"})
    assert result.errors is None
    assert result.data == {"shelf": {"later": "later crime for bo"}}


@strawberry.type
class Guarded:
    @strawberry.field(permission_classes=[Nobody])
    @lean.lean
    def secret(self) -> str:
        return "leaked"


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def guarded(self) -> Guarded:
        return Guarded()


@strawberry.type
class Paged:
    @strawberry.field
    @lean.lean
    def items(self, window: Window) -> list[int]:
        return list(range(window.first))


@strawberry.type
class PagedQuery:
    @strawberry.field
    def paged(self) -> Paged:
        return Paged()


def test_a_field_with_a_permission_cannot_be_lean() -> None:
    schema = strawberry.Schema(query=GuardedQuery)
    with pytest.raises(lean.LeanFieldError, match="Guarded.secret carries extensions"):
        lean.install(schema)
    # Nothing was installed: the permission still holds.
    result = schema.execute_sync("{ guarded { secret } }")
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].message == "nobody may"


def test_an_input_object_argument_cannot_be_lean() -> None:
    with pytest.raises(lean.LeanFieldError, match=r"Paged.items\(window:\) is not a built-in"):
        lean.install(strawberry.Schema(query=PagedQuery))


def test_the_application_schema_installs_its_lean_fields() -> None:
    schema = build_schema(GraphQLSettings())
    graphql = schema._schema
    for type_name, field_name in [
        ("Indicator", "status"),
        ("Indicator", "assertions"),
        ("IndicatorAssertion", "organisation"),
        ("IndicatorAssertion", "reactions"),
        ("IndicatorReaction", "organisation"),
        ("IndicatorAssertionConnection", "totalCount"),
    ]:
        resolve = graphql.type_map[type_name].fields[field_name].resolve  # type: ignore[union-attr]
        assert resolve is not None
        assert resolve.__module__ == "schema.lean", (type_name, field_name)
    # A field behind a permission keeps Strawberry's wrapper (and its check).
    indicators = graphql.query_type.fields["indicators"].resolve  # type: ignore[union-attr]
    assert indicators is not None
    assert indicators.__module__ != "schema.lean"
