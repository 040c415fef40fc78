"""``alliance peers`` (register, list, remove peer instances) and ``alliance sync pull``
(pull one peer's feed now, with a progress bar)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer

peers_app = typer.Typer(
    help="Federation peers: other alliance instances this one pulls.", no_args_is_help=True
)
sync_app = typer.Typer(help="Syncing from peer instances.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _settings() -> Any:
    from alliance.cli import settings_or_exit

    return settings_or_exit()


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"alliance: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _run(work: Any) -> Any:
    from alliance.cli import run_with_session
    from alliance.errors import DomainError

    try:
        return run_with_session(_settings(), work)
    except DomainError as exc:
        raise _fail(exc.message) from exc


def peer_json(peer: Any) -> dict[str, Any]:
    """A peer as shown to operators: never its client secret."""
    return {
        "name": peer.name,
        "url": peer.base_url,
        "token_url": peer.token_url,
        "client_id": peer.client_id,
        "scope": peer.scope,
        "active": peer.active,
        "instance_id": peer.instance_id,
        "last_cursor": peer.last_cursor,
        "last_pulled_at": peer.last_pulled_at.isoformat() if peer.last_pulled_at else None,
        "last_error": peer.last_error,
        "lag_changes": peer.lag_changes,
        "lag_seconds": peer.lag_seconds,
        "imported": peer.imported_count,
    }


@peers_app.command("add")
def peers_add(
    name: Annotated[str, typer.Argument(help="A short name for the peer (a slug).")],
    url: Annotated[
        str, typer.Option("--url", help="The peer's base URL, e.g. https://alliance.example")
    ],
    client_id: Annotated[str, typer.Option("--client-id", help="The client the peer issued us.")],
    client_secret: Annotated[
        str,
        typer.Option(
            "--client-secret",
            help="Its secret (or set ALLIANCE_PEER_CLIENT_SECRET).",
            envvar="ALLIANCE_PEER_CLIENT_SECRET",
        ),
    ],
    token_url: Annotated[
        str | None, typer.Option("--token-url", help="Default: <url>/oauth/token.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Register a peer; its imports will be owned by a new organisation peer-NAME."""
    from alliance.errors import DomainError
    from alliance.federation import sealing, service

    try:
        key = sealing.sealing_key(_settings())
    except DomainError as exc:
        raise _fail(exc.message) from exc

    async def work(session: Any) -> dict[str, Any]:
        peer = await service.add_peer(
            session,
            None,
            service.PeerData(
                name=name,
                base_url=url,
                client_id=client_id,
                client_secret=client_secret,
                token_url=token_url,
            ),
            sealing_key=key,
        )
        return peer_json(peer)

    shown = _run(work)
    if json_out:
        typer.echo(json.dumps(shown))
    else:
        typer.echo(
            f"peer {shown['name']} added ({shown['url']}); pull it with: alliance sync pull --peer {shown['name']}"
        )


@peers_app.command("list")
def peers_list(json_out: JsonOption = False) -> None:
    """Every peer with its status: last cursor, lag, last error."""
    from alliance.federation import service

    async def work(session: Any) -> list[dict[str, Any]]:
        return [peer_json(p) for p in await service.list_peers(session, None)]

    peers = _run(work)
    if json_out:
        typer.echo(json.dumps(peers))
        return
    if not peers:
        typer.echo("no peers")
    for p in peers:
        state = "active" if p["active"] else "inactive"
        lag = (
            "never pulled"
            if p["last_pulled_at"] is None
            else (f"lag {p['lag_changes'] or 0} changes, last pulled {p['last_pulled_at']}")
        )
        typer.echo(f"{p['name']}\t{p['url']}\t{state}\t{lag}\timported {p['imported']}")
        if p["last_error"]:
            typer.echo(f"  last error: {p['last_error']}")


@peers_app.command("remove")
def peers_remove(name: Annotated[str, typer.Argument(help="The peer's name.")]) -> None:
    """Stop pulling a peer (its organisation and the copies it owns stay)."""
    from alliance.federation import service

    async def work(session: Any) -> None:
        await service.remove_peer(session, None, name)

    _run(work)
    typer.echo(f"peer {name} removed")


@sync_app.command("pull")
def sync_pull(
    peer: Annotated[str, typer.Option("--peer", help="The peer's name.")],
    json_out: JsonOption = False,
) -> None:
    """Pull a peer's change feed now, until it has nothing more (resumes from its cursor)."""
    from alliance.db import make_engine, make_sessionmaker
    from alliance.errors import DomainError
    from alliance.federation import pull

    settings = _settings()
    bar: Any = None
    shown = 0

    def progress(done: int, total: int | None) -> None:
        nonlocal bar, shown
        if json_out:
            return
        if bar is None:
            bar = typer.progressbar(
                length=max(total or 0, 1), label=f"pulling {peer}", file=sys.stderr
            )
            bar.__enter__()
        if done > shown:
            bar.update(done - shown)
            shown = done

    async def main() -> pull.PullReport:
        engine = make_engine(settings.database_url)
        try:
            return await pull.pull(make_sessionmaker(engine), settings, peer, progress=progress)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(main())
    except (pull.PullFailed, DomainError) as exc:
        raise _fail(str(exc) if isinstance(exc, pull.PullFailed) else exc.message) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    body = {
        "peer": report.peer,
        "pages": report.pages,
        "lines": report.lines,
        "imported": report.imported,
        "outcomes": report.outcomes,
        "cursor": report.cursor,
        "has_more": report.has_more,
    }
    if json_out:
        typer.echo(json.dumps(body))
        return
    detail = (
        ", ".join(f"{k.lower()} {v}" for k, v in sorted(report.outcomes.items())) or "nothing new"
    )
    typer.echo(
        f"pulled {report.lines} changes from {report.peer} in {report.pages} pages: {detail}"
    )
    if report.has_more:
        typer.echo("more is waiting: run it again (or let the periodic pull catch up)")
