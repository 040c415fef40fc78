"""``alliance cases export``, ``alliance evidence verify`` and ``alliance report``."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from alliance.config import SettingsError, load_settings
from alliance.taxonomy.cli import run_in_transaction

cases_app = typer.Typer(help="Cases: export signed evidence packages.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence packages: verify them.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def parse_case_id(value: str) -> uuid.UUID:
    """A case's UUID, or its GraphQL global id."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        padded = value + "=" * (-len(value) % 4)
        kind, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind == "Case":
            return uuid.UUID(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise typer.BadParameter("a case id is a UUID or a Case global id")


@cases_app.command("export")
def export(
    case_id: Annotated[str, typer.Argument(help="The case's id (UUID or global id).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the ZIP.")],
    redact: Annotated[
        list[str] | None,
        typer.Option(
            help="Personal data to withhold: buyer_name, shipping_address, return_address, "
            "people, or 'all' (repeatable)."
        ),
    ] = None,
) -> None:
    """Export a signed case package (as the operator; the export is audited)."""
    from alliance.auth.keys import load_key_ring
    from alliance.cases.exporting import export_case_package
    from alliance.cases.package import PERSONAL_FIELDS, FieldsPolicy

    raw = parse_case_id(case_id)
    wanted = set(redact or [])
    if "all" in wanted:
        wanted = set(PERSONAL_FIELDS)
    try:
        policy = FieldsPolicy(frozenset(wanted))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc), 2) from exc
    keys = load_key_ring(pem=settings.signing.key, key_file=settings.signing_key_file)
    exported = run_in_transaction(
        lambda s: export_case_package(
            s,
            None,
            raw,
            policy,
            data_dir=settings.data_dir,
            key=keys.current,
            issuer=settings.base_url,
        )
    )
    output.write_bytes(exported.content)
    typer.echo(
        f"wrote {output} ({len(exported.content)} bytes): case {exported.case.reference}, "
        f"manifest head {exported.head}"
    )


def _load_jwks(source: str | None) -> dict[str, Any]:
    if source is None:
        from alliance.auth.keys import load_key_ring

        try:
            settings = load_settings()
        except SettingsError as exc:
            raise _fail(str(exc), 2) from exc
        if not settings.signing.key and not settings.signing_key_file.exists():
            raise _fail("no local instance key: give the instance's published keys with --jwks", 2)
        keys = load_key_ring(pem=settings.signing.key, key_file=settings.signing_key_file)
        return keys.public_jwks()
    if source.startswith(("https://", "http://")):
        import httpx

        response = httpx.get(source, timeout=10, follow_redirects=False)
        if response.status_code != 200:
            raise _fail(f"fetching {source}: HTTP {response.status_code}", 2)
        return dict(response.json())
    return dict(json.loads(Path(source).read_text(encoding="utf-8")))


@evidence_app.command("verify")
def verify(
    package_file: Annotated[Path, typer.Argument(help="The case package (.zip).")],
    jwks: Annotated[
        str | None,
        typer.Option(
            help="The instance's published keys: a JWKS file or URL (e.g. "
            "https://alliance.example/.well-known/jwks.json). Default: this instance's keys."
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Check every hash, the chain and the signature; name whatever fails (exit 1)."""
    from alliance.cases.package import verify as verify_package

    if not package_file.is_file():
        raise _fail(f"no such file: {package_file}", 2)
    result = verify_package(package_file.read_bytes(), _load_jwks(jwks))
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "case_id": result.case_id,
                    "head": result.head,
                    "entries": result.entries,
                    "kid": result.kid,
                    "problems": [
                        {"member": p.member, "message": p.message} for p in result.problems
                    ],
                }
            )
        )
    elif result.ok:
        typer.echo(
            f"OK: case {result.case_id}, {result.entries} evidence files, chain head "
            f"{result.head}, signed with key {result.kid}"
        )
    else:
        typer.echo(f"FAILED: {len(result.problems)} problem(s)")
        for problem in result.problems:
            typer.echo(f"  {problem}")
    if not result.ok:
        raise typer.Exit(1)


def report(
    year: Annotated[int, typer.Option(help="The year, e.g. 2026.")],
    format: Annotated[str, typer.Option("--format", help="html or csv.")] = "html",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
    working_group: Annotated[
        str | None, typer.Option(help="A working group's slug (default: alliance-wide).")
    ] = None,
) -> None:
    """The alliance-wide yearly transparency report (aggregates only), with SVG charts."""
    from alliance.cases import report as render
    from alliance.cases import statistics as stats
    from alliance.orgs import repository as orgs_repo

    if format not in ("html", "csv"):
        raise typer.BadParameter("html or csv", param_hint="--format")
    try:
        total_period = stats.parse_period(str(year))
    except Exception as exc:
        raise typer.BadParameter("a year such as 2026", param_hint="--year") from exc

    async def work(session: Any) -> tuple[Any, list[Any], str]:
        group_id = None
        name = "the alliance"
        if working_group is not None:
            group = await orgs_repo.working_group_by_slug(session, working_group)
            if group is None:
                raise _fail(f"no working group with slug {working_group!r}")
            group_id, name = group.id, group.name
        total = await stats.compute(session, None, total_period, working_group_id=group_id)
        months = [
            await stats.compute(session, None, m, working_group_id=group_id)
            for m in stats.months_of(year)
        ]
        return total, months, name

    total, months, name = run_in_transaction(work)
    text = (
        render.to_csv(total, months)
        if format == "csv"
        else render.to_html(total, months, title=f"Transparency report {year}: {name}")
    )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
