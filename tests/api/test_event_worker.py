"""The worker pool: each event handled exactly once by 2 workers; failures retried, then parked."""

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.storage.db import create_db_engine, create_session_factory
from api.storage.events import record_event
from api.storage.migrate import migrate_engine
from api.storage.models import Event, EventStatus
from api.worker import HandlerRegistry, WorkerPool
from billing.events import EventType, WebhookEvent


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(database_url)
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def store(sessions: sessionmaker[Session], count: int, event_type: str = "note.finalized") -> list[str]:
    ids = [f"evt_{event_type}_{index:03d}" for index in range(count)]
    with sessions() as session:
        for event_id in ids:
            record_event(
                session,
                WebhookEvent.model_validate(
                    {
                        "id": event_id,
                        "type": event_type,
                        "practice_id": "prac_1",
                        "occurred_at": "2025-03-04T15:00:00Z",
                        "data": {"encounter_id": event_id},
                    }
                ),
            )
    return ids


def statuses(sessions: sessionmaker[Session]) -> dict[str, tuple[EventStatus, int, str | None]]:
    with sessions() as session:
        return {e.id: (e.status, e.attempts, e.last_error) for e in session.scalars(select(Event))}


async def run_until(pool: WorkerPool, sessions: sessionmaker[Session], settled: set[EventStatus]) -> None:
    """Run the pool until every event has a status in `settled` (or fail after 20 s)."""
    await pool.start()
    try:
        async with asyncio.timeout(20):
            while not all(status in settled for status, _, _ in statuses(sessions).values()):
                await asyncio.sleep(0.05)
    finally:
        await pool.stop()


def test_two_workers_handle_each_event_exactly_once(sessions: sessionmaker[Session]) -> None:
    ids = store(sessions, 30)
    calls: Counter[str] = Counter()
    seen_threads: set[str] = set()
    lock = threading.Lock()

    def handle(event: WebhookEvent) -> None:
        with lock:
            calls[event.id] += 1
            seen_threads.add(threading.current_thread().name)

    registry = HandlerRegistry()
    registry.register(EventType.NOTE_FINALIZED, handle)
    pool = WorkerPool(sessions, registry, concurrency=2, poll_seconds=0.1)
    asyncio.run(run_until(pool, sessions, {EventStatus.DONE}))

    assert calls == Counter({event_id: 1 for event_id in ids})
    assert {status for status, _, _ in statuses(sessions).values()} == {EventStatus.DONE}
    assert not pool.running


def test_a_failing_handler_is_retried_then_parked_as_failed(sessions: sessionmaker[Session]) -> None:
    (event_id,) = store(sessions, 1)
    attempts: list[int] = []

    async def always_fails(event: WebhookEvent) -> None:
        attempts.append(1)
        raise ConnectionError("Crystal PM answered 503")

    registry = HandlerRegistry()
    registry.register(EventType.NOTE_FINALIZED, always_fails)
    pool = WorkerPool(sessions, registry, concurrency=2, max_attempts=3, backoff_seconds=0.05)
    asyncio.run(run_until(pool, sessions, {EventStatus.FAILED}))

    status, tries, last_error = statuses(sessions)[event_id]
    assert (status, tries, len(attempts)) == (EventStatus.FAILED, 3, 3)
    assert last_error == "ConnectionError: Crystal PM answered 503"


def test_a_handler_that_recovers_ends_done(sessions: sessionmaker[Session]) -> None:
    (event_id,) = store(sessions, 1)
    failures_left = [1]

    def flaky(event: WebhookEvent) -> None:
        if failures_left:
            failures_left.pop()
            raise TimeoutError("first try times out")

    registry = HandlerRegistry()
    registry.register(EventType.NOTE_FINALIZED, flaky)
    pool = WorkerPool(sessions, registry, concurrency=1, backoff_seconds=0.05, poll_seconds=5)
    asyncio.run(run_until(pool, sessions, {EventStatus.DONE}))
    assert statuses(sessions)[event_id][:2] == (EventStatus.DONE, 2)


def test_an_event_without_handler_is_skipped(sessions: sessionmaker[Session]) -> None:
    (event_id,) = store(sessions, 1, event_type="claim.ready")
    pool = WorkerPool(sessions, HandlerRegistry(), concurrency=1, poll_seconds=0.1)
    asyncio.run(run_until(pool, sessions, {EventStatus.SKIPPED}))
    assert statuses(sessions)[event_id][0] == EventStatus.SKIPPED


def test_notify_wakes_an_idle_worker_before_the_poll(sessions: sessionmaker[Session]) -> None:
    async def scenario() -> float:
        done = asyncio.Event()
        registry = HandlerRegistry()

        async def handle(event: WebhookEvent) -> None:
            done.set()

        registry.register(EventType.NOTE_FINALIZED, handle)
        pool = WorkerPool(sessions, registry, concurrency=1, poll_seconds=30)
        await pool.start()
        try:
            await asyncio.sleep(0.2)  # the worker found nothing and now waits for a wake-up
            loop = asyncio.get_running_loop()
            started = loop.time()

            def deliver() -> None:  # as a sync endpoint would: store, then notify from its thread
                store(sessions, 1)
                pool.notify()

            await asyncio.to_thread(deliver)
            await asyncio.wait_for(done.wait(), timeout=10)
            return loop.time() - started
        finally:
            await pool.stop()

    assert asyncio.run(scenario()) < 5


def test_stop_lets_a_busy_worker_finish_its_event(sessions: sessionmaker[Session]) -> None:
    (event_id,) = store(sessions, 1)

    async def scenario() -> None:
        started = asyncio.Event()

        async def slow(event: WebhookEvent) -> None:
            started.set()
            await asyncio.sleep(0.3)

        registry = HandlerRegistry()
        registry.register(EventType.NOTE_FINALIZED, slow)
        pool = WorkerPool(sessions, registry, concurrency=2, poll_seconds=0.1)
        await pool.start()
        await asyncio.wait_for(started.wait(), timeout=10)
        await pool.stop()

    asyncio.run(scenario())
    assert statuses(sessions)[event_id][0] == EventStatus.DONE


def test_a_busy_database_is_retried_not_parked(sessions: sessionmaker[Session]) -> None:
    (event_id,) = store(sessions, 1)
    failures_left = [1]

    def locked_once(event: WebhookEvent) -> None:
        if failures_left:
            failures_left.pop()
            raise OperationalError("INSERT INTO review_items ...", {}, Exception("database is locked"))

    registry = HandlerRegistry()
    registry.register(EventType.NOTE_FINALIZED, locked_once)
    pool = WorkerPool(sessions, registry, concurrency=1, backoff_seconds=0.05, poll_seconds=5)
    asyncio.run(run_until(pool, sessions, {EventStatus.DONE}))
    assert statuses(sessions)[event_id][:2] == (EventStatus.DONE, 2)
