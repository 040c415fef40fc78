"""Resolvers graphql-core calls directly, past Strawberry's per-call wrapper.

Strawberry wraps every resolver: per call it builds its own ``Info``, converts the arguments
and chains the field's extensions. Here that costs about 20 us a field, against under 2 for
a plain attribute, and a page of 100 indicators with their assertions and reactions has a
thousand resolved fields (aggregates, organisations, nested windows, counts).

A resolver marked :func:`lean` is one that needs none of it: it reads only ``info.context``
(graphql-core's resolve info has the same context) and takes only built-in scalar
arguments, which graphql-core has already coerced to the Python values Strawberry would
pass. :func:`install` points graphql-core's field at it once the schema is built. It
refuses a lean field that carries extensions or permission classes (a check must never be
skipped) or an argument of any other type (an input object needs Strawberry's conversion),
so the mark cannot change what a field does, only what it costs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from strawberry.schema.schema_converter import GraphQLCoreConverter

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__lean_resolver__"
# graphql-core coerces these to the Python values Strawberry would pass on unchanged.
_PLAIN_SCALARS = frozenset({"Int", "Float", "String", "Boolean", "ID"})


class LeanFieldError(TypeError):
    """A field marked lean that needs what Strawberry's wrapper does."""


def lean(resolver: F) -> F:
    """Mark a resolver (under ``@strawberry.field``) for graphql-core to call directly."""
    setattr(resolver, _MARK, True)
    return resolver


def install(schema: strawberry.Schema) -> list[str]:
    """Call every lean resolver of ``schema`` directly; the fields it did this for."""
    installed: list[str] = []
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            resolver = getattr(definition, "base_resolver", None)
            if resolver is None or not getattr(resolver.wrapped_func, _MARK, False):
                continue
            where = f"{type_.name}.{name}"
            if definition.extensions or definition.permission_classes:
                raise LeanFieldError(f"{where} carries extensions: it cannot be lean")
            arguments: dict[str, str] = {}
            for arg_name, arg in field.args.items():
                arg_type = arg.type.of_type if isinstance(arg.type, GraphQLNonNull) else arg.type
                if (
                    not isinstance(arg_type, GraphQLScalarType)
                    or arg_type.name not in _PLAIN_SCALARS
                ):
                    raise LeanFieldError(
                        f"{where}({arg_name}:) is not a built-in scalar: it cannot be lean"
                    )
                backref = arg.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
                arguments[arg_name] = backref.python_name
            field.resolve = _direct(resolver.wrapped_func, arguments, where)
            installed.append(where)
    return installed


def _direct(fn: Callable[..., Any], arguments: dict[str, str], where: str) -> Callable[..., Any]:
    parameters = list(inspect.signature(fn).parameters)
    takes_info = "info" in parameters
    if parameters[:1] != ["self"] or set(parameters[1:]) - {"info", *arguments.values()}:
        raise LeanFieldError(f"{where} must take self, info and its arguments only")
    renamed = {k: v for k, v in arguments.items() if k != v}

    if not arguments:
        if takes_info:
            return lambda source, info: fn(source, info)
        return lambda source, _info: fn(source)

    def resolve(source: Any, info: Any, **kwargs: Any) -> Any:
        if renamed:
            kwargs = {renamed.get(k, k): v for k, v in kwargs.items()}
        return fn(source, info, **kwargs) if takes_info else fn(source, **kwargs)

    return resolve
