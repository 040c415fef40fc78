from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext

from alliance.auth.principal import Principal
from alliance.config import Settings
from schema.audit.denials import DenialLog
from schema.dataloaders import Loaders


class Context(BaseContext):
    """Per request: one session (committed per mutation), the caller, and fresh dataloaders."""

    def __init__(
        self,
        *,
        session: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        principal: Principal | None,
        settings: Settings,
        request_id: str,
        search: Any = None,
    ) -> None:
        super().__init__()
        self.session = session
        # For writes that must outlive this request's transaction (audited denials).
        self.sessions = sessions
        self.denials = DenialLog()
        self.principal = principal
        self.settings = settings
        self.request_id = request_id
        # The search backend the app built in its lifespan (``search.backend.SearchBackend``).
        self.search = search
        self.loaders = Loaders(session)
        # A websocket whose upgrade carried a bad token: refused when it initialises.
        self.refused: Exception | None = None

    def reset_loaders(self) -> None:
        """After a write, cached objects may be stale."""
        self.loaders = Loaders(self.session)
