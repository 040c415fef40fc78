"""``alliance search reindex`` and ``alliance search status`` (wired in ``alliance.cli``)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import typer

from alliance.config import Settings
from alliance.db import make_engine, make_sessionmaker
from search import indexer
from search.backend import SearchUnavailable
from search.factory import make_backend


def reindex(settings: Settings, *, json_out: bool = False) -> int:
    """Rebuild the index from the database beside the live one, then swap it in."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    async def main() -> indexer.ReindexReport:
        engine = make_engine(settings.database_url)
        backend = make_backend(settings)
        try:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed} documents"),
                TimeElapsedColumn(),
                disable=json_out or not sys.stderr.isatty(),
                console=None,
                transient=False,
            ) as bar:
                tasks: dict[str, Any] = {}

                def progress(kind: str, count: int) -> None:
                    if kind not in tasks:
                        tasks[kind] = bar.add_task(f"indexing {kind}", total=None)
                    bar.advance(tasks[kind], count)

                return await indexer.reindex(make_sessionmaker(engine), backend, progress=progress)
        finally:
            await backend.close()
            await engine.dispose()

    try:
        report = asyncio.run(main())
    except SearchUnavailable as exc:
        typer.secho(f"alliance: search is unavailable: {exc}", err=True, fg=typer.colors.RED)
        return 1
    if json_out:
        typer.echo(json.dumps({"documents": report.documents, "version": report.version}))
    else:
        typer.echo(
            f"reindexed {report.documents} documents at change {report.version}; "
            "the new index is live"
        )
    return 0


def status(settings: Settings, *, json_out: bool = False) -> int:
    """The change log's head, the indexer's cursor and the lag between them."""

    async def main() -> indexer.IndexStatus:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                name = make_backend(settings).name
                return await indexer.status(session, name)
        finally:
            await engine.dispose()

    result = asyncio.run(main())
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
        return 0
    typer.echo(f"backend          {result.backend}")
    typer.echo(f"change-log head  {result.head}")
    typer.echo(f"indexed cursor   {result.cursor}")
    typer.echo(f"lag              {result.lag} changes")
    if result.updated_at:
        typer.echo(f"cursor moved     {result.updated_at.isoformat()}")
    if result.last_error:
        typer.echo(f"last error       {result.last_error}")
    return 0
