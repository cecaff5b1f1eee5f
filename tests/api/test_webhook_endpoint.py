"""POST /webhooks/crystalpm: signature, replay window, body cap, bad JSON, store once."""

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.storage.models import Event, EventStatus
from billing.settings import Settings

URL = "/webhooks/crystalpm"


def count_events(client: TestClient, event_id: str | None = None) -> int:
    query = select(func.count()).select_from(Event)
    if event_id:
        query = query.where(Event.id == event_id)
    with client.app.state.sessions() as session:
        return session.scalar(query)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    return problem


def test_signed_event_is_accepted_and_stored_as_received(client, make_event, signed) -> None:
    event = make_event()
    body = json.dumps(event).encode()
    response = client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 202
    assert response.json() == {"event_id": event["id"], "duplicate": False}
    with client.app.state.sessions() as session:
        stored = session.get(Event, event["id"])
        assert stored.status == EventStatus.RECEIVED
        assert stored.type == "note.finalized"
        assert stored.payload["data"] == event["data"]


def test_bad_signature_is_401(client, make_event, signed) -> None:
    body = json.dumps(make_event()).encode()
    response = client.post(URL, content=body, headers=signed(body, secret="not-the-shared-secret"))
    assert_problem(response, 401)
    assert count_events(client) == 0


def test_signature_over_another_body_is_401(client, make_event, signed) -> None:
    body = json.dumps(make_event()).encode()
    tampered = body.replace(b"enc_1", b"enc_2")
    response = client.post(URL, content=tampered, headers=signed(body))
    assert_problem(response, 401)


@pytest.mark.parametrize("missing", ["X-CrystalPM-Signature", "X-CrystalPM-Timestamp"])
def test_missing_signature_headers_are_401(client, make_event, signed, missing: str) -> None:
    body = json.dumps(make_event()).encode()
    headers = {k: v for k, v in signed(body).items() if k != missing}
    assert_problem(client.post(URL, content=body, headers=headers), 401)
    assert count_events(client) == 0


@pytest.mark.parametrize("offset", [-1, +1], ids=["stale", "future"])
def test_timestamp_outside_tolerance_is_401(client, settings: Settings, make_event, signed, offset) -> None:
    body = json.dumps(make_event()).encode()
    timestamp = int(time.time()) + offset * (settings.webhook_tolerance_seconds + 30)
    problem = assert_problem(client.post(URL, content=body, headers=signed(body, timestamp=timestamp)), 401)
    assert "Timestamp" in problem["detail"]
    assert count_events(client) == 0


def test_timestamp_inside_tolerance_is_accepted(client, settings: Settings, make_event, signed) -> None:
    body = json.dumps(make_event()).encode()
    timestamp = int(time.time()) - settings.webhook_tolerance_seconds + 30
    assert client.post(URL, content=body, headers=signed(body, timestamp=timestamp)).status_code == 202


def test_duplicate_delivery_is_202_and_stored_once(client, make_event, signed) -> None:
    event = make_event()
    body = json.dumps(event).encode()
    first = client.post(URL, content=body, headers=signed(body))
    # A redelivery is signed afresh, so the signature differs while the event id stays.
    again = client.post(URL, content=body, headers=signed(body, timestamp=int(time.time()) - 1))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["duplicate"] is True
    assert count_events(client, event["id"]) == 1


def test_body_over_the_cap_is_413_by_content_length(client, settings: Settings, make_event, signed) -> None:
    event = make_event(encounter_id="enc_1", padding="x" * settings.max_body_bytes)
    body = json.dumps(event).encode()
    assert len(body) > settings.max_body_bytes == 1024 * 1024
    assert_problem(client.post(URL, content=body, headers=signed(body)), 413)
    assert count_events(client) == 0


def test_streamed_body_over_the_cap_is_413_without_content_length(client, settings: Settings, signed) -> None:
    chunk = b"x" * 65536
    chunks = settings.max_body_bytes // len(chunk) + 2

    def stream() -> Iterator[bytes]:
        for _ in range(chunks):
            yield chunk

    headers = signed(chunk * chunks)
    response = client.post(URL, content=stream(), headers=headers)
    assert response.request.headers.get("content-length") is None
    assert_problem(response, 413)


def test_malformed_json_with_valid_signature_is_422_problem(client, signed) -> None:
    body = b'{"id": "evt_1", "type": '
    problem = assert_problem(client.post(URL, content=body, headers=signed(body)), 422)
    assert problem["errors"] and problem["errors"][0]["type"] == "json_invalid"
    assert count_events(client) == 0


def test_event_of_wrong_shape_is_422_listing_fields(client, make_event, signed) -> None:
    event = make_event()
    event["type"] = "note.deleted"
    del event["practice_id"]
    body = json.dumps(event).encode()
    problem = assert_problem(client.post(URL, content=body, headers=signed(body)), 422)
    assert {tuple(error["loc"]) for error in problem["errors"]} == {("type",), ("practice_id",)}
    assert all("input" not in error for error in problem["errors"])
