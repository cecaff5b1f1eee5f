"""Create the imported_files table: each file the inbox watcher read, keyed by its content's SHA-256.

Revision ID: 0005_imports
Revises: 0004_reviews_features_shadow
Create Date: 2025-01-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from api.storage.models import UTCDateTime

revision: str = "0005_imports"
down_revision: str | None = "0004_reviews_features_shadow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "imported_files",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("summary", JSON_DOCUMENT, nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_imported_files")),
    )
    op.create_index("ix_imported_files_imported_at", "imported_files", ["imported_at"])


def downgrade() -> None:
    op.drop_index("ix_imported_files_imported_at", table_name="imported_files")
    op.drop_table("imported_files")
