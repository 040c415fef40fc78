from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from alliance.auth.principal import Principal
from alliance.config import Settings
from schema.dataloaders import Loaders


class Context(BaseContext):
    """Per request: one session (committed per mutation), the caller, and fresh dataloaders."""

    def __init__(
        self,
        *,
        session: AsyncSession,
        principal: Principal | None,
        settings: Settings,
        request_id: str,
    ) -> None:
        super().__init__()
        self.session = session
        self.principal = principal
        self.settings = settings
        self.request_id = request_id
        self.loaders = Loaders(session)

    def reset_loaders(self) -> None:
        """After a write, cached objects may be stale."""
        self.loaders = Loaders(self.session)
