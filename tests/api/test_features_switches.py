"""Kill switches, shadow mode and autopilot: set by Admin (audited), obeyed by the worker and the queue."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.features import in_shadow_share
from api.reviews import ReviewService
from api.storage.events import get_event
from api.storage.models import AuditRecord, EventStatus, ReviewItemRecord
from api.worker import HandlerRegistry
from billing.events import EventType, WebhookEvent
from billing.practice import Role
from billing.settings import Settings
from tests.api.conftest import Signer
from tests.support.reviews import RecordingRuntime, draft, review_client, wait_until
from tests.support.security import TestUser, add_user, bearer


@dataclass
class Handled:
    runs: list[str] = field(default_factory=list)
    shadows: list[str] = field(default_factory=list)

    def run(self, event: WebhookEvent) -> None:
        self.runs.append(event.id)

    def shadow(self, event: WebhookEvent) -> None:
        self.shadows.append(event.id)


@dataclass
class World:
    client: TestClient
    runtime: RecordingRuntime
    handled: Handled
    admin: TestUser
    coder: TestUser
    signed: Signer

    @property
    def reviews(self) -> ReviewService:
        return self.client.app.state.reviews

    def set_feature(self, user: TestUser, **change: Any) -> int:
        answer = self.client.put("/admin/features/charge_coding", json=change, headers=bearer(user.api_key))
        return answer.status_code

    def deliver(self, event_id: str) -> None:
        body = json.dumps(
            {
                "id": event_id,
                "type": "note.finalized",
                "practice_id": "PRA-1",
                "occurred_at": "2025-06-09T17:00:00Z",
                "data": {"encounter_id": "ENC-006"},
            }
        ).encode()
        answer = self.client.post("/webhooks/crystalpm", content=body, headers=self.signed(body))
        assert answer.status_code == 202, answer.text

    def event(self, event_id: str) -> tuple[EventStatus, str | None]:
        with self.client.app.state.sessions() as db:
            stored = get_event(db, event_id)
            assert stored is not None
            return stored.status, stored.last_error


@pytest.fixture
def world(settings: Settings, signed: Signer) -> Iterator[World]:
    handled = Handled()
    registry = HandlerRegistry()
    registry.register(EventType.NOTE_FINALIZED, handled.run)
    registry.register_shadow(EventType.NOTE_FINALIZED, handled.shadow)
    runtime = RecordingRuntime()
    with review_client(settings, runtime, handlers=registry, start_worker=True) as client:
        yield World(
            client,
            runtime,
            handled,
            admin=add_user(client, "admin", [Role.ADMIN], ["PRA-1"]),
            coder=add_user(client, "coder", [Role.CODER], ["PRA-1"]),
            signed=signed,
        )


def audit_records(client: TestClient, action: str) -> list[AuditRecord]:
    with client.app.state.sessions() as db:
        return list(
            db.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id))
        )


def test_features_default_to_on_without_autopilot_and_only_admins_change_them(world: World) -> None:
    listed = world.client.get("/admin/features", headers=bearer(world.admin.api_key)).json()
    assert {flags["feature"] for flags in listed} >= {"charge_coding", "claim_scrub", "chat", "statements"}
    assert all(flags["enabled"] and not flags["autopilot_enabled"] for flags in listed)
    assert world.set_feature(world.coder, enabled=False) == 403
    assert world.set_feature(world.admin, shadow_share=1.5) == 422
    assert world.set_feature(world.admin, enabled=False) == 200
    (change,) = audit_records(world.client, "admin.feature.change")
    assert change.actor == f"user:{world.admin.id}"
    assert change.detail["before"]["enabled"] is True and change.detail["after"]["enabled"] is False


def test_a_disabled_feature_skips_new_events_but_keeps_its_items_decidable(world: World) -> None:
    item_id = world.reviews.open_item(draft("encounter:ENC-006"))
    assert world.set_feature(world.admin, enabled=False) == 200
    world.deliver("evt_while_off")
    status, reason = wait_until(
        lambda: (state := world.event("evt_while_off"))[0] is EventStatus.SKIPPED and state, what="the skip"
    )
    assert status is EventStatus.SKIPPED and "disabled" in (reason or "")
    assert world.handled.runs == []
    answer = world.client.post(
        f"/reviews/{item_id}/decision", json={"decision": "approve"}, headers=bearer(world.coder.api_key)
    )
    assert answer.status_code == 200 and world.runtime.charges
    assert world.set_feature(world.admin, enabled=True) == 200
    world.deliver("evt_back_on")
    wait_until(lambda: world.event("evt_back_on")[0] is EventStatus.DONE, what="the event to run")
    assert world.handled.runs == ["evt_back_on"]


def test_shadow_share_sends_events_to_the_shadow_handler_without_review_items(world: World) -> None:
    assert world.set_feature(world.admin, shadow_share=1.0) == 200
    world.deliver("evt_shadow")
    wait_until(lambda: world.event("evt_shadow")[0] is EventStatus.DONE, what="the shadow run")
    assert world.handled.shadows == ["evt_shadow"] and world.handled.runs == []
    with world.client.app.state.sessions() as db:
        assert db.scalars(select(ReviewItemRecord)).first() is None


def test_the_shadow_share_is_deterministic_and_close_to_the_setting() -> None:
    event_ids = [f"evt_{number:05d}" for number in range(4000)]
    chosen = [event_id for event_id in event_ids if in_shadow_share(event_id, 0.25)]
    assert 0.22 < len(chosen) / len(event_ids) < 0.28
    assert chosen == [event_id for event_id in event_ids if in_shadow_share(event_id, 0.25)]
    assert not any(in_shadow_share(event_id, 0.0) for event_id in event_ids)
    assert all(in_shadow_share(event_id, 1.0) for event_id in event_ids)


def test_autopilot_approves_confident_clean_items_as_the_policy(world: World) -> None:
    # Off by default: even a very confident item waits for a person.
    waiting = world.reviews.open_item(draft("encounter:ENC-0", confidence=0.99))
    assert world.reviews.get(waiting).status == "pending"
    assert world.set_feature(world.admin, autopilot_enabled=True, autopilot_threshold=0.9) == 200
    approved = world.reviews.open_item(draft("encounter:ENC-1", confidence=0.95))
    with_errors = world.reviews.open_item(draft("encounter:ENC-2", confidence=0.97, has_errors=True))
    unsure = world.reviews.open_item(draft("encounter:ENC-3", confidence=0.5))
    item = world.reviews.get(approved)
    assert item.status == "decided" and item.decided_by == "policy:charge_coding-autopilot"
    assert [world.reviews.get(other).status for other in (with_errors, unsure)] == ["pending", "pending"]
    assert world.runtime.resumed == [
        (
            "encounter:ENC-1",
            {
                "decision": "approve",
                "edited": None,
                "reason": "",
                "reviewer": "policy:charge_coding-autopilot",
            },
        )
    ]
    (decision,) = audit_records(world.client, "review.decision")
    assert decision.actor == "policy:charge_coding-autopilot"
    assert decision.detail["policy"] == {"threshold": 0.9, "confidence": 0.95, "has_errors": False}
