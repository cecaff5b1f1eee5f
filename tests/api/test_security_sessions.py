"""Server-side sessions: signed cookie, idle and absolute timeouts (injectable clock), cookie flags."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from api.security.passwords import hash_password
from api.security.sessions import (
    SESSION_COOKIE,
    SessionPolicy,
    end_session,
    hash_session_id,
    load_session,
    session_id_from_cookie,
    sign_value,
    start_session,
)
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.storage.models import SessionRecord
from api.storage.users import create_user
from billing.practice import Role
from billing.settings import Settings
from tests.support.security import FakeClock, add_user, secured_client

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy.from_settings(settings)


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    engine = create_db_engine(settings.resolved_database_url)
    migrate_engine(engine)
    with create_session_factory(engine)() as session:
        create_user(
            session,
            user_id="usr-1",
            username="ccoder",
            roles=[Role.CODER],
            practice_ids=[],
            password_hash=None,
        )
        yield session
    engine.dispose()


def test_idle_timeout_resets_on_use_and_ends_the_session(db: Session, policy: SessionPolicy) -> None:
    clock = FakeClock()
    session_id, _ = start_session(db, "usr-1", clock())
    clock.advance(minutes=29)
    assert load_session(db, session_id, policy, clock()) is not None
    clock.advance(minutes=29)  # 58 minutes after sign-in, 29 after the last use
    assert load_session(db, session_id, policy, clock()) is not None
    clock.advance(minutes=31)
    assert load_session(db, session_id, policy, clock()) is None
    assert db.get(SessionRecord, hash_session_id(session_id)) is None


def test_absolute_timeout_ends_even_a_busy_session(db: Session, policy: SessionPolicy) -> None:
    clock = FakeClock()
    session_id, _ = start_session(db, "usr-1", clock())
    for _ in range(int(policy.absolute / timedelta(minutes=20))):
        clock.advance(minutes=20)
        assert load_session(db, session_id, policy, clock()) is not None
    clock.advance(minutes=20)
    assert load_session(db, session_id, policy, clock()) is None


def test_ended_session_and_unknown_ids_do_not_load(db: Session, policy: SessionPolicy) -> None:
    clock = FakeClock()
    session_id, record = start_session(db, "usr-1", clock())
    assert record.id_hash != session_id and len(record.csrf_token) >= 32
    end_session(db, session_id, clock())
    assert load_session(db, session_id, policy, clock()) is None
    assert load_session(db, "made-up-session-id", policy, clock()) is None


def test_cookie_signature_rejects_tampering_and_other_secrets(
    policy: SessionPolicy, settings: Settings
) -> None:
    cookie = sign_value(policy.secret, SESSION_COOKIE, "abc123")
    assert session_id_from_cookie(policy, cookie) == "abc123"
    assert session_id_from_cookie(policy, "abc124" + cookie[6:]) is None
    other = SessionPolicy.from_settings(
        settings.model_copy(update={"session_secret": SecretStr("another-secret-0123456789")})
    )
    assert session_id_from_cookie(other, cookie) is None
    assert session_id_from_cookie(policy, "no-signature") is None


@pytest.fixture
def client(settings: Settings, password_hash: str) -> Iterator[TestClient]:
    with secured_client(settings) as test_client:
        test_client.app.state.clock = FakeClock()
        add_user(test_client, "ccoder", [Role.CODER], ["prac-1"], password_hash=password_hash)
        yield test_client


def sign_in(client: TestClient) -> None:
    response = client.post("/auth/login", json={"username": "ccoder", "password": PASSWORD})
    assert response.status_code == 200, response.text


def test_session_cookie_is_httponly_lax_and_signed(client: TestClient) -> None:
    response = client.post("/auth/login", json={"username": "ccoder", "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # public_url is http here; https turns it on


def test_idle_session_answers_401_over_http(client: TestClient) -> None:
    sign_in(client)
    client.app.state.clock.advance(minutes=25)
    assert client.get("/auth/me").status_code == 200
    client.app.state.clock.advance(minutes=25)
    assert client.get("/auth/me").status_code == 200
    client.app.state.clock.advance(minutes=31)
    expired = client.get("/auth/me")
    assert expired.status_code == 401
    assert "timed out" in expired.json()["detail"]


def test_absolute_timeout_answers_401_over_http(client: TestClient, settings: Settings) -> None:
    sign_in(client)
    for _ in range(settings.session_absolute_hours * 3):
        client.app.state.clock.advance(minutes=20)
        assert client.get("/auth/me").status_code == 200
    client.app.state.clock.advance(minutes=20)
    assert client.get("/auth/me").status_code == 401


def test_forged_cookie_is_401(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "forged.session")
    assert client.get("/auth/me").status_code == 401
