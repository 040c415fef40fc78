"""``alliance indicators``: bulk import (in the background, with a progress bar) and export.

Both act for one organisation, as the operator running the command: an import with every
seat the organisation holds, an export with what that organisation may see.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from alliance.config import Settings, SettingsError, load_settings
from alliance.errors import DomainError, InvalidInput
from alliance.jobs import SENDER_KEY, JobSender

indicators_app = typer.Typer(
    help="Counterfeit indicators: import and export.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
_job_sender_factory: Callable[[Settings], JobSender] | None = None
POLL_SECONDS = 0.5
WORKER_HINT_SECONDS = 10


def use_job_sender(factory: Callable[[Settings], JobSender]) -> None:
    """How commands publish jobs (the composition root hands in the Celery sender)."""
    global _job_sender_factory
    _job_sender_factory = factory


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"alliance: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise _fail(str(exc), 2) from exc


def _explain(exc: DomainError) -> str:
    if isinstance(exc, InvalidInput):
        return "; ".join(f"{'.'.join(p.path)}: {p.message}" for p in exc.problems)
    return exc.message


async def _organisation(session: Any, slug: str) -> Any:
    from alliance.orgs import repository as orgs_repo

    org = await orgs_repo.organisation_by_slug(session, slug)
    if org is None:
        raise _fail(f"no organisation with slug {slug!r}")
    return org


async def _group_id(session: Any, slug: str | None) -> uuid.UUID | None:
    from alliance.orgs import repository as orgs_repo

    if slug is None:
        return None
    group = await orgs_repo.working_group_by_slug(session, slug)
    if group is None:
        raise _fail(f"no working group with slug {slug!r}")
    return group.id


def _job_body(job: Any) -> dict[str, Any]:
    report = job.report or {}
    return {
        "job_id": str(job.id),
        "state": job.state.value,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "rows_failed": job.rows_failed,
        "created": report.get("created", 0),
        "updated": report.get("updated", 0),
        "errors_total": report.get("errors_total", 0),
        "errors_by_code": report.get("errors_by_code", {}),
        "errors": report.get("errors", []),
        "message": report.get("message"),
    }


@indicators_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A .csv (with a header) or .jsonl file.")],
    org: Annotated[str, typer.Option(help="The organisation importing (slug).")],
    working_group: Annotated[
        str | None, typer.Option(help="Working group (slug) of rows that name none.")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Show progress until the job ends.")
    ] = True,
    json_out: JsonOption = False,
) -> None:
    """Queue a file's import for a worker; the same file again finds its existing job."""
    from alliance.db import make_engine, make_sessionmaker, unit_of_work
    from alliance.indicators import importing, service

    if not file.is_file():
        raise _fail(f"no such file: {file}", 2)
    settings = _settings()
    if _job_sender_factory is None:
        raise _fail("no job sender configured (run this through the 'alliance' command)")
    sender = _job_sender_factory(settings)

    async def main() -> importing.Started:
        engine = make_engine(settings.database_url)
        try:
            sessions = make_sessionmaker(engine, **{SENDER_KEY: sender})
            async with unit_of_work(sessions) as session:
                organisation = await _organisation(session, org)
                group = await _group_id(session, working_group)
                staged = importing.stage_path(settings.data_dir, file)
                return await importing.start_import(
                    session,
                    await service.viewer_of_organisation(session, organisation.id),
                    staged,
                    data_dir=settings.data_dir,
                    fmt=format,
                    working_group_id=group,
                )
        finally:
            await engine.dispose()

    try:
        started = asyncio.run(main())
    except DomainError as exc:
        raise _fail(_explain(exc)) from exc
    job_id = str(started.job.id)
    if not json_out:
        typer.echo(
            f"{'queued' if started.created else 'already imported (or importing)'}: job {job_id}",
            err=True,
        )
    if follow:
        _follow(settings, started.job.id, json_out=json_out)
    elif json_out:
        typer.echo(json.dumps({**_job_body(started.job), "created_job": started.created}))
    else:
        typer.echo(job_id)


@indicators_app.command("import-status")
def import_status(
    job_id: Annotated[str, typer.Argument(help="The import job's id.")],
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Show progress until the job ends.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """An import job's state, progress and report; --follow shows a progress bar until it ends."""
    try:
        raw = uuid.UUID(job_id)
    except ValueError as exc:
        raise typer.BadParameter("a job id is a UUID") from exc
    settings = _settings()
    if follow:
        _follow(settings, raw, json_out=json_out)
        return
    job = _read_job(settings, raw)
    if json_out:
        typer.echo(json.dumps(_job_body(job)))
    else:
        _print_summary(job)
    if job.state.value == "FAILED":
        raise typer.Exit(1)


def _read_job(settings: Settings, job_id: uuid.UUID) -> Any:
    from alliance.db import make_engine, make_sessionmaker
    from alliance.indicators import repository as repo

    async def main() -> Any:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await repo.import_job(session, job_id)
        finally:
            await engine.dispose()

    job = asyncio.run(main())
    if job is None:
        raise _fail(f"no import job {job_id}")
    return job


def _follow(settings: Settings, job_id: uuid.UUID, *, json_out: bool) -> None:
    """Poll the job until it ends, with a progress bar of rows done out of rows total."""
    from alliance.db import make_engine, make_sessionmaker
    from alliance.indicators import repository as repo

    async def main() -> Any:
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        try:
            job = None
            bar = None
            shown = 0
            waiting_since = time.monotonic()
            hinted = False
            while True:
                async with sessions() as session:
                    job = await repo.import_job(session, job_id)
                if job is None:
                    raise _fail(f"no import job {job_id}")
                if not json_out and bar is None and job.rows_total:
                    bar = typer.progressbar(
                        length=job.rows_total, label="importing", file=sys.stderr
                    )
                    bar.__enter__()
                if bar is not None and job.rows_done > shown:
                    bar.update(job.rows_done - shown)
                    shown = job.rows_done
                if (
                    not json_out
                    and not hinted
                    and job.state.value == "PENDING"
                    and time.monotonic() - waiting_since > WORKER_HINT_SECONDS
                ):
                    hinted = True
                    typer.echo(
                        "still queued: is a worker running? (alliance worker --queues imports)",
                        err=True,
                    )
                if job.state.value in ("DONE", "FAILED"):
                    if bar is not None:
                        bar.__exit__(None, None, None)
                    return job
                await asyncio.sleep(POLL_SECONDS)
        finally:
            await engine.dispose()

    started = time.monotonic()
    job = asyncio.run(main())
    if json_out:
        typer.echo(json.dumps(_job_body(job)))
    else:
        _print_summary(job, seconds=time.monotonic() - started)
    if job.state.value == "FAILED":
        raise typer.Exit(1)


def _print_summary(job: Any, seconds: float | None = None) -> None:
    report = job.report or {}
    took = f" in {seconds:.1f}s" if seconds is not None else ""
    typer.echo(
        f"job {job.id}: {job.state.value}{took}, {job.rows_done}/{job.rows_total} rows, "
        f"{job.rows_failed} refused, {report.get('created', 0)} created, "
        f"{report.get('updated', 0)} updated"
    )
    if report.get("message"):
        typer.echo(f"  {report['message']}")
    errors = report.get("errors", [])
    for error in errors[:20]:
        column = f" {error['column']}" if error.get("column") else ""
        typer.echo(f"  line {error['line']}{column}: {error['code']}: {error['message']}")
    if report.get("errors_total", 0) > 20:
        typer.echo(
            f"  … {report['errors_total'] - 20} more (alliance indicators import-status --json)"
        )


@indicators_app.command("export")
def export(
    org: Annotated[str, typer.Option(help="Export what this organisation may see (slug).")],
    format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    type: Annotated[
        list[str] | None, typer.Option("--type", help="Indicator type (repeatable).")
    ] = None,
    working_group: Annotated[
        list[str] | None, typer.Option(help="Working group slug (repeatable).")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="ACTIVE, DISPUTED, EXPIRED, REVOKED (repeatable).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write here (default: standard output).")
    ] = None,
) -> None:
    """Stream the indicators (one row per assertion) an organisation may see, with the list's
    filters; TLP RED never leaves the instance."""
    from alliance.db import make_engine, make_sessionmaker
    from alliance.indicators import exporting, service
    from alliance.indicators import repository as repo
    from alliance.indicators.indicator_type import IndicatorType
    from alliance.indicators.models import AssertionStatus

    fmt = format.strip().lower()
    if fmt not in exporting.FORMATS:
        raise _fail(f"--format is one of {', '.join(exporting.FORMATS)}", 2)
    try:
        types = [IndicatorType(t.strip().lower()) for t in type or ()]
        statuses = [AssertionStatus(s.strip().upper()) for s in status or ()]
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    settings = _settings()

    async def main() -> int:
        engine = make_engine(settings.database_url)
        written = 0
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            async with make_sessionmaker(engine)() as session:
                organisation = await _organisation(session, org)
                groups = [await _group_id(session, slug) for slug in working_group or ()]
                criteria = repo.IndicatorFilter(
                    types=types,
                    statuses=statuses,
                    working_group_ids=[g for g in groups if g is not None],
                )
                who = await service.viewer_of_organisation(session, organisation.id)
                async for line in exporting.export_text(session, who, criteria, fmt=fmt):
                    out.write(line)
                    written += 1
        finally:
            if output:
                out.close()
            await engine.dispose()
        return written - (1 if fmt == "csv" else 0)

    rows = asyncio.run(main())
    typer.echo(f"exported {rows} rows", err=True)
