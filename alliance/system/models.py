from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, UTCDateTime, utcnow


class WorkerHeartbeat(Base):
    """Written by the periodic heartbeat task: proof that beat and a worker are both alive."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    beats: Mapped[int] = mapped_column(Integer, default=0)
