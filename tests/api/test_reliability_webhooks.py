"""Webhook replays: inside the window a replay is a harmless duplicate; outside it, refused and not stored."""

import json
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.storage.models import Event
from billing.settings import Settings
from tests.api.conftest import EventFactory, Signer


def stored_events(client: TestClient) -> int:
    with client.app.state.sessions() as db:
        return db.scalar(select(func.count()).select_from(Event)) or 0


def test_a_replayed_delivery_outside_the_timestamp_window_is_rejected(
    client: TestClient, settings: Settings, make_event: EventFactory, signed: Signer
) -> None:
    body = json.dumps(make_event("evt_replayed")).encode()
    headers = signed(body)
    first = client.post("/webhooks/crystalpm", content=body, headers=headers)
    assert first.status_code == 202 and first.json()["duplicate"] is False
    # The same signed bytes again, within the window: stored once, answered as a duplicate.
    again = client.post("/webhooks/crystalpm", content=body, headers=headers)
    assert again.status_code == 202 and again.json()["duplicate"] is True
    # A genuine delivery captured earlier than the tolerance and sent now: its signature is valid, its age not.
    old_body = json.dumps(make_event("evt_captured_earlier")).encode()
    captured = signed(old_body, timestamp=int(time.time()) - settings.webhook_tolerance_seconds - 5)
    replay = client.post("/webhooks/crystalpm", content=old_body, headers=captured)
    assert replay.status_code == 401 and replay.json()["type"] == "/problems/webhook-signature"
    assert stored_events(client) == 1
