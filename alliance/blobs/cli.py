"""``alliance blobs gc``: remove stored blob and evidence files no row refers to."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer

blobs_app = typer.Typer(help="Stored photos, attachments and evidence files.", no_args_is_help=True)


@blobs_app.command("gc")
def gc(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    grace: Annotated[
        float | None,
        typer.Option(
            "--grace",
            min=60,
            metavar="SECONDS",
            help="Keep unreferenced files younger than this (default "
            "ALLIANCE_BLOBS_ORPHAN_GRACE_SECONDS), so uploads still in flight keep theirs.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Remove blob, thumbnail and evidence files that no row refers to and that are older than
    the grace period (filesystem stores only)."""
    from alliance.blobs import orphans
    from alliance.blobs.errors import UnsupportedStore
    from alliance.cli import fail, settings_or_exit
    from alliance.db import make_engine, make_sessionmaker

    settings = settings_or_exit()

    async def main(bar: Any) -> orphans.SweepReport:
        engine = make_engine(settings.database_url)
        try:
            return await orphans.sweep(
                make_sessionmaker(engine),
                settings,
                grace_seconds=grace,
                dry_run=dry_run,
                progress=bar.update if bar is not None else None,
            )
        finally:
            await engine.dispose()

    try:
        if json_out:
            report = asyncio.run(main(None))
        else:
            total = orphans.count_files(settings)
            with typer.progressbar(length=max(total, 1), label="examining", file=sys.stderr) as bar:
                report = asyncio.run(main(bar))
    except UnsupportedStore as exc:
        raise fail(exc.message, 2) from exc
    except OSError as exc:
        raise fail(f"the store could not be swept: {exc}") from exc
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "dry_run": report.dry_run,
                    "grace_seconds": report.grace_seconds,
                    "examined": report.examined,
                    "referenced": report.referenced,
                    "within_grace": report.within_grace,
                    "removed": [
                        {"store": r.store, "key": r.key, "size": r.size, "reason": r.reason.value}
                        for r in report.removed
                    ],
                    "bytes_freed": report.bytes_freed,
                }
            )
        )
        return
    verb = "would remove" if dry_run else "removed"
    for removal in report.removed:
        typer.echo(f"{verb} {removal.store}/{removal.key} ({removal.size} bytes)")
    typer.echo(
        f"{report.examined} examined, {report.referenced} referenced, "
        f"{report.within_grace} within the {report.grace_seconds:g}s grace period; "
        f"{verb} {len(report.removed)} ({report.bytes_freed} bytes "
        f"{'to free' if dry_run else 'freed'})"
    )
