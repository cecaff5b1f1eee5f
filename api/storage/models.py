"""SQLAlchemy ORM models of the copilot's own tables: events, audit, feedback, users, reviews, flags, shadow runs."""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class Event(Base):
    """A webhook delivery from Crystal PM, stored once by its event id, and its processing state."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    practice_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[EventStatus] = mapped_column(
        Enum(
            EventStatus,
            native_enum=False,
            create_constraint=True,
            length=16,
            name="status",
            values_callable=lambda statuses: [s.value for s in statuses],
        ),
        default=EventStatus.RECEIVED,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # When a worker may next take the event: now for new events, later after a failed attempt.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    __table_args__ = (Index("ix_events_status_available_at", "status", "available_at"),)


class AuditRecord(Base):
    """One audited step, append-only: `hash` chains it to the record before (see api.storage.audit)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128))
    practice_id: Mapped[str] = mapped_column(String(64), default="")
    patient_id: Mapped[str] = mapped_column(String(64), default="")
    claim_id: Mapped[str] = mapped_column(String(64), default="")
    thread_id: Mapped[str] = mapped_column(String(128), default="")
    inputs_hash: Mapped[str] = mapped_column(String(64), default="")
    prompt_hash: Mapped[str] = mapped_column(String(64), default="")
    engine: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Unique: two writers that read the same chain head cannot both append after it.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_log_thread_id", "thread_id"),)


class CodingFeedbackRecord(Base):
    """A reviewer's decision on a charge suggestion: what was suggested, what was written, and the diff."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(128))
    encounter_id: Mapped[str] = mapped_column(String(64))
    practice_id: Mapped[str] = mapped_column(String(64))
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    final: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    decision: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_feedback_thread_id", "thread_id"),
        Index("ix_feedback_practice_id", "practice_id"),
    )


class UserRecord(Base):
    """A staff member or service account; roles and practices are rows of their own (api.storage.users)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Stored lower-case: sign-in names are case-insensitive.
    username: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    # None for service accounts, which never sign in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    roles: Mapped[list["UserRoleRecord"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRoleRecord.role"
    )
    practices: Mapped[list["UserPracticeRecord"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserPracticeRecord.practice_id"
    )


class UserRoleRecord(Base):
    """One role a user holds (billing.practice.Role value)."""

    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class UserPracticeRecord(Base):
    """One practice whose items, metrics and audit records a user may see."""

    __tablename__ = "user_practices"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    practice_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ApiKeyRecord(Base):
    """A user's API key: only its public prefix and a SHA-256 of the whole key are kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128), default="")
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_api_keys_user_id", "user_id"),)


class SessionRecord(Base):
    """A signed-in web session, kept server-side and found by the SHA-256 of the id its cookie carries."""

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)


class LoginAttemptRecord(Base):
    """One sign-in attempt by username, known or not, so lockout works without revealing who exists."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    outcome: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)


class ReviewStatus(StrEnum):
    PENDING = "pending"
    DECIDED = "decided"
    EXPIRED = "expired"


class ReviewItemRecord(Base):
    """A workflow thread waiting at interrupt() for a person (or an autopilot policy) to decide.

    `version` is the optimistic lock: a decision claims the item with UPDATE ... WHERE status='pending'
    AND version=v, so of two reviewers deciding at once exactly one wins. `applied_at` is set once the
    workflow has finished resuming with the decision; decided items without it are resumed on restart.
    """

    __tablename__ = "review_items"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(32))
    thread_id: Mapped[str] = mapped_column(String(128))
    practice_id: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(64), default=None)
    encounter_id: Mapped[str | None] = mapped_column(String(64), default=None)
    claim_id: Mapped[str | None] = mapped_column(String(64), default=None)
    payer: Mapped[str] = mapped_column(String(128), default="")
    title: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # SHA-256 of the payload: a re-delivered interrupt is recognised, not queued twice.
    payload_hash: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    has_errors: Mapped[bool] = mapped_column(Boolean, default=False)
    amount: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(128), default=None)
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    edited: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    time_to_decision_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    apply_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        Index("ix_review_items_status_created_at", "status", "created_at"),
        Index("ix_review_items_thread_id", "thread_id"),
        # One pending item per workflow thread, however often its interrupt is reported.
        Index(
            "uq_review_items_pending_thread",
            "workflow",
            "thread_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class FeatureFlagRecord(Base):
    """A feature's kill switch, autopilot policy, shadow share and manual baseline; absent row = defaults."""

    __tablename__ = "feature_flags"

    feature: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    autopilot_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    autopilot_threshold: Mapped[float] = mapped_column(Float, default=0.95)
    shadow_share: Mapped[float] = mapped_column(Float, default=0.0)
    manual_baseline_minutes: Mapped[float] = mapped_column(Float, default=4.0)
    updated_by: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ShadowResultRecord(Base):
    """A shadow run's suggestion, compared with what staff coded by hand once that charge exists."""

    __tablename__ = "shadow_results"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    feature: Mapped[str] = mapped_column(String(32))
    practice_id: Mapped[str] = mapped_column(String(64))
    encounter_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    thread_id: Mapped[str] = mapped_column(String(128))
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    manual: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    comparison: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    compared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("feature", "encounter_id", name="uq_shadow_results_feature_encounter"),
        Index("ix_shadow_results_compared_at", "compared_at"),
    )


class ImportedFileRecord(Base):
    """A file the inbox watcher read (835 or CSV export), keyed by its content: the same bytes import once."""

    __tablename__ = "imported_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    practice_id: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (Index("ix_imported_files_imported_at", "imported_at"),)


class ContractTermsRecord(Base):
    """A contract's approved terms (the Contract as JSON), where they were read from, and who approved them."""

    __tablename__ = "contract_terms"

    contract_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    practice_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(64))
    contract: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    sources: Mapped[list[Any]] = mapped_column(JSONDocument)
    approved_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    run_id: Mapped[str] = mapped_column(String(255))

    __table_args__ = (Index("ix_contract_terms_practice_id", "practice_id"),)


class VarianceLineRecord(Base):
    """One remitted line priced under its contract and classified (agents.variance.schemas.LineVariance)."""

    __tablename__ = "variance_lines"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    practice_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(64))
    remittance_id: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    service_month: Mapped[str] = mapped_column(String(7))
    amount: Mapped[str] = mapped_column(String(32))
    line: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (Index("ix_variance_lines_practice_id_service_month", "practice_id", "service_month"),)


class ContractDisputeRecord(Base):
    """A dispute drafted for underpaid lines: draft, created (a Crystal PM task) or rejected."""

    __tablename__ = "contract_disputes"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    practice_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[str] = mapped_column(String(64))
    remittance_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[str | None] = mapped_column(String(64), default=None)
    draft: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (Index("ix_contract_disputes_practice_id_status", "practice_id", "status"),)


class ContractRefundRecord(Base):
    """A refund work item for an overpayment, with its deadline: draft, created or rejected."""

    __tablename__ = "contract_refunds"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    practice_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[str] = mapped_column(String(64))
    remittance_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[str | None] = mapped_column(String(64), default=None)
    draft: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (Index("ix_contract_refunds_practice_id_status", "practice_id", "status"),)
