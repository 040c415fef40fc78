"""listing_stats: per-day counts of listing checks (checked, blocked, review) for the statistics

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listing_check_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("working_group_id", sa.Uuid(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("blocked", sa.BigInteger(), nullable=False),
        sa.Column("review", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "organisation_id", "working_group_id", name=op.f("pk_listing_check_counts")
        ),
    )


def downgrade() -> None:
    op.drop_table("listing_check_counts")
