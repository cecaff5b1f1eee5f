"""End to end on loopback: the sandbox emits note.finalized, the app's worker runs charge_coding to review."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.coding_runtime import ChargeCodingRuntime, ReviewNotPending
from api.storage.audit import AuditLog
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.storage.models import Event, EventStatus
from billing.events import EventType, WebhookEvent
from billing.settings import Settings
from tests.support.coding_data import coding_dataset
from tests.support.sandbox import SandboxHandle, running_sandbox, serving
from tools.crystalpm import RestCrystalPM

THREAD = "encounter:ENC-006"


def wait_for(condition: Callable[[], Any], timeout: float = 90.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def emit_note_finalized(sandbox: SandboxHandle) -> None:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/events",
        json={
            "type": "note.finalized",
            "practice_id": "PRA-1",
            "data": {"encounter_id": "ENC-006", "note_id": "NOTE-006"},
        },
        headers=sandbox.headers(admin=True),
    )
    assert answer.status_code == 202, answer.text


def test_a_note_finalized_webhook_runs_charge_coding_to_a_pending_review(settings: Settings) -> None:
    with running_sandbox(settings, coding_dataset()) as sandbox:
        app_settings = settings.model_copy(update={"crystalpm_base_url": sandbox.base_url})
        app = create_app(app_settings)
        with serving(app) as app_url, RestCrystalPM(sandbox.base_url, sandbox.token) as client:
            client.ensure_webhook_subscription(f"{app_url}/webhooks/crystalpm", ["note.finalized"])
            runtime: ChargeCodingRuntime = app.state.charge_coding

            def events_done() -> int:
                with app.state.sessions() as session:
                    return session.scalar(
                        select(func.count()).select_from(Event).where(Event.status == EventStatus.DONE)
                    )

            emit_note_finalized(sandbox)
            wait_for(lambda: events_done() == 1, what="the worker to finish the event")
            status = runtime.status(THREAD)
            assert status.state == "pending_review"
            assert status.review is not None and status.review["encounter_id"] == "ENC-006"
            assert status.review["suggestion"]["lines"]
            assert list(client.iter_charges(encounter_id="ENC-006")) == []

            # A second delivery for the same encounter leaves the pending run as it is.
            emit_note_finalized(sandbox)
            wait_for(lambda: events_done() == 2, what="the second event")
            again = runtime.status(THREAD)
            assert again.state == "pending_review" and again.review["run_id"] == status.review["run_id"]

            done = runtime.resume_charge_coding(THREAD, {"decision": "approve", "reviewer": "USR-2"})
            assert done.state == "done" and done.charge_id
            with pytest.raises(ReviewNotPending):
                runtime.resume_charge_coding(THREAD, {"decision": "approve", "reviewer": "USR-2"})
            (charge,) = client.iter_charges(encounter_id="ENC-006")
            assert charge.id == done.charge_id and charge.source == "ai_suggested"
            assert AuditLog(app.state.sessions).verify().ok


def test_an_event_for_an_unknown_encounter_finishes_without_a_run(settings: Settings, tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    with running_sandbox(settings, coding_dataset()) as sandbox:
        runtime = ChargeCodingRuntime(
            settings.model_copy(update={"crystalpm_base_url": sandbox.base_url}),
            create_session_factory(engine),
        )
        event = WebhookEvent(
            id="evt_unknown",
            type=EventType.NOTE_FINALIZED,
            practice_id="PRA-1",
            occurred_at="2025-06-09T17:00:00Z",
            data={"encounter_id": "ENC-404"},
        )
        assert runtime.start_charge_coding(event).state == "not_started"
        assert runtime.status("encounter:ENC-404").state == "not_started"
    engine.dispose()
