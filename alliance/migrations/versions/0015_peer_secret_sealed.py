"""peer_secret_sealed: peers' client secrets sealed at rest (Fernet tokens, longer than the
plaintext), so the column widens to text

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_peers = sa.table("peers", sa.column("id", sa.Uuid()), sa.column("client_secret", sa.Text()))


def upgrade() -> None:
    # Rows already there stay plaintext until the next pull seals them (the key may not be
    # reachable from here, and unsealed values are read as they are).
    with op.batch_alter_table("peers", schema=None) as batch_op:
        batch_op.alter_column(
            "client_secret",
            existing_type=sa.String(length=500),
            type_=sa.Text(),
            existing_nullable=False,
        )


def _unseal_all() -> None:
    """The code before this revision reads the column as plaintext: open every sealed secret
    with the instance's key (from the same settings the app reads) before narrowing."""
    from alliance.config import load_settings
    from alliance.federation import sealing

    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_peers.c.id, _peers.c.client_secret).where(
            _peers.c.client_secret.startswith(sealing.PREFIX, autoescape=True)
        )
    ).all()
    if not rows:
        return
    key = sealing.sealing_key(load_settings())
    for peer_id, stored in rows:
        bind.execute(
            _peers.update()
            .where(_peers.c.id == peer_id)
            .values(client_secret=sealing.unseal(key, stored))
        )


def downgrade() -> None:
    _unseal_all()
    with op.batch_alter_table("peers", schema=None) as batch_op:
        batch_op.alter_column(
            "client_secret",
            existing_type=sa.Text(),
            type_=sa.String(length=500),
            existing_nullable=False,
        )
