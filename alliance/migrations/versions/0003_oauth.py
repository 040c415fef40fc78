"""oauth

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:01:43.953175
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alliance.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_oauth_revoked_tokens")),
    )
    with op.batch_alter_table("oauth_revoked_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_revoked_tokens_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "oauth_used_assertions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_oauth_used_assertions")),
    )
    with op.batch_alter_table("oauth_used_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_used_assertions_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=True),
        sa.Column(
            "token_endpoint_auth_method",
            sa.Enum(
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none",
                name="clientauthmethod",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("working_group_ids", sa.JSON(), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("jwks_uri", sa.String(length=2000), nullable=True),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_oauth_clients_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_clients_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "oauth_trusted_issuers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=2000), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("jwks_uri", sa.String(length=2000), nullable=True),
        sa.Column("cached_jwks", sa.JSON(), nullable=True),
        sa.Column("jwks_fetched_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_oauth_trusted_issuers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_trusted_issuers")),
        sa.UniqueConstraint("issuer", name=op.f("uq_oauth_trusted_issuers_issuer")),
    )
    with op.batch_alter_table("oauth_trusted_issuers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_trusted_issuers_organisation_id"),
            ["organisation_id"],
            unique=False,
        )

    op.create_table(
        "oauth_authorization_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=16), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_oauth_authorization_codes_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_oauth_authorization_codes_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_authorization_codes_code_hash")),
    )
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_oauth_refresh_tokens_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_oauth_refresh_tokens_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_oauth_refresh_tokens_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_refresh_tokens_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oauth_refresh_tokens_family_id"), ["family_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oauth_refresh_tokens_person_id"), ["person_id"], unique=False
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("org_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("disabled")
        batch_op.drop_column("org_admin")
        batch_op.drop_column("password_hash")

    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_refresh_tokens_person_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_refresh_tokens_family_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_refresh_tokens_client_id"))

    op.drop_table("oauth_refresh_tokens")
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_authorization_codes_person_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_authorization_codes_client_id"))

    op.drop_table("oauth_authorization_codes")
    with op.batch_alter_table("oauth_trusted_issuers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_trusted_issuers_organisation_id"))

    op.drop_table("oauth_trusted_issuers")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_clients_organisation_id"))

    op.drop_table("oauth_clients")
    with op.batch_alter_table("oauth_used_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_used_assertions_expires_at"))

    op.drop_table("oauth_used_assertions")
    with op.batch_alter_table("oauth_revoked_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_revoked_tokens_expires_at"))

    op.drop_table("oauth_revoked_tokens")
