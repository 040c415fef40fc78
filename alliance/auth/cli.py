"""``alliance client|user|issuer|keys``: the operator's identity commands.

Each command runs in one committed transaction; the services decide and validate,
these commands only translate arguments and print. The local operator holds the
instance's keys, so the services see no principal (every right).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from alliance.config import Settings, SettingsError, load_settings
from alliance.errors import DomainError, InvalidInput

T = TypeVar("T")

client_app = typer.Typer(help="OAuth clients of member organisations.", no_args_is_help=True)
user_app = typer.Typer(help="People with local accounts.", no_args_is_help=True)
issuer_app = typer.Typer(
    help="Member organisations' identity providers (JWT bearer assertions).", no_args_is_help=True
)
keys_app = typer.Typer(help="The instance's token-signing keys.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.secho(f"alliance: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"alliance: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _in_transaction(settings: Settings, work: Callable[[Any], T]) -> T:
    """Run the sync ``work(session)`` in one committed transaction; domain errors exit."""
    from alliance.db import make_engine, make_sessionmaker, unit_of_work

    async def main() -> T:
        engine = make_engine(settings.database_url)
        try:
            async with unit_of_work(make_sessionmaker(engine)) as session:
                return await session.run_sync(work)
        finally:
            await engine.dispose()

    return _exiting_on_domain_errors(lambda: asyncio.run(main()))


def _in_async_transaction(settings: Settings, work: Callable[[Any], Any]) -> Any:
    """Run the async ``work(session)`` in one committed transaction; domain errors exit."""
    from alliance.db import make_engine, make_sessionmaker, unit_of_work

    async def main() -> Any:
        engine = make_engine(settings.database_url)
        try:
            async with unit_of_work(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return _exiting_on_domain_errors(lambda: asyncio.run(main()))


def _exiting_on_domain_errors(run: Callable[[], T]) -> T:
    try:
        return run()
    except InvalidInput as exc:
        for problem in exc.problems:
            typer.secho(
                f"alliance: {'.'.join(problem.path)}: {problem.message}", err=True, fg="red"
            )
        raise typer.Exit(2) from exc
    except DomainError as exc:
        raise _fail(exc.message) from exc


def _split(value: str | None) -> list[str]:
    return [v for v in re.split(r"[\s,]+", value or "") if v]


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read a JWKS from {path}: {exc}", 2) from exc
    return document  # the service reads a single JWK as a JWKS of one


# --- clients ----------------------------------------------------------------------------------


@client_app.command("create")
def client_create(
    org: Annotated[str, typer.Option(help="Slug of the organisation the client belongs to.")],
    scopes: Annotated[str, typer.Option(help="Space- or comma-separated scopes it may request.")],
    name: Annotated[str | None, typer.Option(help="A name people recognise.")] = None,
    grant: Annotated[
        list[str] | None,
        typer.Option(
            help="Allowed grant type (repeat for several): client_credentials, "
            "authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:jwt-bearer."
        ),
    ] = None,
    working_groups: Annotated[
        str | None,
        typer.Option(help="Limit it to these working groups (slugs); default: all of its org's."),
    ] = None,
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Redirect URI (authorization_code; repeatable).")
    ] = None,
    auth_method: Annotated[
        str,
        typer.Option(
            help="client_secret_basic, client_secret_post, private_key_jwt or none (public)."
        ),
    ] = "client_secret_basic",
    jwks_file: Annotated[
        Path | None, typer.Option(help="Its public keys (private_key_jwt), a JWKS file.")
    ] = None,
    jwks_url: Annotated[
        str | None, typer.Option(help="Its public keys' URL (private_key_jwt).")
    ] = None,
    rate_limit: Annotated[
        int | None, typer.Option(help="Requests per minute (default from the settings).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Register an OAuth client; its secret is printed once and only its hash is kept."""
    from alliance.auth import service

    settings = _settings()
    data = service.ClientData(
        organisation=org,
        name=name or f"{org} client",
        scopes=_split(scopes),
        grant_types=grant or ["client_credentials"],
        working_groups=_split(working_groups) if working_groups is not None else None,
        redirect_uris=redirect_uri or [],
        auth_method=auth_method,
        jwks=_read_jwks(jwks_file) if jwks_file else None,
        jwks_uri=jwks_url,
        rate_limit_per_minute=rate_limit,
    )

    def work(session: Any) -> dict[str, Any]:
        created = service.create_client(session, None, data)
        client = created.client
        return {
            "client_id": client.client_id,
            "client_secret": created.secret,
            "organisation": org,
            "name": client.name,
            "grant_types": client.grant_types,
            "scopes": client.scopes,
            "working_groups": data.working_groups,
            "token_endpoint_auth_method": str(client.token_endpoint_auth_method),
        }

    out = _in_transaction(settings, work)
    if json_out:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"client_id:     {out['client_id']}")
    if out["client_secret"]:
        typer.echo(f"client_secret: {out['client_secret']}")
        typer.echo("Keep the secret now: it is not shown again.", err=True)
    typer.echo(f"scopes:        {' '.join(out['scopes'])}")
    typer.echo(f"grant types:   {' '.join(out['grant_types'])}")


@client_app.command("list")
def client_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation's clients.")] = None,
    json_out: JsonOption = False,
) -> None:
    """List the OAuth clients (never their secrets)."""
    from alliance.auth import service

    settings = _settings()

    def work(session: Any) -> list[dict[str, Any]]:
        return [
            {
                "client_id": client.client_id,
                "organisation": organisation.slug,
                "name": client.name,
                "grant_types": client.grant_types,
                "scopes": client.scopes,
                "token_endpoint_auth_method": str(client.token_endpoint_auth_method),
                "disabled": client.disabled,
            }
            for client, organisation in service.list_clients(session, None, org)
        ]

    rows = _in_transaction(settings, work)
    if json_out:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        state = "DISABLED " if row["disabled"] else ""
        typer.echo(
            f"{row['client_id']}  {row['organisation']:<20} {state}{row['name']}  "
            f"[{' '.join(row['scopes'])}]"
        )


def _set_disabled(client_id: str, disabled: bool) -> None:
    from alliance.auth import service

    settings = _settings()
    _in_transaction(
        settings, lambda s: service.set_client_disabled(s, None, client_id, disabled=disabled)
    )
    typer.echo(f"client {client_id} {'disabled' if disabled else 'enabled'}")


@client_app.command("disable")
def client_disable(client_id: Annotated[str, typer.Argument(help="The client_id.")]) -> None:
    """Refuse the client from now on (its tokens already issued expire on their own)."""
    _set_disabled(client_id, True)


@client_app.command("enable")
def client_enable(client_id: Annotated[str, typer.Argument(help="The client_id.")]) -> None:
    """Accept a disabled client again."""
    _set_disabled(client_id, False)


# --- people -----------------------------------------------------------------------------------


@user_app.command("create")
def user_create(
    org: Annotated[str, typer.Option(help="Slug of the person's organisation.")],
    email: Annotated[str, typer.Option(help="Their e-mail address (the sign-in name).")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail).")] = None,
    org_admin: Annotated[
        bool, typer.Option("--org-admin", help="They administer their organisation.")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Give a person a local account (created if new) to sign in on the authorization page."""
    from alliance.auth.accounts import create_local_user

    settings = _settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    def work(session: Any) -> Any:
        return create_local_user(
            session,
            None,
            organisation=org,
            email=email,
            password=password,
            display_name=name,
            org_admin=org_admin,
        )

    account = _in_async_transaction(settings, work)
    person_id, created = str(account.person.id), account.created
    if json_out:
        typer.echo(json.dumps({"person_id": person_id, "email": email.lower(), "created": created,
                               "org_admin": org_admin}))  # fmt: skip
        return
    typer.echo(f"{'created' if created else 'updated'} {email.lower()} ({person_id}) in {org}")


# --- issuers ----------------------------------------------------------------------------------


@issuer_app.command("add")
def issuer_add(
    org: Annotated[str, typer.Option(help="Slug of the organisation the issuer speaks for.")],
    issuer: Annotated[str, typer.Option(help="The issuer identifier (the assertions' iss).")],
    jwks_url: Annotated[
        str | None, typer.Option(help="Where its public keys are published (fetched, cached).")
    ] = None,
    jwks_file: Annotated[Path | None, typer.Option(help="Its public keys, a JWKS file.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Trust a member organisation's identity provider to vouch for its people and services."""
    from alliance.auth import service

    settings = _settings()
    if (jwks_url is None) == (jwks_file is None):
        raise _fail("give exactly one of --jwks-url or --jwks-file", 2)
    jwks = _read_jwks(jwks_file) if jwks_file else None

    def work(session: Any) -> dict[str, Any]:
        added = service.add_issuer(
            session, None, organisation=org, issuer=issuer, jwks=jwks, jwks_uri=jwks_url
        )
        return {"id": str(added.id), "issuer": added.issuer, "organisation": org}

    out = _in_transaction(settings, work)
    if json_out:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"trusted issuer {out['issuer']} for {org}")


# --- keys -------------------------------------------------------------------------------------


@keys_app.command("rotate")
def keys_rotate(json_out: JsonOption = False) -> None:
    """Make a new signing key; retired keys stay in the JWKS until their tokens have expired."""
    from alliance.auth.keys import KeyRotationError, rotate_signing_key

    settings = _settings()
    try:
        rotation = rotate_signing_key(pem=settings.signing.key, key_file=settings.signing_key_file)
    except KeyRotationError as exc:
        raise _fail(str(exc)) from exc
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "kid": rotation.new_kid,
                    "retired_kid": rotation.retired_kid,
                    "published_kids": list(rotation.published_kids),
                }
            )
        )
        return
    typer.echo(f"new signing key {rotation.new_kid}")
    if rotation.retired_kid:
        typer.echo(f"retired {rotation.retired_kid} (still published until its tokens expire)")
