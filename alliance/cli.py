"""The ``alliance`` command: serve, workers, database, demo data, tokens, schema.

Like ``alliance.app``, this is a composition root: it imports ``workers`` and
``schema`` inside the commands that need them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from alliance.audit.cli import audit_app
from alliance.auth.cli import client_app, issuer_app, keys_app, user_app
from alliance.blobs.cli import blobs_app
from alliance.cases.cli import cases_app, evidence_app
from alliance.cases.cli import report as report_command
from alliance.config import Settings, SettingsError, load_settings
from alliance.federation.cli import peers_app, sync_app
from alliance.frames import with_frame_room
from alliance.guides.cli import guides_app
from alliance.indicators.cli import indicators_app, use_job_sender
from alliance.rules.cli import rules_app
from alliance.stix.cli import stix_app
from alliance.taxonomy.cli import taxonomy_app

T = TypeVar("T")

app = typer.Typer(
    help="Alliance: knowledge sharing for anti-counterfeiting alliances.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
token_app = typer.Typer(help="Access tokens.", no_args_is_help=True)
schema_app = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)
search_app = typer.Typer(help="The search index.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(schema_app, name="schema")
app.add_typer(search_app, name="search")
app.add_typer(client_app, name="client")
app.add_typer(user_app, name="user")
app.add_typer(issuer_app, name="issuer")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(rules_app, name="rules")
app.add_typer(guides_app, name="guides")
app.add_typer(indicators_app, name="indicators")
app.add_typer(cases_app, name="cases")
app.add_typer(evidence_app, name="evidence")
app.command("report")(report_command)
app.add_typer(stix_app, name="stix")
app.add_typer(peers_app, name="peers")
app.add_typer(sync_app, name="sync")
app.add_typer(blobs_app, name="blobs")

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _celery_job_sender(settings: Settings) -> Any:
    from workers.celery_app import CeleryJobSender, make_celery

    return CeleryJobSender(make_celery(settings))


use_job_sender(_celery_job_sender)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.secho(f"alliance: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"alliance: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def run_with_session(
    settings: Settings, work: Callable[[Any], Awaitable[T]], *, job_sender: Any = None
) -> T:
    """Run ``work(session)`` in one committed transaction against the configured database
    (with ``job_sender``, the jobs it queues are sent once it commits)."""
    from alliance.db import make_engine, make_sessionmaker, unit_of_work
    from alliance.jobs import SENDER_KEY

    async def main() -> T:
        engine = make_engine(settings.database_url)
        options = {SENDER_KEY: job_sender} if job_sender is not None else {}
        try:
            async with unit_of_work(make_sessionmaker(engine, **options)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default ALLIANCE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default ALLIANCE_PORT).")] = None,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Start a worker and beat beside the API.")
    ] = True,
) -> None:
    """Serve the API (GraphQL at /graphql); in the embedded profile, also a Celery worker and beat."""
    import uvicorn

    from alliance.app import create_app
    from alliance.observability.logging import configure_logging

    settings = settings_or_exit()
    # --host/--port move the socket only; the public base URL (token issuer) stays as configured.
    overrides: dict[str, Any] = {"base_url": settings.base_url}
    overrides.update({k: v for k, v in {"host": host, "port": port}.items() if v})
    server = settings.server.model_copy(update=overrides)
    settings = settings.model_copy(update={"server": server})
    configure_logging(settings.log)
    child = None
    if worker and settings.server.embedded_worker:
        child = subprocess.Popen(
            [sys.executable, "-m", "alliance.cli", "worker", "--beat"], preexec_fn=_die_with_parent
        )
    typer.echo(
        f"Alliance serving on http://{server.host}:{server.port}  (GraphiQL at /graphql)", err=True
    )
    try:
        # The event loop runs above room on the frame stack (see alliance.frames).
        with_frame_room(
            lambda: uvicorn.run(
                create_app(settings), host=server.host, port=server.port, log_config=None
            )
        )
    finally:
        if child is not None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _die_with_parent() -> None:
    """Ask Linux to stop the embedded worker when ``serve`` ends, however it ends (uvicorn
    re-raises SIGTERM after its shutdown, so no ``finally`` of ours runs then)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@app.command()
def worker(
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated queues (default: all).")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
    pool: Annotated[
        str | None, typer.Option(help="prefork, solo or threads (embedded default: solo).")
    ] = None,
    beat: Annotated[
        bool, typer.Option("--beat", help="Also run the periodic scheduler in this worker.")
    ] = False,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run a Celery worker for background work."""
    from alliance.observability.logging import configure_logging
    from workers.celery_app import QUEUES, make_celery

    settings = settings_or_exit()
    configure_logging(settings.log)
    celery = make_celery(settings)
    chosen = queues or ",".join(QUEUES)
    unknown = [q for q in chosen.split(",") if q not in QUEUES]
    if unknown:
        raise fail(f"unknown queue(s) {', '.join(unknown)}; known: {', '.join(QUEUES)}", 2)
    embedded = settings.broker_url is None
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        "-Q",
        chosen,
        "--pool",
        pool or ("solo" if embedded else "prefork"),
    ]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if embedded:
        argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    if beat:
        argv += ["--beat", "--schedule", str(settings.data_dir / "celerybeat-schedule")]
    celery.worker_main(argv)


@app.command()
def beat(loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO") -> None:
    """Run the periodic scheduler (production; the embedded profile runs it inside its worker)."""
    from alliance.observability.logging import configure_logging
    from workers.celery_app import make_celery

    settings = settings_or_exit()
    configure_logging(settings.log)
    make_celery(settings).start(["beat", f"--loglevel={loglevel}"])


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from alliance import migrate

    settings = settings_or_exit()
    migrate.upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision} ({_redacted(settings.database_url)})")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
) -> None:
    """Revert migrations down to REVISION."""
    from alliance import migrate

    settings = settings_or_exit()
    migrate.downgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


def _redacted(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


@app.command()
def demo(json_out: JsonOption = False) -> None:
    """Seed the demo alliance (organisations, groups, people, indicators). Safe to run again."""
    from alliance.demo import PEOPLE, seed
    from alliance.portal.demo import DEMO_PASSWORD

    settings = settings_or_exit()
    report = run_with_session(
        settings,
        lambda session: seed(
            session,
            with_indicators=True,
            with_guides=True,
            settings=settings,
            demo_password=DEMO_PASSWORD,
        ),
        # The demo guides' photos queue their thumbnails (made once a worker runs).
        job_sender=_celery_job_sender(settings),
    )
    if json_out:
        typer.echo(json.dumps({"created": report.created, "already_present": report.existing}))
        return
    for line in report.created:
        typer.echo(f"created {line}")
    typer.echo(f"{len(report.created)} created, {report.existing} already present")
    typer.echo(
        "Demo people (issue a token with: alliance token issue --org ORG --user EMAIL --scopes ...):"
    )
    for org, email, _name in PEOPLE:
        typer.echo(f"  {org:<20} {email}")
    typer.echo(
        f"Sign in to the portal at {settings.base_url}/portal as any of them, "
        f"password {DEMO_PASSWORD!r} (unless one was set before)."
    )


_TTL = re.compile(r"^(\d+)([smhd]?)$")


def parse_ttl(value: str) -> int:
    match = _TTL.fullmatch(value.strip())
    if not match:
        raise typer.BadParameter("use a number of seconds or e.g. 15m, 1h, 7d")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


@token_app.command("issue")
def token_issue(
    org: Annotated[str, typer.Option(help="Organisation slug the token acts for.")],
    scopes: Annotated[str, typer.Option(help='Space- or comma-separated scopes, e.g. "admin".')],
    user: Annotated[
        str | None, typer.Option(help="E-mail of a person of that organisation.")
    ] = None,
    ttl: Annotated[
        str | None,
        typer.Option(help="Lifetime: seconds or 15m, 1h, 7d (default ALLIANCE_TOKEN_TTL_SECONDS)."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Print an RFC 9068 access token signed with the instance key."""
    from alliance.auth.keys import load_key_ring
    from alliance.auth.scopes import SCOPES, unknown_scopes
    from alliance.auth.tokens import TokenGrant, issue_access_token
    from alliance.orgs import repository as repo

    settings = settings_or_exit()
    requested = [s for s in re.split(r"[\s,]+", scopes) if s]
    bad = unknown_scopes(requested)
    if bad or not requested:
        raise fail(
            f"unknown scope(s) {', '.join(bad) or '(none given)'}; known: {', '.join(SCOPES)}", 2
        )
    seconds = parse_ttl(ttl) if ttl else settings.token.ttl_seconds
    if not 60 <= seconds <= 30 * 86400:
        raise fail("--ttl must be between 1 minute and 30 days", 2)

    async def find(session: Any) -> TokenGrant:
        organisation = await repo.organisation_by_slug(session, org)
        if organisation is None:
            raise fail(f"no organisation with slug {org!r} (seed the demo with 'alliance demo'?)")
        person_id = None
        if user:
            person = await repo.person_by_email(session, user)
            if person is None or person.organisation_id != organisation.id:
                raise fail(f"no person {user!r} in organisation {org!r}")
            person_id = person.id
        return TokenGrant(
            subject=str(person_id) if person_id else f"cli:{organisation.slug}",
            client_id="alliance-cli",
            organisation_id=organisation.id,
            organisation_slug=organisation.slug,
            scopes=tuple(dict.fromkeys(requested)),
            person_id=person_id,
        )

    grant = run_with_session(settings, find)
    keys = load_key_ring(pem=settings.signing.key, key_file=settings.signing_key_file)
    token, claims = issue_access_token(
        keys, grant, issuer=settings.base_url, audience=settings.token_audience, ttl_seconds=seconds
    )
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": seconds,
                    "scope": claims["scope"],
                }
            )
        )
    else:
        typer.echo(token)


@schema_app.command("export")
def schema_export() -> None:
    """Print the GraphQL schema (SDL) to standard output."""
    from schema.schema import export_sdl

    sys.stdout.write(export_sdl())


@search_app.command("reindex")
def search_reindex(json_out: JsonOption = False) -> None:
    """Rebuild the search index from the database and swap it in, with no downtime."""
    from search.cli import reindex

    code = reindex(settings_or_exit(), json_out=json_out)
    if code:
        raise typer.Exit(code)


@search_app.command("status")
def search_status(json_out: JsonOption = False) -> None:
    """The change-log head, the indexed cursor and the lag between them."""
    from search.cli import status

    code = status(settings_or_exit(), json_out=json_out)
    if code:
        raise typer.Exit(code)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
