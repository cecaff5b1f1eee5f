"""Create the audit_log (append-only, hash-chained) and feedback (reviewer decisions on suggestions) tables.

Revision ID: 0002_audit_feedback
Revises: 0001_events
Create Date: 2025-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from api.storage.models import UTCDateTime

revision: str = "0002_audit_feedback"
down_revision: str | None = "0001_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("claim_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=False),
        sa.Column("inputs_hash", sa.String(64), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(128), nullable=False),
        sa.Column("detail", JSON_DOCUMENT, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_log_prev_hash")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index("ix_audit_log_thread_id", "audit_log", ["thread_id"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=False),
        sa.Column("encounter_id", sa.String(64), nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("suggestion", JSON_DOCUMENT, nullable=False),
        sa.Column("final", JSON_DOCUMENT, nullable=True),
        sa.Column("diff", JSON_DOCUMENT, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_thread_id", "feedback", ["thread_id"])
    op.create_index("ix_feedback_practice_id", "feedback", ["practice_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_practice_id", table_name="feedback")
    op.drop_index("ix_feedback_thread_id", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_audit_log_thread_id", table_name="audit_log")
    op.drop_table("audit_log")
