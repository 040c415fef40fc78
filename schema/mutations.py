"""Running a mutation: one service call, one commit, expected failures as typed results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from alliance.auth.principal import Principal
from alliance.db import commit
from alliance.errors import DomainError, Forbidden
from schema.audit.denials import deny
from schema.errors import Error, to_error

R = TypeVar("R")


async def run_mutation(
    info: Info, work: Callable[[AsyncSession, Principal | None], Awaitable[R]]
) -> R | Error:
    context = info.context
    session = context.session
    try:
        result = await work(session, context.principal)
    except DomainError as exc:
        await session.rollback()
        if isinstance(exc, Forbidden):
            deny(info, exc.code, exc.message)
        return to_error(exc)
    except BaseException:
        await session.rollback()
        raise
    await commit(session)
    # The commit released the connection; take one again before the payload's fields
    # load concurrently (see ``get_context``).
    await session.connection()
    context.reset_loaders()
    return result
