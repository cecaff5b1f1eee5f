"""The events table on SQLite and PostgreSQL: migrations, store-once, claim-once, retries."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from api.storage.db import create_db_engine, create_session_factory
from api.storage.events import (
    claim_next_event,
    finish_event,
    get_event,
    record_event,
    requeue_stale_events,
    retry_event_later,
)
from api.storage.migrate import current_revisions, head_revisions, is_at_head, migrate, migrate_engine
from api.storage.models import Base, Event, EventStatus, utc_now
from billing.events import WebhookEvent
from billing.settings import Settings


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    migrate_engine(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return create_session_factory(engine)


def webhook_event(index: int, event_type: str = "note.finalized") -> WebhookEvent:
    return WebhookEvent.model_validate(
        {
            "id": f"evt_{index:04d}",
            "type": event_type,
            "practice_id": "prac_1",
            "occurred_at": "2025-03-04T15:00:00Z",
            "data": {"encounter_id": f"enc_{index}"},
        }
    )


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Event))


def test_migrations_reach_head_and_are_idempotent(database_url: str, settings: Settings) -> None:
    settings = settings.model_copy(update={"database_url": database_url})
    migrate(settings)
    migrate(settings)
    engine = create_db_engine(database_url)
    try:
        assert is_at_head(engine)
        # one linear history: a single head, and the database is at it
        assert len(head_revisions()) == 1
        assert current_revisions(engine) == head_revisions()
        columns = {column["name"] for column in inspect(engine).get_columns("events")}
        assert {"id", "type", "practice_id", "received_at", "payload", "status", "attempts"} <= columns
        assert {"last_error", "updated_at", "available_at"} <= columns
    finally:
        engine.dispose()


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'nested' / 'app.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_an_event_id_is_stored_once(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert record_event(session, webhook_event(1)) is True
        assert record_event(session, webhook_event(1)) is False
        stored = get_event(session, "evt_0001")
    assert count(sessions) == 1
    assert stored.status == EventStatus.RECEIVED and stored.attempts == 0
    assert stored.received_at.tzinfo is not None
    assert stored.payload["data"] == {"encounter_id": "enc_1"}


def test_concurrent_duplicate_deliveries_store_one_row(sessions: sessionmaker[Session]) -> None:
    racers = 6
    barrier = Barrier(racers)

    def deliver(_: int) -> bool:
        barrier.wait()
        with sessions() as session:
            return record_event(session, webhook_event(7))

    with ThreadPoolExecutor(racers) as pool:
        outcomes = list(pool.map(deliver, range(racers)))
    assert outcomes.count(True) == 1
    assert count(sessions) == 1


def test_parallel_claimers_never_take_the_same_event(sessions: sessionmaker[Session]) -> None:
    total, claimers = 40, 4
    with sessions() as session:
        for index in range(total):
            record_event(session, webhook_event(index))
    barrier = Barrier(claimers)

    def drain(_: int) -> list[str]:
        barrier.wait()
        taken = []
        with sessions() as session:
            while (claimed := claim_next_event(session)) is not None:
                taken.append(claimed.id)
        return taken

    with ThreadPoolExecutor(claimers) as pool:
        per_claimer = list(pool.map(drain, range(claimers)))
    taken = [event_id for batch in per_claimer for event_id in batch]
    assert len(taken) == total
    assert len(set(taken)) == total
    with sessions() as session:
        statuses = set(session.scalars(select(Event.status)))
        attempts = set(session.scalars(select(Event.attempts)))
    assert statuses == {EventStatus.PROCESSING}
    assert attempts == {1}


def test_claim_takes_the_oldest_and_counts_the_attempt(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        record_event(session, webhook_event(1))
        record_event(session, webhook_event(2))
        first = claim_next_event(session)
        second = claim_next_event(session)
        assert claim_next_event(session) is None
    assert (first.id, second.id) == ("evt_0001", "evt_0002")
    assert first.attempts == 1
    assert first.payload["type"] == "note.finalized"


def test_a_retried_event_waits_for_its_backoff(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        record_event(session, webhook_event(1))
        claimed = claim_next_event(session)
        retry_event_later(session, claimed.id, timedelta(seconds=60), "Timeout: Crystal PM did not answer")
        assert claim_next_event(session) is None
        again = claim_next_event(session, now=utc_now() + timedelta(seconds=61))
        assert again.id == claimed.id and again.attempts == 2
        finish_event(session, again.id, EventStatus.DONE)
        stored = get_event(session, again.id)
        session.refresh(stored)
    assert stored.status == EventStatus.DONE
    assert stored.last_error is None


def test_stale_processing_events_are_requeued(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        record_event(session, webhook_event(1))
        record_event(session, webhook_event(2))
        claim_next_event(session)
        assert requeue_stale_events(session, timedelta(minutes=5)) == 0
        assert requeue_stale_events(session, timedelta(seconds=-1)) == 1
        assert claim_next_event(session).id == "evt_0001"
