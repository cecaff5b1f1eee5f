"""Queries on the events table: store a delivery once, claim the next one, record the outcome."""

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from api.storage.models import Event, EventStatus, utc_now
from billing.events import WebhookEvent


class ClaimedEvent(BaseModel):
    """An event a worker has taken: what the handler needs, detached from the session."""

    id: str
    type: str
    practice_id: str
    payload: dict[str, Any]
    attempts: int


def _insert_ignoring_duplicates(session: Session, values: dict[str, Any]) -> ReturningInsert[str]:
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"events need SQLite or PostgreSQL, not {dialect}")
    statement = insert(Event).values(**values).on_conflict_do_nothing(index_elements=[Event.id])
    return statement.returning(Event.id)


def record_event(session: Session, event: WebhookEvent) -> bool:
    """Store a delivery unless its id is already stored; True when this call stored it.

    One INSERT ... ON CONFLICT DO NOTHING, so concurrent duplicate deliveries race safely.
    """
    now = utc_now()
    statement = _insert_ignoring_duplicates(
        session,
        {
            "id": event.id,
            "type": event.type.value,
            "practice_id": event.practice_id,
            "received_at": now,
            "payload": event.model_dump(mode="json"),
            "status": EventStatus.RECEIVED,
            "attempts": 0,
            "available_at": now,
            "updated_at": now,
        },
    )
    # RETURNING yields the id only when the row went in; a duplicate yields nothing.
    stored = session.execute(statement).first() is not None
    session.commit()
    return stored


def claim_next_event(session: Session, now: datetime | None = None) -> ClaimedEvent | None:
    """Move the oldest available 'received' event to 'processing' and return it; None when idle.

    One UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING: SQLite runs it under its single
    writer lock, and PostgreSQL's FOR UPDATE SKIP LOCKED lets parallel claimers pass each other,
    so no two workers ever take the same event.
    """
    now = now or utc_now()
    next_id = (
        select(Event.id)
        .where(Event.status == EventStatus.RECEIVED, Event.available_at <= now)
        .order_by(Event.available_at, Event.received_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Event)
        .where(Event.id == next_id, Event.status == EventStatus.RECEIVED)
        .values(status=EventStatus.PROCESSING, attempts=Event.attempts + 1, updated_at=now)
        .returning(Event.id, Event.type, Event.practice_id, Event.payload, Event.attempts)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(statement).one_or_none()
    session.commit()
    return None if row is None else ClaimedEvent.model_validate(row._asdict())


def finish_event(session: Session, event_id: str, status: EventStatus, last_error: str | None = None) -> None:
    """Record a final outcome: done, skipped (no handler) or failed (attempts exhausted)."""
    session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(status=status, last_error=last_error, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def retry_event_later(session: Session, event_id: str, delay: timedelta, last_error: str) -> None:
    """Put a failed attempt back in the queue, available again after `delay`."""
    now = utc_now()
    session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(status=EventStatus.RECEIVED, last_error=last_error, available_at=now + delay, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def requeue_stale_events(session: Session, older_than: timedelta) -> int:
    """Return events stuck in 'processing' (their worker died) to the queue; the count requeued."""
    now = utc_now()
    result = session.execute(
        update(Event)
        .where(Event.status == EventStatus.PROCESSING, Event.updated_at < now - older_than)
        .values(status=EventStatus.RECEIVED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount


def get_event(session: Session, event_id: str) -> Event | None:
    return session.get(Event, event_id)


def list_events(
    session: Session, practice_ids: list[str], status: EventStatus | None = None, limit: int = 100
) -> list[Event]:
    """Events of the practices, newest first, optionally of one status."""
    query = select(Event).where(Event.practice_id.in_(practice_ids))
    if status is not None:
        query = query.where(Event.status == status)
    return list(session.scalars(query.order_by(Event.received_at.desc()).limit(limit)))


def retrigger_event(session: Session, event_id: str) -> bool:
    """Queue a failed or skipped event again with fresh attempts; False when it is not in such a state."""
    now = utc_now()
    result = session.execute(
        update(Event)
        .where(Event.id == event_id, Event.status.in_([EventStatus.FAILED, EventStatus.SKIPPED]))
        .values(status=EventStatus.RECEIVED, attempts=0, available_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1
