"""Lockout: N failed sign-ins within the window lock the username for M minutes, for known and unknown names."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.security.lockout import LockoutPolicy, Outcome, locked_until, record_attempt
from api.security.passwords import hash_password
from api.storage.audit import verify_chain
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.storage.models import AuditRecord
from billing.practice import Role
from billing.settings import Settings
from tests.support.security import FakeClock, add_user, secured_client

POLICY = LockoutPolicy(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
PASSWORD = "correct horse battery"


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    engine = create_db_engine(settings.resolved_database_url)
    migrate_engine(engine)
    with create_session_factory(engine)() as session:
        yield session
    engine.dispose()


def fail(db: Session, clock: FakeClock, times: int, *, every_minutes: float = 1) -> None:
    for _ in range(times):
        record_attempt(db, "jbiller", Outcome.FAILURE, clock())
        clock.advance(minutes=every_minutes)


def test_locked_after_n_failures_then_unlocked_after_the_lockout(db: Session) -> None:
    clock = FakeClock()
    fail(db, clock, 2)
    assert locked_until(db, "jbiller", POLICY, clock()) is None
    record_attempt(db, "jbiller", Outcome.FAILURE, clock())
    until = locked_until(db, "jbiller", POLICY, clock())
    assert until == clock() + POLICY.lockout
    assert locked_until(db, "someone-else", POLICY, clock()) is None
    clock.now = until - timedelta(seconds=1)
    assert locked_until(db, "jbiller", POLICY, clock()) == until
    clock.now = until
    assert locked_until(db, "jbiller", POLICY, clock()) is None


def test_attempts_refused_while_locked_do_not_extend_the_lock(db: Session) -> None:
    clock = FakeClock()
    fail(db, clock, 3, every_minutes=0)
    until = locked_until(db, "jbiller", POLICY, clock())
    clock.advance(minutes=10)
    record_attempt(db, "jbiller", Outcome.LOCKED, clock())
    assert locked_until(db, "jbiller", POLICY, clock()) == until


def test_a_success_or_a_slow_pace_does_not_lock(db: Session) -> None:
    clock = FakeClock()
    fail(db, clock, 2)
    record_attempt(db, "jbiller", Outcome.SUCCESS, clock())
    fail(db, clock, 2)
    assert locked_until(db, "jbiller", POLICY, clock()) is None
    clock.advance(hours=1)
    fail(db, clock, 3, every_minutes=8)  # three failures over 16 minutes: wider than the window
    assert locked_until(db, "jbiller", POLICY, clock()) is None


@pytest.fixture
def locking_client(settings: Settings) -> Iterator[TestClient]:
    tight = settings.model_copy(update={"login_max_failures": 3})
    with secured_client(tight) as client:
        client.app.state.clock = FakeClock()
        add_user(client, "jbiller", [Role.BILLER], ["prac-1"], password_hash=hash_password(PASSWORD))
        yield client


def login(client: TestClient, username: str, password: str) -> int:
    return client.post("/auth/login", json={"username": username, "password": password}).status_code


def test_sign_in_locks_after_three_failures_and_reopens_after_the_lockout(locking_client: TestClient) -> None:
    client = locking_client
    assert [login(client, "jbiller", "wrong password") for _ in range(2)] == [401, 401]
    third = client.post("/auth/login", json={"username": "jbiller", "password": "wrong password"})
    assert third.status_code == 429
    assert 0 < int(third.headers["retry-after"]) <= 15 * 60
    assert third.json()["type"] == "/problems/sign-in-locked"
    assert login(client, "JBiller", PASSWORD) == 429  # the right password does not open a locked account
    client.app.state.clock.advance(minutes=16)
    assert login(client, "jbiller", PASSWORD) == 200

    with client.app.state.sessions() as db:
        actions = [r.action for r in db.scalars(select(AuditRecord).order_by(AuditRecord.id))]
        assert actions == [
            "auth.login_failed",
            "auth.login_failed",
            "auth.login_failed",
            "auth.lockout",
            "auth.login_locked",
            "auth.login",
        ]
        assert verify_chain(db).ok


def test_unknown_usernames_lock_the_same_way_and_are_not_audited_by_name(locking_client: TestClient) -> None:
    client = locking_client
    statuses = [login(client, "nosuchuser", "my real password maybe") for _ in range(3)]
    assert statuses == [401, 401, 429]
    with client.app.state.sessions() as db:
        records = list(db.scalars(select(AuditRecord)))
        assert {r.actor for r in records} == {"anonymous"}
        assert all("nosuchuser" not in str(r.detail) for r in records)
