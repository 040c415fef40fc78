"""``alliance rules``: back-test a rule on a sample catalogue before activating it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer

from alliance.taxonomy.cli import run_in_transaction

rules_app = typer.Typer(help="Banned-category rules.", no_args_is_help=True)


@rules_app.command("backtest")
def backtest(
    rule_id: Annotated[str, typer.Argument(help="The rule's id (a UUID).")],
    file: Annotated[
        Path, typer.Argument(help="A catalogue: .csv (header of field names) or .jsonl")
    ],
    version: Annotated[int | None, typer.Option(help="Version to run (default: latest).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """How many listings the rule would block or send to review, and whom it would hit."""
    from alliance.rules.backtest import backtest_rule

    try:
        rule = uuid.UUID(rule_id)
    except ValueError as exc:
        raise typer.BadParameter("a rule id is a UUID") from exc
    fmt = "csv" if file.suffix.lower() == ".csv" else "jsonl"
    text = file.read_text(encoding="utf-8")
    report = run_in_transaction(
        lambda s: backtest_rule(s, None, rule, catalogue=text, fmt=fmt, version=version)
    )
    body = {
        "rule_id": str(report.rule_id),
        "version": report.version,
        "listings": report.listings,
        "in_scope": report.in_scope,
        "blocked": report.blocked,
        "review": report.review,
        "allowed": report.allowed,
        "refused": report.refused,
        "exceptions": dict(report.exceptions),
        "authorised_sellers_hit": dict(report.authorised_sellers_hit),
    }
    if json_out:
        typer.echo(json.dumps(body))
        return
    typer.echo(
        f"version {report.version}: {report.listings} listings, {report.blocked} blocked, "
        f"{report.review} to review, {report.allowed} allowed, {report.refused} refused"
    )
    for name, n in report.exceptions.items():
        typer.echo(f"  exception {name}: {n}")
    for name, n in report.authorised_sellers_hit.items():
        typer.echo(f"  authorised seller hit: {name} ({n})")
