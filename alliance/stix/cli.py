"""``alliance stix``: import a STIX 2.1 bundle as an organisation's indicators, export what an
organisation may see as a bundle."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from alliance.errors import DomainError
from alliance.indicators.cli import _explain, _fail, _group_id, _organisation, _settings

stix_app = typer.Typer(help="STIX 2.1: import and export bundles.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
MAX_SHOWN = 20


def _objects(path: Path) -> list[Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"cannot read {path}: {exc}", 2) from exc
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("objects"), list):
        return list(document["objects"])
    if isinstance(document, dict) and "type" in document:
        return [document]
    raise _fail("expected a STIX bundle, a TAXII envelope or a list of STIX objects", 2)


@stix_app.command("import")
def import_bundle(
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
    org: Annotated[str, typer.Option(help="The organisation importing (slug).")],
    working_group: Annotated[
        str | None,
        typer.Option(
            help="Working group (slug) for every indicator; default: the group an exported "
            "object names, or none."
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Submit the bundle's indicators as the organisation's, through the same checks as the API;
    every object gets its own outcome, and one refused object does not stop the others."""
    from alliance.db import make_engine, make_sessionmaker, unit_of_work
    from alliance.indicators import repository as indicators_repo
    from alliance.indicators import service
    from alliance.sharing import Distribution
    from alliance.stix import importing

    if not file.is_file():
        raise _fail(f"no such file: {file}", 2)
    settings = _settings()
    objects = _objects(file)

    async def main() -> importing.ImportReport:
        engine = make_engine(settings.database_url)
        try:
            async with unit_of_work(make_sessionmaker(engine)) as session:
                organisation = await _organisation(session, org)
                group = await _group_id(session, working_group)
                viewer = await service.viewer_of_organisation(session, organisation.id)
                named = {
                    read_group
                    for obj in objects
                    if isinstance(obj, dict)
                    and isinstance(
                        read_group := importing.alliance_extension(obj).get("working_group"), str
                    )
                }
                slugs = await indicators_repo.working_groups_by_slugs(session, sorted(named))
                everywhere = frozenset(Distribution)
                default = importing.Placement(
                    group,
                    Distribution.WORKING_GROUP if group else Distribution.ORGANISATION,
                    everywhere,
                )

                def place(read: importing.ReadIndicator) -> service.Submission:
                    if group is not None:
                        return read.submission
                    named_group = slugs.get(read.working_group_slug or "")
                    wanted = read.distribution or (
                        Distribution.WORKING_GROUP if named_group else Distribution.ORGANISATION
                    )
                    if wanted == Distribution.WORKING_GROUP and named_group is None:
                        wanted = Distribution.ORGANISATION
                    return dataclasses.replace(
                        read.submission, working_group_id=named_group, distribution=wanted
                    )

                indicators_total = sum(
                    1 for o in objects if isinstance(o, dict) and o.get("type") == "indicator"
                )
                with typer.progressbar(
                    length=indicators_total, label="importing", file=sys.stderr
                ) as bar:
                    return await importing.import_objects(
                        session,
                        viewer,
                        objects,
                        place,
                        default_placement=default,
                        progress=bar.update,
                    )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(main())
    except DomainError as exc:
        raise _fail(_explain(exc)) from exc
    failures = report.failures
    stored = sum(1 for o in report.outcomes if o.stored)
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "objects": len(report.outcomes),
                    "stored": stored,
                    "created": report.created,
                    "updated": report.updated,
                    "failures": [{"id": f.id, "message": f.message} for f in failures],
                }
            )
        )
        return
    typer.echo(
        f"{len(report.outcomes)} objects: {stored} indicators stored ({report.created} created, "
        f"{report.updated} updated), {len(failures)} refused"
    )
    for failure in failures[:MAX_SHOWN]:
        typer.echo(f"  {failure.id}: {failure.message}")
    if len(failures) > MAX_SHOWN:
        typer.echo(f"  … {len(failures) - MAX_SHOWN} more (--json lists them all)")


@stix_app.command("export")
def export_bundle(
    org: Annotated[str, typer.Option(help="Export what this organisation may see (slug).")],
    working_group: Annotated[
        list[str] | None, typer.Option(help="Working group slug (repeatable).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write here (default: standard output).")
    ] = None,
) -> None:
    """A STIX 2.1 bundle of the indicators, rules and published identification guides an
    organisation may see (TLP:RED never leaves the instance; a guide's covert and forensic
    features only for its owner and enforcement organisations), with the identities, markings
    and extension definitions they refer to."""
    from alliance.db import make_engine, make_sessionmaker
    from alliance.guides import service as guides
    from alliance.stix import exporting
    from alliance.stix import repository as repo
    from alliance.stix.extensions import Instance
    from alliance.stix.ids import instance_namespace

    settings = _settings()
    instance = Instance(
        instance_namespace(settings.base_url), f"Alliance at {settings.base_url}", settings.base_url
    )

    async def main() -> int:
        engine = make_engine(settings.database_url)
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        written = 0
        try:
            async with make_sessionmaker(engine)() as session:
                organisation = await _organisation(session, org)
                groups = [await _group_id(session, slug) for slug in working_group or ()]
                scope = repo.Scope(
                    None, everything=True, working_group_ids=tuple(g for g in groups if g)
                )
                reader = await guides.reader_for_organisation(session, organisation)
                viewer = reader.viewer
                total = await repo.count_assertions(session, viewer, scope)
                with typer.progressbar(length=total, label="exporting", file=sys.stderr) as bar:

                    async def counted() -> Any:
                        nonlocal written
                        async for obj in exporting.export_objects(
                            session, viewer, instance, scope, reader
                        ):
                            if obj["type"] == "indicator":
                                written += 1
                                bar.update(1)
                            yield obj

                    async for text in exporting.bundle_text(counted()):
                        out.write(text)
        finally:
            if output:
                out.close()
            await engine.dispose()
        return written

    count = asyncio.run(main())
    typer.echo(f"exported {count} indicators", err=True)
