"""Fixtures for the copilot service tests: a database per backend, signed webhook deliveries."""

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.webhooks import sign
from api.storage.checkpoints import libpq_url
from billing.settings import Settings

EventFactory = Callable[..., dict[str, Any]]
Signer = Callable[..., dict[str, str]]


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema for this test, dropped afterwards; yields a URL whose search_path is pinned to it."""
    schema = f"fovea_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLAlchemy URL on each backend: a temporary SQLite file, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    return request.getfixturevalue("postgres_schema")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app with its lifespan run (migrations) but no worker, so stored events stay 'received'."""
    with TestClient(create_app(settings, start_worker=False)) as test_client:
        yield test_client


@pytest.fixture
def make_event() -> EventFactory:
    """A WebhookEvent as JSON-ready dict; keyword arguments become its `data`."""

    def build(event_id: str | None = None, event_type: str = "note.finalized", **data: Any) -> dict[str, Any]:
        return {
            "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
            "type": event_type,
            "practice_id": "prac_1",
            "occurred_at": "2025-03-04T15:00:00Z",
            "data": data or {"encounter_id": "enc_1", "note_id": "note_1"},
        }

    return build


@pytest.fixture
def signed(settings: Settings) -> Signer:
    """Headers Crystal PM would send for a body: timestamp now (or given) and its HMAC signature."""

    def headers(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        key = secret or settings.webhook_secret.get_secret_value()
        return {
            "content-type": "application/json",
            "X-CrystalPM-Timestamp": stamp,
            "X-CrystalPM-Signature": sign(key, stamp, body),
        }

    return headers
