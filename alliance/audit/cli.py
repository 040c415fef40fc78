"""``alliance audit``: check the audit log's hash chain."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import ExitStack
from typing import Annotated, Any

import typer
from sqlalchemy.exc import DBAPIError

from alliance.audit.service import ChainReport, verify_chain
from alliance.config import SettingsError, load_settings

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

# Below this many entries verification takes well under a second: no bar.
PROGRESS_BAR_FROM = 20_000


def _report_json(report: ChainReport) -> dict[str, Any]:
    return {
        "intact": report.ok,
        "entries": report.entries,
        "verified": report.verified,
        "head": {"seq": report.head_seq, "entry_hash": report.head_hash} if report.ok else None,
        "broken": None
        if report.broken is None
        else {
            "seq": report.broken.seq,
            "problem": report.broken.problem.value,
            "message": report.broken.message,
        },
    }


@audit_app.command("verify")
def verify(
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Recompute every entry's hash and check every link; name the first broken entry.

    Exit code 0 when the chain is whole, 1 when it is broken, 2 when it cannot be read.
    """
    from alliance.db import make_engine, make_sessionmaker

    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.secho(f"alliance: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    show_progress = not json_out and sys.stderr.isatty()

    async def main() -> ChainReport:
        engine = make_engine(settings.database_url)
        try:
            with ExitStack() as bars:
                bar: Any = None

                def start(total: int) -> None:
                    nonlocal bar
                    if show_progress and total >= PROGRESS_BAR_FROM:
                        bar = bars.enter_context(
                            typer.progressbar(length=total, label="verifying", file=sys.stderr)
                        )

                def advance(n: int) -> None:
                    if bar is not None:
                        bar.update(n)

                async with make_sessionmaker(engine)() as session:
                    return await verify_chain(session, on_start=start, on_progress=advance)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(main())
    except DBAPIError as exc:
        typer.secho(
            f"alliance: cannot read the audit log ({exc.orig}); is the database migrated?",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(2) from exc
    if json_out:
        typer.echo(json.dumps(_report_json(report)))
    elif report.broken is None:
        head = (
            f", head seq {report.head_seq} entry_hash {report.head_hash}" if report.entries else ""
        )
        typer.echo(f"audit log intact: {report.entries} entries{head}")
    else:
        typer.secho(
            f"audit log broken at seq {report.broken.seq} ({report.broken.problem.value}): "
            f"{report.broken.message}",
            err=True,
            fg=typer.colors.RED,
        )
        typer.echo(f"{report.verified} of {report.entries} entries verified before the break")
    raise typer.Exit(0 if report.ok else 1)
