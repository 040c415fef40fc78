"""Is this access token revoked? Asked on every authenticated request, so kept to one
primary-key lookup on a bare connection (no ORM session to set up); a jti once seen
revoked is remembered, since revocation is permanent."""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from alliance.auth import repository as repo

_KNOWN_REVOKED: OrderedDict[str, None] = OrderedDict()
_REMEMBER = 10_000


async def token_revoked(sessions: async_sessionmaker[AsyncSession], jti: str) -> bool:
    if jti in _KNOWN_REVOKED:
        return True
    statement = repo.revoked_jti_query(jti)
    # The sessions' bind: the engine, or (in tests) the connection they all share.
    bind = sessions.kw["bind"]
    if isinstance(bind, AsyncConnection):
        revoked = (await bind.execute(statement)).first() is not None
    else:
        async with bind.connect() as connection:
            revoked = (await connection.execute(statement)).first() is not None
    if revoked:
        _KNOWN_REVOKED[jti] = None
        while len(_KNOWN_REVOKED) > _REMEMBER:
            _KNOWN_REVOKED.popitem(last=False)
    return revoked
