"""portal

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alliance.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cookie_digest", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=True),
        sa.Column("code_verifier", sa.String(length=128), nullable=True),
        sa.Column("return_to", sa.String(length=2000), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("sealed_tokens", sa.Text(), nullable=True),
        sa.Column("access_expires_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_portal_sessions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("cookie_digest", name=op.f("uq_portal_sessions_cookie_digest")),
    )
    with op.batch_alter_table("portal_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_portal_sessions_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_sessions_person_id"))
        batch_op.drop_index(batch_op.f("ix_portal_sessions_expires_at"))
    op.drop_table("portal_sessions")
