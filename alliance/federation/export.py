"""What the change feed leaves out for a peer instance: its own objects coming back.

The feed asks :func:`loop_guard` about its caller. For a federation caller whose instance
is known (it said so in its handshake, or it is a peer we pull from) the guard drops from
the feed every line about an object copied here from that instance, so an object never
goes back to where it started, however it travelled (A → B → C → A included: each copy
keeps the origin's provenance, and the origin is what is compared). The importer drops
such objects too, so a peer that ignores this still never loops.

The guard filters the feed's finished lines (either of the feed's paths), looking up the
objects of each chunk in one query on a session of its own (the feed's own connection
may be busy streaming a ``COPY``). :func:`not_originating_from` is the same rule as a
predicate over ``change_log`` for readers that build their own SQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, not_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.auth.principal import Principal
from alliance.federation import repository as repo
from alliance.sharing.policy import FEDERATION_SCOPE


async def caller_instance(session: AsyncSession, principal: Principal | None) -> str | None:
    """The instance a federation token belongs to, when it is known."""
    if principal is None or not principal.has_scope(FEDERATION_SCOPE):
        return None
    return await repo.instance_of_organisation(session, principal.organisation_id)


def not_originating_from(instance_id: str) -> ColumnElement[bool]:
    """Change-log rows (``change_log`` columns) of objects that did not start at ``instance_id``."""
    return not_(repo.originates_from(instance_id))


@dataclass(frozen=True, slots=True)
class LoopGuard:
    instance_id: str

    def left_out(self) -> ColumnElement[bool]:
        """The change-log rows this guard drops, for a count to leave out as the feed does."""
        return repo.originates_from(self.instance_id)

    async def filter(
        self, sessions: async_sessionmaker[AsyncSession], chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """The feed's NDJSON chunks without the lines about the caller's own objects."""
        pending = b""
        async with sessions() as session:
            async for chunk in chunks:
                data = pending + chunk if pending else chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    pending = data
                    continue
                complete, pending = data[: cut + 1], data[cut + 1 :]
                kept = await self._kept(session, complete.split(b"\n")[:-1])
                if kept:
                    yield b"\n".join(kept) + b"\n"
        if pending:
            yield pending

    async def _kept(self, session: AsyncSession, lines: list[bytes]) -> list[bytes]:
        refs: list[tuple[str, str] | None] = []
        for raw in lines:
            try:
                line = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                line = None
            kind = line.get("kind") if isinstance(line, dict) else None
            object_id = line.get("id") if isinstance(line, dict) else None
            refs.append((kind, object_id) if isinstance(kind, str) and object_id else None)
        wanted = [r for r in refs if r is not None]
        theirs = await repo.copied_from(session, self.instance_id, wanted) if wanted else set()
        return [raw for raw, ref in zip(lines, refs, strict=True) if ref not in theirs]


async def loop_guard(session: AsyncSession, principal: Principal | None) -> LoopGuard | None:
    """The guard for this caller, or None when the feed leaves nothing out for it."""
    instance = await caller_instance(session, principal)
    return LoopGuard(instance) if instance is not None else None
