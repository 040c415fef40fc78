"""Every REST route declares who may call it; GraphQL fields are checked in test_layers."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from alliance.auth.route_access import ANONYMOUS, RouteAccess, declared_access, walk_routes


def test_every_route_declares_its_access(app: Any) -> None:
    missing = []
    for route in walk_routes(app):
        access = declared_access(route)
        if access is None:
            methods = ",".join(sorted(getattr(route, "methods", None) or ["WS"]))
            missing.append(f"{methods} {getattr(route, 'path', route)}")
    assert not missing, "declare access with dependencies=declare(...):\n" + "\n".join(missing)


def test_the_walk_sees_every_kind_of_route(app: Any) -> None:
    routes = walk_routes(app)
    paths = {getattr(route, "path", "") for route in routes}
    assert {"/graphql", "/oauth/token", "/oauth/authorize", "/healthz", "/openapi.json"} <= paths
    by_path = {
        (r.path, frozenset(r.methods or ())): declared_access(r)
        for r in routes
        if isinstance(getattr(r, "original_route", r), APIRoute)
    }
    assert by_path[("/healthz", frozenset({"GET"}))] is ANONYMOUS
    assert all(isinstance(a, RouteAccess) for a in by_path.values())


def test_a_route_without_a_declaration_is_caught() -> None:
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/undeclared")
    async def undeclared() -> None:
        return None

    routes = [r for r in bare.routes if getattr(r, "path", "") == "/undeclared"]
    assert declared_access(routes[0]) is None
