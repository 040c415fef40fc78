"""taxii

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alliance.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taxii_status",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("pendings", sa.JSON(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_taxii_status_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxii_status_organisation_id"), ["organisation_id"], unique=False
        )
    with op.batch_alter_table("indicator_assertions", schema=None) as batch_op:
        batch_op.create_index("ix_indicator_assertions_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("indicator_assertions", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_assertions_updated_at")
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_status_organisation_id"))
    op.drop_table("taxii_status")
