"""A synchronous engine for the authorization server, which authlib runs synchronously.

It points at the same database as the async engine (psycopg for PostgreSQL, the
standard library's sqlite3 for SQLite) and makes ``AllianceSession``s, so the
change-log and audit hooks apply to its commits exactly as to the async ones.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

from alliance.db import AllianceSession, _sqlite_pragmas


def sync_database_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql+asyncpg", "postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme in ("sqlite+aiosqlite", "sqlite"):
        return f"sqlite://{rest}"
    raise ValueError(f"unsupported database scheme {scheme!r}{sep}")


def make_sync_engine(url: str, *, pool_size: int = 5) -> Engine:
    sync_url = sync_database_url(url)
    kwargs: dict[str, Any] = {}
    if sync_url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_size"] = pool_size
        kwargs["pool_pre_ping"] = True
    engine = create_engine(sync_url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sync_sessionmaker(engine: Engine) -> sessionmaker[AllianceSession]:
    import alliance.models  # noqa: F401  registers every mapper and the session hooks

    return sessionmaker(engine, class_=AllianceSession, expire_on_commit=False)
