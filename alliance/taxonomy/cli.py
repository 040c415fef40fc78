"""``alliance taxonomy``: import the category tree and partner platforms' category maps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from alliance.config import SettingsError, load_settings
from alliance.errors import DomainError, InvalidInput

T = TypeVar("T")

taxonomy_app = typer.Typer(help="The product category tree.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"alliance: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def run_in_transaction(work: Callable[[Any], Awaitable[T]]) -> T:
    """``work(session)`` in one committed transaction; domain errors exit 1 with the reason."""
    from alliance.db import make_engine, make_sessionmaker, unit_of_work

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc), 2) from exc

    async def main() -> T:
        engine = make_engine(settings.database_url)
        try:
            async with unit_of_work(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except InvalidInput as exc:
        lines = [f"{'.'.join(p.path)}: {p.code}: {p.message}" for p in exc.problems]
        raise _fail("refused, nothing written:\n  " + "\n  ".join(lines)) from exc
    except DomainError as exc:
        raise _fail(exc.message) from exc


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from exc


@taxonomy_app.command("import")
def import_file(
    file: Annotated[
        Path | None,
        typer.Argument(help="A taxonomy file (ID - A > B > C); default: the one shipped."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Create or rename categories from Google's product taxonomy format."""
    from alliance.taxonomy.service import import_taxonomy
    from alliance.taxonomy.tree import packaged_taxonomy_lines, parse_taxonomy

    lines = _read(file) if file is not None else list(packaged_taxonomy_lines())
    try:
        categories = parse_taxonomy(lines)
    except InvalidInput as exc:
        found = "\n  ".join(f"{p.path[-1]}: {p.message}" for p in exc.problems)
        raise _fail(f"not a taxonomy file:\n  {found}") from exc

    report = run_in_transaction(lambda s: import_taxonomy(s, None, categories))
    _print(report, json_out, f"{len(categories)} categories")


@taxonomy_app.command("map")
def map_file(
    platform: Annotated[str, typer.Option(help="The platform's slug, e.g. shopmart.")],
    file: Annotated[Path, typer.Argument(help="CSV: platform_category_id,category_id")],
    json_out: JsonOption = False,
) -> None:
    """Replace a platform's map from its own category ids onto the taxonomy."""
    from alliance.taxonomy.service import map_platform_categories
    from alliance.taxonomy.tree import parse_platform_mapping

    try:
        mappings = parse_platform_mapping(_read(file))
    except InvalidInput as exc:
        found = "\n  ".join(f"{p.path[-1]}: {p.message}" for p in exc.problems)
        raise _fail(f"not a category map:\n  {found}") from exc
    report = run_in_transaction(lambda s: map_platform_categories(s, None, platform, mappings))
    _print(report, json_out, f"{len(mappings)} {platform} categories")


def _print(report: Any, json_out: bool, what: str) -> None:
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "version": report.version,
                }
            )
        )
        return
    typer.echo(
        f"{what}: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged (version {report.version})"
    )
