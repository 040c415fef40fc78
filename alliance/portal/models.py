"""The portal's browser sessions.

The cookie holds only an opaque random value; the row is found by its SHA-256. The
OAuth tokens the portal got for the person are sealed (Fernet) with a key derived from
that cookie value, so a database dump hands out no usable credential.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, UTCDateTime, new_id, utcnow


class PortalSession(Base):
    __tablename__ = "portal_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    cookie_digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # A sign-in in flight: the state and PKCE verifier of the authorization request.
    state: Mapped[str | None] = mapped_column(String(64))
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    return_to: Mapped[str | None] = mapped_column(String(2000))
    # Signed in: whose tokens these are, sealed.
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    sealed_tokens: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
