"""The sandbox's SQLite schema: one resources table keyed by kind; idempotency, webhook and meta tables."""

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url

metadata = MetaData()

# Every Crystal PM resource is a row: the JSON payload as served, plus the few columns the list filters need.
resources = Table(
    "resources",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("id", String(96), primary_key=True),
    Column("practice_id", String(64)),
    Column("patient_id", String(64)),
    Column("encounter_id", String(64)),
    Column("claim_id", String(64)),
    Column("payer_id", String(64)),
    Column("status", String(32)),
    Column("on_date", String(10), doc="ISO date the since/until filters compare"),
    Column("payload", Text, nullable=False),
    Index("ix_resources_kind_practice", "kind", "practice_id", "id"),
    Index("ix_resources_kind_patient", "kind", "patient_id"),
    Index("ix_resources_kind_encounter", "kind", "encounter_id"),
    Index("ix_resources_kind_claim", "kind", "claim_id"),
)

# A user may work for several practices, so membership is a link table rather than a column.
user_practices = Table(
    "user_practices",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("practice_id", String(64), primary_key=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False, doc="sha256 of method, path and canonical body"),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False, doc="JSON list of event types"),
    Column("active", Integer, nullable=False, default=1),
    Column("created_at", Float, nullable=False),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("practice_id", String(64), nullable=False),
    Column("payload", Text, nullable=False, doc="The WebhookEvent JSON exactly as delivered"),
    Column("created_at", Float, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, index=True),
    Column("subscription_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False, default="pending", doc="pending | delivered | failed"),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("next_attempt_at", Float, nullable=False),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the webhook worker and request threads read while one of them writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_sandbox_engine(url: str) -> Engine:
    """An engine for the sandbox database; SQLite files get their folder created, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_schema(engine: Engine) -> None:
    metadata.create_all(engine)
