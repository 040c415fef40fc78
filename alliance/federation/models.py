"""Peers this instance pulls from, the instance's own identity, and where imported objects
came from."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin, UTCDateTime, new_id, utcnow


class InstanceIdentity(Base):
    """The one row naming this instance to its peers: made by the migration (from
    ``ALLIANCE_INSTANCE_ID`` when set, otherwise a new UUID) and never changed after."""

    __tablename__ = "instance_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    instance_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Peer(TimestampedMixin, Base):
    """Another alliance instance whose change feed this instance pulls."""

    __tablename__ = "peers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    base_url: Mapped[str] = mapped_column(String(2048))
    token_url: Mapped[str] = mapped_column(String(2048))
    client_id: Mapped[str] = mapped_column(String(200))
    # The credential the peer issued us, sealed (``alliance.federation.sealing``); never
    # logged and never shown by the CLI, the portal or GraphQL.
    client_secret: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(200), default="federation")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The local organisation that owns what is imported from this peer.
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), unique=True
    )
    # The peer's instance id, learned from its handshake on the first pull.
    instance_id: Mapped[str | None] = mapped_column(String(64))
    # The peer's feed cursor after the last committed batch (opaque; sent back as ``after``).
    last_cursor: Mapped[str | None] = mapped_column(String(200))
    last_seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(2000))
    # How far behind the peer's feed head we were after the last pull.
    lag_changes: Mapped[int | None] = mapped_column(Integer)
    lag_seconds: Mapped[float | None] = mapped_column()
    imported_count: Mapped[int] = mapped_column(Integer, default=0)


class KnownInstance(TimestampedMixin, Base):
    """Which instance a local organisation's federation credentials belong to, as that
    instance said in its handshake: the feed never sends an instance back its own objects."""

    __tablename__ = "federation_known_instances"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    instance_id: Mapped[str] = mapped_column(String(64), index=True)


class Provenance(TimestampedMixin, Base):
    """Where an imported object came from: one row per local copy, keyed by (kind, local id).
    The origin (instance, object id) is unique: one local copy per origin object."""

    __tablename__ = "federation_provenance"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    peer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("peers.id", ondelete="SET NULL"), index=True
    )
    origin_instance_id: Mapped[str] = mapped_column(String(64))
    origin_object_id: Mapped[str] = mapped_column(String(64))
    origin_version: Mapped[int] = mapped_column(Integer)
    origin_org_slug: Mapped[str] = mapped_column(String(63))
    origin_org_name: Mapped[str] = mapped_column(String(200))
    # The object's id and version at the peer it came through (the origin itself, or a peer
    # passing it on): removals name the peer's id, and a line no newer is a replay.
    peer_object_id: Mapped[str] = mapped_column(String(64))
    peer_version: Mapped[int] = mapped_column(Integer)
    # Set when the origin retired the object (deleted, or it left federation).
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint(
            "kind", "origin_instance_id", "origin_object_id", name="uq_federation_provenance_origin"
        ),
        Index("ix_federation_provenance_peer_object", "peer_id", "kind", "peer_object_id"),
    )
