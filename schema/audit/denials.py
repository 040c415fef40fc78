"""Denied GraphQL fields are audited in a transaction of their own, once the operation has
run: the operation's own transaction writes nothing of a refused field (and a refused
mutation is rolled back). One write per operation, however many fields were refused, and
one entry per distinct refusal, so a document of many aliased refused fields cannot turn
into many audit writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from alliance.audit import service as audit


@dataclass
class _Refusal:
    entry: audit.PendingEntry
    count: int = 1


class DenialLog:
    """The refusals of one operation, in order, counted by (field, code, reason)."""

    def __init__(self) -> None:
        self._refusals: dict[tuple[str, str, str], _Refusal] = {}

    def add(self, field: str, code: str, reason: str) -> None:
        seen = self._refusals.get((field, code, reason))
        if seen is not None:
            seen.count += 1
            return
        # Made now: the entry keeps the moment and the caller of the first refusal.
        entry = audit.make_entry(
            action=f"graphql.{field}",
            outcome=audit.Outcome.DENIED,
            detail={"code": code, "reason": reason},
        )
        self._refusals[(field, code, reason)] = _Refusal(entry)

    def drain(self) -> list[audit.PendingEntry]:
        entries = [
            r.entry
            if r.count == 1
            else replace(r.entry, detail={**r.entry.detail, "occurrences": r.count})
            for r in self._refusals.values()
        ]
        self._refusals.clear()
        return entries


def deny(info: Info, code: str, reason: str) -> None:
    """Note a refused field; :class:`AuditDenials` writes it when the operation ends."""
    info.context.denials.add(info.field_name, code, reason)


class AuditDenials(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        try:
            yield
        finally:
            context = self.execution_context.context
            log: DenialLog | None = getattr(context, "denials", None)
            if log is not None:
                await audit.write_now(context.sessions, log.drain())
