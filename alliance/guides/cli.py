"""``alliance guides export``: a guide as JSON or as its printable HTML page."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from alliance.taxonomy.cli import run_in_transaction

guides_app = typer.Typer(help="Identification guides.", no_args_is_help=True)


@guides_app.command("export")
def export(
    guide_id: Annotated[str, typer.Argument(help="The guide's id (a UUID).")],
    format: Annotated[str, typer.Option("--format", help="json or html")] = "json",
    as_org: Annotated[
        str | None,
        typer.Option("--as", help="Read as this organisation (slug), with its seats and tiers."),
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Language (default: the source).")] = None,
    version: Annotated[int | None, typer.Option(help="Version (default: published).")] = None,
    include_restricted: Annotated[
        bool,
        typer.Option(help="Without --as: include covert and forensic features."),
    ] = False,
) -> None:
    """Print the guide. Covert and forensic features are left out unless the reader named by
    ``--as`` may read them (or, without ``--as``, ``--include-restricted`` is given)."""
    from alliance.config import load_settings
    from alliance.errors import NotFound
    from alliance.guides import service
    from alliance.guides.exporting import export_guide
    from alliance.orgs import repository as orgs_repo
    from alliance.sharing.policy import Viewer

    if format not in ("json", "html"):
        raise typer.BadParameter("--format is json or html")
    try:
        raw = uuid.UUID(guide_id)
    except ValueError as exc:
        raise typer.BadParameter("a guide id is a UUID") from exc
    if as_org and include_restricted:
        raise typer.BadParameter("--include-restricted applies without --as only")
    settings = load_settings()

    async def work(session):  # type: ignore[no-untyped-def]
        if as_org:
            org = await orgs_repo.organisation_by_slug(session, as_org)
            if org is None:
                raise NotFound("organisation", as_org)
            reader = await service.reader_for_organisation(session, org)
        else:
            reader = service.Reader(
                Viewer.anonymous(), operator=True, operator_restricted=include_restricted
            )
        return await export_guide(
            session, reader, raw, fmt=format, language=lang, version=version, settings=settings
        )

    typer.echo(run_in_transaction(work), nl=False)
