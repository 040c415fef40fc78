"""Architecture rules, read from the source with ``ast`` (imports anywhere, including in functions)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from graphql import GraphQLNonNull, GraphQLUnionType

from alliance.config import GraphQLSettings
from schema.permissions import AccessExtension
from schema.schema import build_schema

ROOT = Path(__file__).resolve().parents[1]
UPPER_LAYERS = {"schema", "workers", "search"}
COMPOSITION_ROOTS = {"alliance/app.py", "alliance/cli.py"}
STATEMENT_BUILDERS = {"select", "insert", "update", "delete", "text"}
# The one place a GraphQL request commits (or rolls back) its unit of work.
TRANSACTION_OWNER = "schema/mutations.py"
SESSION_CALLS = {"execute", "scalar", "scalars", "stream", "commit", "rollback", "flush"}


@dataclass(frozen=True)
class Import:
    path: str
    line: int
    module: str  # the absolute module imported from (or the module itself)
    names: tuple[str, ...] = ()


def modules(package: str) -> list[Path]:
    found = sorted((ROOT / package).rglob("*.py"))
    assert found, f"no Python files under {package}/"
    return found


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def package_of(rel: str) -> list[str]:
    """The package a module belongs to (for ``pkg/__init__.py`` that is ``pkg`` itself)."""
    return list(Path(rel).parts[:-1])


def imports(path: Path) -> Iterator[Import]:
    return imports_in(parse(path), str(path.relative_to(ROOT)))


def imports_in(tree: ast.Module, rel: str) -> Iterator[Import]:
    """Every import in the tree, relative ones resolved, dynamic ``import_module("x")`` included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(rel, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                package = package_of(rel)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            names = tuple(alias.name for alias in node.names)
            yield Import(rel, node.lineno, module, names)
            # ``from . import schema`` style: the names may be modules themselves.
            for name in names:
                yield Import(rel, node.lineno, f"{module}.{name}" if module else name)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(rel, node.lineno, node.args[0].value)


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


def test_domain_never_imports_the_layers_above_it() -> None:
    offenders = [
        f"{imp.path}:{imp.line} imports {imp.module}"
        for path in modules("alliance")
        if str(path.relative_to(ROOT)) not in COMPOSITION_ROOTS
        for imp in imports(path)
        if top_level(imp.module) in UPPER_LAYERS
    ]
    assert not offenders, "alliance/ must not depend on schema, workers or search:\n" + "\n".join(
        offenders
    )


def test_the_composition_roots_import_upper_layers_only_inside_functions() -> None:
    # They may wire the process; importing at module level would load the API layer with the domain.
    offenders = []
    for rel in sorted(COMPOSITION_ROOTS):
        for node in parse(ROOT / rel).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                module = getattr(node, "module", None) or ""
                if any(top_level(m) in UPPER_LAYERS for m in [module, *names] if m):
                    offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, "module-level import of schema/workers/search: " + ", ".join(offenders)


def statement_builders_in(tree: ast.Module, rel: str) -> list[str]:
    found = []
    for imp in imports_in(tree, rel):
        used = STATEMENT_BUILDERS & set(imp.names)
        if top_level(imp.module) == "sqlalchemy" and used:
            found.append(f"{rel}:{imp.line} imports {', '.join(sorted(used))}")
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if top_level(alias.name) == "sqlalchemy":
                    aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and top_level(node.module or "") == "sqlalchemy":
            # ``from sqlalchemy import sql`` and then ``sql.select(...)``
            aliases.update(a.asname or a.name for a in node.names)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in STATEMENT_BUILDERS
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append(f"{rel}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_schema_never_builds_sql_statements() -> None:
    offenders = [
        hit
        for path in modules("schema")
        for hit in statement_builders_in(parse(path), str(path.relative_to(ROOT)))
    ]
    assert not offenders, "resolvers call services, which call repositories:\n" + "\n".join(
        offenders
    )


def test_schema_runs_no_queries_and_commits_in_one_place() -> None:
    offenders = []
    for path in modules("schema"):
        rel = str(path.relative_to(ROOT))
        if rel == TRANSACTION_OWNER:
            continue
        for node in ast.walk(parse(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SESSION_CALLS
                and "session" in ast.unparse(node.func.value)
            ):
                offenders.append(f"{rel}:{node.lineno} {ast.unparse(node.func)}()")
        for imp in imports(path):
            if imp.module == "alliance.db" and "commit" in imp.names:
                offenders.append(f"{rel}:{imp.line} imports alliance.db.commit")
    assert not offenders, f"only {TRANSACTION_OWNER} touches the transaction:\n" + "\n".join(
        offenders
    )


@pytest.mark.parametrize(
    ("source", "rel", "module"),
    [
        ("def f():\n    from schema.schema import export_sdl\n", "alliance/x.py", "schema.schema"),
        (
            "class A:\n    def m(self):\n        import workers.tasks\n",
            "alliance/x.py",
            "workers.tasks",
        ),
        ("from . import status\n", "search/__init__.py", "search.status"),
        ("from ..status import backend_of\n", "search/sub/x.py", "search.status"),
        (
            "import importlib\nimportlib.import_module('search.status')\n",
            "alliance/x.py",
            "search.status",
        ),
    ],
)
def test_import_walker_finds_nested_relative_and_dynamic_imports(
    source: str, rel: str, module: str
) -> None:
    assert module in {imp.module for imp in imports_in(ast.parse(source), rel)}


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select\n",
        "from sqlalchemy import func, text as sql_text\n",
        "from sqlalchemy.dialects.postgresql import insert\n",
        "def f():\n    from sqlalchemy.sql import update\n",
        "import sqlalchemy as sa\nsa.delete(T)\n",
        "from sqlalchemy import sql\nsql.select(T)\n",
    ],
)
def test_statement_builder_checker_catches_each_spelling(source: str) -> None:
    assert statement_builders_in(ast.parse(source), "schema/x.py")


def test_statement_builder_checker_allows_session_types() -> None:
    source = "from sqlalchemy.ext.asyncio import AsyncSession\n"
    assert statement_builders_in(ast.parse(source), "schema/x.py") == []


def test_the_rule_checkers_see_what_they_should() -> None:
    """Guards the guards on the real tree: imports inside functions are found."""
    app_imports = {imp.module for imp in imports(ROOT / "alliance" / "app.py")}
    assert "schema.graphql_app" in app_imports  # imported inside create_app
    assert "workers.celery_app" in app_imports  # imported inside a helper
    cli_imports = {imp.module for imp in imports(ROOT / "alliance" / "cli.py")}
    assert "schema.schema" in cli_imports
    assert any(imp.module == "alliance.db" for imp in imports(ROOT / "schema" / "mutations.py"))


# --- every operation declares who may call it -------------------------------------------------


@pytest.fixture(scope="module")
def graphql_schema():
    return build_schema(GraphQLSettings())


def root_fields(graphql_schema, kind: str) -> dict[str, object]:
    root = getattr(graphql_schema._schema, f"{kind}_type")
    assert root is not None, f"the schema has no {kind} type"
    assert root.fields, f"the schema has no {kind} fields"
    return dict(root.fields)


@pytest.mark.parametrize(("kind", "returns_errors"), [("query", False), ("mutation", True)])
def test_every_root_field_declares_access(graphql_schema, kind: str, returns_errors: bool) -> None:
    missing = []
    for name, field in root_fields(graphql_schema, kind).items():
        definition = field.extensions["strawberry-definition"]
        access = [e for e in definition.extensions if isinstance(e, AccessExtension)]
        if len(access) != 1:
            missing.append(f"{kind} {name}: {len(access)} AccessExtension(s)")
            continue
        # Mutations report a denial as a typed Forbidden result, queries as an error.
        assert access[0].returns_errors is returns_errors, name
        assert access[0].access.describe() in (field.description or ""), name
    assert not missing, "declare access with query_field/mutation_field:\n" + "\n".join(missing)


def test_strawberry_definitions_agree(graphql_schema) -> None:
    from schema.schema import Mutation, Query

    for cls, kind in ((Query, "query"), (Mutation, "mutation")):
        fields = cls.__strawberry_definition__.fields
        assert {f.python_name for f in fields} == {
            field.extensions["strawberry-definition"].python_name
            for field in root_fields(graphql_schema, kind).values()
        }
        for field in fields:
            assert any(isinstance(e, AccessExtension) for e in field.extensions), field.name


def test_every_mutation_can_return_forbidden(graphql_schema) -> None:
    """A denied mutation resolves to ``Forbidden``; its result union must be able to hold it."""
    for name, field in root_fields(graphql_schema, "mutation").items():
        assert isinstance(field.type, GraphQLNonNull), name
        result = field.type.of_type
        assert isinstance(result, GraphQLUnionType), f"{name} must return a result union"
        members = {member.name for member in result.types}
        assert "Forbidden" in members, f"{name} returns {sorted(members)}"
