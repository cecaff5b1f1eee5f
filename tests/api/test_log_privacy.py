"""No log record emitted while a webhook is handled carries the payload's text (no PHI in logs)."""

import io
import json
import logging
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.logging import JsonFormatter
from api.storage.models import Event, EventStatus
from api.worker import HandlerRegistry
from billing.events import EventType, WebhookEvent
from billing.settings import Settings

PATIENT_NAME = "Zebulon Quixworth-Testperson"
NOTE_TEXT = "glaucoma suspect, IOP 24 OD"


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> io.StringIO:
    """Every record at DEBUG and above, also rendered by the service's JSON formatter."""
    caplog.set_level(logging.DEBUG)
    rendered = io.StringIO()
    handler = logging.StreamHandler(rendered)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield rendered
    logging.getLogger().removeHandler(handler)


def test_webhook_handling_never_logs_payload_text(
    settings: Settings, caplog: pytest.LogCaptureFixture, captured_logs: io.StringIO, make_event, signed
) -> None:
    def handler_that_quotes_the_note(event: WebhookEvent) -> None:
        # A careless handler whose exception message repeats PHI from the payload.
        raise ValueError(f"cannot code {event.data['patient_name']}: {event.data['note']}")

    registry = HandlerRegistry()
    registry.register(EventType.NOTE_FINALIZED, handler_that_quotes_the_note)
    event = make_event(encounter_id="enc_9", patient_name=PATIENT_NAME, note=NOTE_TEXT)
    body = json.dumps(event).encode()
    invalid = json.dumps({**event, "type": PATIENT_NAME}).encode()

    with TestClient(create_app(settings, handlers=registry)) as client:
        client.app.state.worker.max_attempts = 2
        client.app.state.worker.backoff_seconds = 0.01
        assert client.post("/webhooks/crystalpm", content=body, headers=signed(body)).status_code == 202
        assert client.post("/webhooks/crystalpm", content=body, headers=signed(body)).status_code == 202
        rejected = client.post("/webhooks/crystalpm", content=invalid, headers=signed(invalid))
        assert rejected.status_code == 422
        assert PATIENT_NAME not in rejected.text
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with client.app.state.sessions() as session:
                if session.scalar(select(Event.status).where(Event.id == event["id"])) == EventStatus.FAILED:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the worker never parked the event as failed")

    rendered = captured_logs.getvalue()
    assert event["id"] in rendered, "the handling was logged, by event id"
    assert "ValueError" in rendered, "the failure was logged, by error type"
    for secret in (PATIENT_NAME, NOTE_TEXT, "Zebulon"):
        assert secret not in rendered
        assert not [record.name for record in caplog.records if secret in record.getMessage()]


def render(message: object, *args: object, exc: BaseException | None = None, **extra: object) -> dict:
    record = logging.LogRecord("some.library", logging.ERROR, __file__, 1, message, args or None, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter().format(record))


def test_formatter_keeps_ids_and_drops_everything_else() -> None:
    entry = render("claim %s of %s: %d lines", "clm_1", PATIENT_NAME, 3, event_id="evt_1", patient_name="Jo")
    assert entry["msg"] == "claim [redacted] of [redacted]: 3 lines"
    assert entry["event_id"] == "evt_1"
    assert "patient_name" not in entry
    assert PATIENT_NAME not in json.dumps(entry)


def test_formatter_never_renders_exception_messages_or_logged_objects() -> None:
    try:
        raise ValueError(f"note says {NOTE_TEXT}")
    except ValueError as exc:
        failure = exc
    entry = render("handler failed", exc=failure)
    assert entry["error_type"] == "ValueError"
    assert entry["stack"] and all(NOTE_TEXT not in frame for frame in entry["stack"])
    assert render(failure)["msg"] == "<ValueError>"
