"""Every REST route declares who may call it, as the GraphQL fields do.

The declaration is a no-op FastAPI dependency (``dependencies=declare(ANONYMOUS)``),
so it sits on the route where it is defined and travels with ``include_router``; a
test walks ``app.routes`` and fails on any route without one. Routes FastAPI adds
itself (the OpenAPI document) are marked with :func:`mark`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends
from fastapi.params import Depends as DependsParam

_ATTRIBUTE = "alliance_access"


@dataclass(frozen=True, slots=True)
class RouteAccess:
    description: str

    def __call__(self) -> None:
        """Nothing to check at request time: the route's own code enforces what this says."""


ANONYMOUS = RouteAccess("open to anonymous callers")
CLIENT_AUTHENTICATION = RouteAccess(
    "an OAuth client authenticating itself (client_secret_basic, client_secret_post, "
    "private_key_jwt) or, where public clients may, naming itself"
)
SIGNED_IN_PERSON = RouteAccess("a person signing in with a local account, CSRF-protected")
PER_GRAPHQL_FIELD = RouteAccess(
    "a bearer token when present; each GraphQL field declares the scopes it needs"
)


def declare(access: RouteAccess) -> list[Any]:
    return [Depends(access)]


def mark(route: Any, access: RouteAccess) -> None:
    setattr(route, _ATTRIBUTE, access)


def declared_access(route: Any) -> RouteAccess | None:
    for dependency in getattr(route, "dependencies", None) or ():
        if isinstance(dependency, DependsParam) and isinstance(dependency.dependency, RouteAccess):
            return dependency.dependency
    found = getattr(route, _ATTRIBUTE, None)
    return found if isinstance(found, RouteAccess) else None


def walk_routes(app: Any) -> list[Any]:
    """Every route the app serves, with the dependencies it really runs (those of the routers
    that include it too). Newer FastAPI keeps included routers unflattened in ``app.routes``."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.165 flattens included routes itself
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def mark_framework_routes(app: Any) -> None:
    """The OpenAPI document FastAPI serves by itself describes public routes only."""
    for route in app.router.routes:
        if getattr(route, "path", None) == app.openapi_url:
            mark(route, ANONYMOUS)
