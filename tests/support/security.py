"""Build the copilot app for security tests and give it users, API keys and a settable clock.

Usage::

    with secured_client(settings) as client:
        key = add_user(client, "biller", [Role.BILLER], ["prac-1"]).api_key
        client.get("/auth/me", headers=bearer(key))
        client.app.state.clock = FakeClock(...)  # the guards read the time from app.state.clock

The app runs its lifespan (migrations) with the placeholder event handlers, so the graph stack is not
imported, and no worker.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.security.api_keys import issue_api_key
from api.storage.users import create_user
from api.worker import default_registry
from billing.practice import Role
from billing.settings import Settings


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2025, 3, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class TestUser:
    __test__ = False
    id: str
    username: str
    api_key: str


def security_app(settings: Settings) -> FastAPI:
    return create_app(settings, start_worker=False, handlers=default_registry())


@contextmanager
def secured_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(security_app(settings)) as client:
        yield client


def add_user(
    client: TestClient,
    username: str,
    roles: list[Role],
    practice_ids: list[str],
    *,
    password_hash: str | None = None,
) -> TestUser:
    """A user stored directly, with one API key."""
    with client.app.state.sessions() as db:
        record = create_user(
            db, username=username, roles=roles, practice_ids=practice_ids, password_hash=password_hash
        )
        key, _ = issue_api_key(db, record.id, "test", datetime.now(UTC))
        return TestUser(id=record.id, username=record.username, api_key=key)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
