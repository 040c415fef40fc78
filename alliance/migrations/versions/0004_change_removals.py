"""change-log removals and consumer cursors

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alliance.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_OPERATIONS = ("CREATE", "UPDATE", "DELETE", "REVOKE")
_NEW_OPERATIONS = (*_OLD_OPERATIONS, "REMOVE")


def _operation(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="operation", native_enum=False, create_constraint=True, length=16)


def _distribution() -> sa.Enum:
    return sa.Enum(
        "ORGANISATION",
        "WORKING_GROUP",
        "ALLIANCE",
        "FEDERATION",
        name="prev_distribution",
        native_enum=False,
        create_constraint=True,
        length=16,
    )


def _tlp() -> sa.Enum:
    return sa.Enum(
        "CLEAR",
        "GREEN",
        "AMBER",
        "AMBER_STRICT",
        "RED",
        name="prev_tlp",
        native_enum=False,
        create_constraint=True,
        length=16,
    )


def upgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.alter_column(
            "operation",
            existing_type=_operation(_OLD_OPERATIONS),
            type_=_operation(_NEW_OPERATIONS),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("prev_owner_org_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("prev_working_group_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("prev_distribution", _distribution(), nullable=True))
        batch_op.add_column(sa.Column("prev_tlp", _tlp(), nullable=True))
        batch_op.add_column(sa.Column("audience_org_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_change_log_working_group", ["working_group_id", "seq"], unique=False
        )

    op.create_table(
        "consumer_cursor",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_consumer_cursor")),
    )


def downgrade() -> None:
    op.drop_table("consumer_cursor")
    op.execute("DELETE FROM change_log WHERE operation = 'REMOVE'")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index("ix_change_log_working_group")
        batch_op.drop_constraint(op.f("ck_change_log_prev_tlp"), type_="check")
        batch_op.drop_constraint(op.f("ck_change_log_prev_distribution"), type_="check")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("audience_org_id")
        batch_op.drop_column("prev_tlp")
        batch_op.drop_column("prev_distribution")
        batch_op.drop_column("prev_working_group_id")
        batch_op.drop_column("prev_owner_org_id")
        batch_op.alter_column(
            "operation",
            existing_type=_operation(_NEW_OPERATIONS),
            type_=_operation(_OLD_OPERATIONS),
            existing_nullable=False,
        )
