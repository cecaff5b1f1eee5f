"""Create the review_items (the queue), feature_flags (kill switches, autopilot) and shadow_results tables.

Revision ID: 0004_reviews_features_shadow
Revises: 0003_users
Create Date: 2025-01-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from api.storage.models import UTCDateTime

revision: str = "0004_reviews_features_shadow"
down_revision: str | None = "0003_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("workflow", sa.String(32), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=True),
        sa.Column("encounter_id", sa.String(64), nullable=True),
        sa.Column("claim_id", sa.String(64), nullable=True),
        sa.Column("payer", sa.String(128), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("has_errors", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("edited", JSON_DOCUMENT, nullable=True),
        sa.Column("diff", JSON_DOCUMENT, nullable=True),
        sa.Column("time_to_decision_seconds", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=True),
        sa.Column("result", JSON_DOCUMENT, nullable=True),
        sa.Column("apply_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
    )
    op.create_index("ix_review_items_status_created_at", "review_items", ["status", "created_at"])
    op.create_index("ix_review_items_thread_id", "review_items", ["thread_id"])
    op.create_index(
        "uq_review_items_pending_thread",
        "review_items",
        ["workflow", "thread_id"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_table(
        "feature_flags",
        sa.Column("feature", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("autopilot_enabled", sa.Boolean(), nullable=False),
        sa.Column("autopilot_threshold", sa.Float(), nullable=False),
        sa.Column("shadow_share", sa.Float(), nullable=False),
        sa.Column("manual_baseline_minutes", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("feature", name=op.f("pk_feature_flags")),
    )
    op.create_table(
        "shadow_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feature", sa.String(32), nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("encounter_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=False),
        sa.Column("suggestion", JSON_DOCUMENT, nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("manual", JSON_DOCUMENT, nullable=True),
        sa.Column("comparison", JSON_DOCUMENT, nullable=True),
        sa.Column("compared_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_results")),
        sa.UniqueConstraint("feature", "encounter_id", name="uq_shadow_results_feature_encounter"),
    )
    op.create_index("ix_shadow_results_compared_at", "shadow_results", ["compared_at"])


def downgrade() -> None:
    op.drop_index("ix_shadow_results_compared_at", table_name="shadow_results")
    op.drop_table("shadow_results")
    op.drop_table("feature_flags")
    op.drop_index("uq_review_items_pending_thread", table_name="review_items")
    op.drop_index("ix_review_items_thread_id", table_name="review_items")
    op.drop_index("ix_review_items_status_created_at", table_name="review_items")
    op.drop_table("review_items")
