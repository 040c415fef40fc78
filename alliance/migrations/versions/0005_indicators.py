"""indicators: canonical values, assertions, reactions, proposals, allowlists, links, imports

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:51:29.111446
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alliance.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "seller_account",
                "storefront_url",
                "listing_url",
                "domain",
                "keyword",
                "brand_misspelling",
                "phone",
                "email",
                "payment_account",
                "address",
                "waybill",
                "image_phash",
                "image_pdq",
                "gtin",
                "serial_pattern",
                "ip",
                name="indicatortype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_digest", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("value_digest", name=op.f("uq_indicators_value_digest")),
    )
    op.create_table(
        "brand_allowlist_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "OFFICIAL_STORE",
                "AUTHORISED_DISTRIBUTOR",
                "OFFICIAL_IMAGE",
                name="allowlistkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum(
                "seller_account",
                "storefront_url",
                "listing_url",
                "domain",
                "keyword",
                "brand_misspelling",
                "phone",
                "email",
                "payment_account",
                "address",
                "waybill",
                "image_phash",
                "image_pdq",
                "gtin",
                "serial_pattern",
                "ip",
                name="indicatortype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_digest", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Uuid(), nullable=False),
        sa.Column("working_group_id", sa.Uuid(), nullable=True),
        sa.Column(
            "distribution",
            sa.Enum(
                "ORGANISATION",
                "WORKING_GROUP",
                "ALLIANCE",
                "FEDERATION",
                name="distribution",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "tlp",
            sa.Enum(
                "CLEAR",
                "GREEN",
                "AMBER",
                "AMBER_STRICT",
                "RED",
                name="tlp",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisations.id"],
            name=op.f("fk_brand_allowlist_entries_owner_org_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["working_group_id"],
            ["working_groups.id"],
            name=op.f("fk_brand_allowlist_entries_working_group_id_working_groups"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_allowlist_entries")),
        sa.UniqueConstraint(
            "owner_org_id",
            "value_digest",
            name=op.f("uq_brand_allowlist_entries_owner_org_id_value_digest"),
        ),
    )
    with op.batch_alter_table("brand_allowlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_brand_allowlist_entries_owner_org_id"), ["owner_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_brand_allowlist_entries_value_digest"), ["value_digest"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_brand_allowlist_entries_working_group_id"),
            ["working_group_id"],
            unique=False,
        )

    op.create_table(
        "indicator_assertions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "LOW",
                "MEDIUM",
                "HIGH",
                "CRITICAL",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("brands", sa.JSON(), nullable=False),
        sa.Column("product_category", sa.String(length=100), nullable=True),
        sa.Column("valid_from", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("evidence_links", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "EXPIRED",
                "REVOKED",
                "DISPUTED",
                name="assertionstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "revocation_reason",
            sa.Enum(
                "FALSE_POSITIVE",
                "TAKEN_DOWN",
                "AUTHORISED_RESELLER",
                "EXPIRED",
                "WITHDRAWN",
                name="revocationreason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("revocation_note", sa.Text(), nullable=True),
        sa.Column("revoked_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Uuid(), nullable=False),
        sa.Column("working_group_id", sa.Uuid(), nullable=True),
        sa.Column(
            "distribution",
            sa.Enum(
                "ORGANISATION",
                "WORKING_GROUP",
                "ALLIANCE",
                "FEDERATION",
                name="distribution",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "tlp",
            sa.Enum(
                "CLEAR",
                "GREEN",
                "AMBER",
                "AMBER_STRICT",
                "RED",
                name="tlp",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_assertions_indicator_id_indicators"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisations.id"],
            name=op.f("fk_indicator_assertions_owner_org_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["working_group_id"],
            ["working_groups.id"],
            name=op.f("fk_indicator_assertions_working_group_id_working_groups"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_assertions")),
    )
    with op.batch_alter_table("indicator_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_assertions_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index(
            "ix_indicator_assertions_indicator_owner",
            ["indicator_id", "owner_org_id", "working_group_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_assertions_owner_org_id"), ["owner_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_indicator_assertions_score"), ["score"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_indicator_assertions_status"), ["status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_assertions_valid_until"), ["valid_until"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_assertions_working_group_id"),
            ["working_group_id"],
            unique=False,
        )

    op.create_table(
        "indicator_import_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("working_group_id", sa.Uuid(), nullable=True),
        sa.Column("file_digest", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "DONE",
                "FAILED",
                name="importstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_indicator_import_jobs_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["working_group_id"],
            ["working_groups.id"],
            name=op.f("fk_indicator_import_jobs_working_group_id_working_groups"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_import_jobs")),
        sa.UniqueConstraint(
            "organisation_id",
            "file_digest",
            name=op.f("uq_indicator_import_jobs_organisation_id_file_digest"),
        ),
    )
    op.create_table(
        "indicator_match_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_match_keys_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_match_keys")),
    )
    with op.batch_alter_table("indicator_match_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_match_keys_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index("ix_indicator_match_keys_name_value", ["name", "value"], unique=False)

    op.create_table(
        "indicator_submission_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_indicator_submission_batches_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_submission_batches")),
        sa.UniqueConstraint(
            "organisation_id",
            "idempotency_key",
            name=op.f("uq_indicator_submission_batches_organisation_id_idempotency_key"),
        ),
    )
    op.create_table(
        "indicator_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("source_indicator_id", sa.Uuid(), nullable=False),
        sa.Column("target_indicator_id", sa.Uuid(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "SUBMITTED_TOGETHER",
                name="linkreason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("group_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["indicator_assertions.id"],
            name=op.f("fk_indicator_links_source_id_indicator_assertions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_links_source_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["indicator_assertions.id"],
            name=op.f("fk_indicator_links_target_id_indicator_assertions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_links_target_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_links")),
        sa.UniqueConstraint(
            "source_id", "target_id", name=op.f("uq_indicator_links_source_id_target_id")
        ),
    )
    with op.batch_alter_table("indicator_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_links_source_id"), ["source_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_links_source_indicator_id"),
            ["source_indicator_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_links_target_id"), ["target_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_links_target_indicator_id"),
            ["target_indicator_id"],
            unique=False,
        )

    op.create_table(
        "indicator_proposals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assertion_id", sa.Uuid(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "ACCEPTED",
                "REJECTED",
                name="proposalstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Uuid(), nullable=False),
        sa.Column("working_group_id", sa.Uuid(), nullable=True),
        sa.Column(
            "distribution",
            sa.Enum(
                "ORGANISATION",
                "WORKING_GROUP",
                "ALLIANCE",
                "FEDERATION",
                name="distribution",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "tlp",
            sa.Enum(
                "CLEAR",
                "GREEN",
                "AMBER",
                "AMBER_STRICT",
                "RED",
                name="tlp",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assertion_id"],
            ["indicator_assertions.id"],
            name=op.f("fk_indicator_proposals_assertion_id_indicator_assertions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisations.id"],
            name=op.f("fk_indicator_proposals_owner_org_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["working_group_id"],
            ["working_groups.id"],
            name=op.f("fk_indicator_proposals_working_group_id_working_groups"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_proposals")),
    )
    with op.batch_alter_table("indicator_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_proposals_assertion_id"), ["assertion_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_proposals_owner_org_id"), ["owner_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_proposals_working_group_id"),
            ["working_group_id"],
            unique=False,
        )

    op.create_table(
        "indicator_reactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assertion_id", sa.Uuid(), nullable=False),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SEEN_TOO",
                "CONFIRMED_BY_TEST_BUY",
                "FALSE_POSITIVE",
                "DISPUTED",
                "OUTDATED",
                "TAKEN_DOWN",
                name="reactionkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", alliance.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=200), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum(
                "COUNTERFEIT",
                "GENUINE",
                "INCONCLUSIVE",
                name="testbuyverdict",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("evidence_url", sa.String(length=2048), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("platform_action", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Uuid(), nullable=False),
        sa.Column("working_group_id", sa.Uuid(), nullable=True),
        sa.Column(
            "distribution",
            sa.Enum(
                "ORGANISATION",
                "WORKING_GROUP",
                "ALLIANCE",
                "FEDERATION",
                name="distribution",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "tlp",
            sa.Enum(
                "CLEAR",
                "GREEN",
                "AMBER",
                "AMBER_STRICT",
                "RED",
                name="tlp",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alliance.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assertion_id"],
            ["indicator_assertions.id"],
            name=op.f("fk_indicator_reactions_assertion_id_indicator_assertions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_reactions_indicator_id_indicators"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisations.id"],
            name=op.f("fk_indicator_reactions_owner_org_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["working_group_id"],
            ["working_groups.id"],
            name=op.f("fk_indicator_reactions_working_group_id_working_groups"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_reactions")),
    )
    with op.batch_alter_table("indicator_reactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_reactions_assertion_id"), ["assertion_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_reactions_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_reactions_owner_org_id"), ["owner_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_reactions_working_group_id"),
            ["working_group_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("indicator_reactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_reactions_working_group_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_reactions_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_reactions_indicator_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_reactions_assertion_id"))

    op.drop_table("indicator_reactions")
    with op.batch_alter_table("indicator_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_proposals_working_group_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_proposals_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_proposals_assertion_id"))

    op.drop_table("indicator_proposals")
    with op.batch_alter_table("indicator_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_links_target_indicator_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_links_target_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_links_source_indicator_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_links_source_id"))

    op.drop_table("indicator_links")
    op.drop_table("indicator_submission_batches")
    with op.batch_alter_table("indicator_match_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_match_keys_name_value")
        batch_op.drop_index(batch_op.f("ix_indicator_match_keys_indicator_id"))

    op.drop_table("indicator_match_keys")
    op.drop_table("indicator_import_jobs")
    with op.batch_alter_table("indicator_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_assertions_working_group_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_assertions_valid_until"))
        batch_op.drop_index(batch_op.f("ix_indicator_assertions_status"))
        batch_op.drop_index(batch_op.f("ix_indicator_assertions_score"))
        batch_op.drop_index(batch_op.f("ix_indicator_assertions_owner_org_id"))
        batch_op.drop_index("ix_indicator_assertions_indicator_owner")
        batch_op.drop_index(batch_op.f("ix_indicator_assertions_indicator_id"))

    op.drop_table("indicator_assertions")
    with op.batch_alter_table("brand_allowlist_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_brand_allowlist_entries_working_group_id"))
        batch_op.drop_index(batch_op.f("ix_brand_allowlist_entries_value_digest"))
        batch_op.drop_index(batch_op.f("ix_brand_allowlist_entries_owner_org_id"))

    op.drop_table("brand_allowlist_entries")
    op.drop_table("indicators")
