"""federation: the instance's identity, peers, known peer instances, provenance of imports

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00
"""

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import alliance.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_identity")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_instance_identity_instance_id")),
    )
    op.create_table(
        "federation_known_instances",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_federation_known_instances_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_federation_known_instances")),
    )
    with op.batch_alter_table("federation_known_instances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_known_instances_instance_id"), ["instance_id"], unique=False
        )

    op.create_table(
        "peers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("token_url", sa.String(length=2048), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=True),
        sa.Column("last_cursor", sa.String(length=200), nullable=True),
        sa.Column("last_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("last_pulled_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("lag_changes", sa.Integer(), nullable=True),
        sa.Column("lag_seconds", sa.Double(), nullable=True),
        sa.Column("imported_count", sa.Integer(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_peers_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peers")),
        sa.UniqueConstraint("name", name=op.f("uq_peers_name")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_peers_organisation_id")),
    )
    op.create_table(
        "federation_provenance",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("local_id", sa.String(length=64), nullable=False),
        sa.Column("peer_id", sa.Uuid(), nullable=True),
        sa.Column("origin_instance_id", sa.String(length=64), nullable=False),
        sa.Column("origin_object_id", sa.String(length=64), nullable=False),
        sa.Column("origin_version", sa.Integer(), nullable=False),
        sa.Column("origin_org_slug", sa.String(length=63), nullable=False),
        sa.Column("origin_org_name", sa.String(length=200), nullable=False),
        sa.Column("peer_object_id", sa.String(length=64), nullable=False),
        sa.Column("peer_version", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("retired_reason", sa.Text(), nullable=True),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["peers.id"],
            name=op.f("fk_federation_provenance_peer_id_peers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("kind", "local_id", name=op.f("pk_federation_provenance")),
        sa.UniqueConstraint(
            "kind", "origin_instance_id", "origin_object_id", name="uq_federation_provenance_origin"
        ),
    )
    with op.batch_alter_table("federation_provenance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_federation_provenance_peer_object",
            ["peer_id", "kind", "peer_object_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_federation_provenance_peer_id"), ["peer_id"], unique=False
        )

    # The instance's identity, made once: ALLIANCE_INSTANCE_ID when set, else a new UUID.
    identity = sa.table(
        "instance_identity",
        sa.column("id", sa.Integer()),
        sa.column("instance_id", sa.String()),
        sa.column("created_at", alliance.db.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        identity,
        [
            {
                "id": 1,
                "instance_id": os.environ.get("ALLIANCE_INSTANCE_ID") or str(uuid.uuid4()),
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("federation_provenance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_provenance_peer_id"))
        batch_op.drop_index("ix_federation_provenance_peer_object")
    op.drop_table("federation_provenance")
    op.drop_table("peers")
    with op.batch_alter_table("federation_known_instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_known_instances_instance_id"))
    op.drop_table("federation_known_instances")
    op.drop_table("instance_identity")
