"""Create contract_terms (approved terms), variance_lines, contract_disputes and contract_refunds.

Revision ID: 0006_contracts
Revises: 0005_imports
Create Date: 2025-01-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from api.storage.models import UTCDateTime

revision: str = "0006_contracts"
down_revision: str | None = "0005_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _work_item_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("payer_id", sa.String(64), nullable=False),
        sa.Column("claim_id", sa.String(64), nullable=False),
        sa.Column("remittance_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.String(32), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=True),
        sa.Column("draft", JSON_DOCUMENT, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(f"ix_{name}_practice_id_status", name, ["practice_id", "status"])


def upgrade() -> None:
    op.create_table(
        "contract_terms",
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("payer_id", sa.String(64), nullable=False),
        sa.Column("contract", JSON_DOCUMENT, nullable=False),
        sa.Column("sources", JSON_DOCUMENT, nullable=False),
        sa.Column("approved_by", sa.String(128), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_contract_terms")),
    )
    op.create_index("ix_contract_terms_practice_id", "contract_terms", ["practice_id"])
    op.create_table(
        "variance_lines",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("payer_id", sa.String(64), nullable=False),
        sa.Column("remittance_id", sa.String(64), nullable=False),
        sa.Column("claim_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("service_month", sa.String(7), nullable=False),
        sa.Column("amount", sa.String(32), nullable=False),
        sa.Column("line", JSON_DOCUMENT, nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variance_lines")),
    )
    op.create_index(
        "ix_variance_lines_practice_id_service_month", "variance_lines", ["practice_id", "service_month"]
    )
    _work_item_table("contract_disputes")
    _work_item_table("contract_refunds")


def downgrade() -> None:
    for name in ("contract_refunds", "contract_disputes"):
        op.drop_index(f"ix_{name}_practice_id_status", table_name=name)
        op.drop_table(name)
    op.drop_index("ix_variance_lines_practice_id_service_month", table_name="variance_lines")
    op.drop_table("variance_lines")
    op.drop_index("ix_contract_terms_practice_id", table_name="contract_terms")
    op.drop_table("contract_terms")
