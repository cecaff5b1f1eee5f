"""The review queue on the real stack: sandbox webhooks -> worker -> charge_coding -> queue -> decision -> charge.

One sandbox and one served app for the module (the graph stack loads once); each test uses its own encounter.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.security.api_keys import issue_api_key
from api.storage.models import Event, ReviewItemRecord, ShadowResultRecord, utc_now
from api.storage.users import create_user
from billing.practice import Role
from billing.settings import Settings
from tests.support.coding_data import coding_dataset
from tests.support.reviews import wait_until
from tests.support.sandbox import SandboxHandle, running_sandbox, serving
from tools.crystalpm import RestCrystalPM


@dataclass
class Stack:
    url: str
    sandbox: SandboxHandle
    crystalpm: RestCrystalPM
    app: Any
    keys: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def finalize(self, encounter_id: str, practice_id: str = "PRA-1") -> str:
        """The sandbox emits note.finalized for the encounter; the event id."""
        answer = httpx.post(
            f"{self.sandbox.base_url}/_sandbox/events",
            json={
                "type": "note.finalized",
                "practice_id": practice_id,
                "data": {"encounter_id": encounter_id},
            },
            headers=self.sandbox.headers(admin=True),
        )
        assert answer.status_code == 202, answer.text
        return answer.json()["event"]["id"]

    def pending_item(self, encounter_id: str, timeout: float = 90.0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            items = httpx.get(f"{self.url}/reviews", headers=self.headers("coder"), timeout=10).json()
            return next((item for item in items if item["encounter_id"] == encounter_id), None)

        return wait_until(find, timeout, f"a review item for {encounter_id}")

    def decide(self, item_id: str, decision: dict[str, Any], who: str = "coder") -> httpx.Response:
        return httpx.post(
            f"{self.url}/reviews/{item_id}/decision", json=decision, headers=self.headers(who), timeout=60
        )

    def charges(self, encounter_id: str) -> list[Any]:
        return list(self.crystalpm.iter_charges(encounter_id=encounter_id))

    def event(self, event_id: str) -> Event | None:
        with self.app.state.sessions() as db:
            return db.get(Event, event_id)

    def faults(self, status: int, count: int) -> None:
        answer = httpx.post(
            f"{self.sandbox.base_url}/_sandbox/faults",
            json={"status": status, "count": count, "retry_after": 0},
            headers=self.sandbox.headers(admin=True),
        )
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = Settings(
        _env_file=None,
        mode="development",
        data_dir=Path(tmp_path_factory.mktemp("flow")) / "var",
        webhook_secret="test-webhook-secret-0123456789",
        session_secret="test-session-secret-0123456789",
        crystalpm_token="test-crystalpm-token",
        sandbox_admin_token="test-sandbox-admin-token",
        # One retry inside the client, so injected faults reach the worker's own retries quickly.
        crystalpm_max_retries=1,
    )
    with running_sandbox(settings, coding_dataset()) as sandbox:
        app = create_app(settings.model_copy(update={"crystalpm_base_url": sandbox.base_url}))
        with serving(app) as url, RestCrystalPM(sandbox.base_url, sandbox.token) as crystalpm:
            crystalpm.ensure_webhook_subscription(f"{url}/webhooks/crystalpm", ["note.finalized"])
            keys = {}
            with app.state.sessions() as db:
                for name, roles in {
                    "coder": [Role.CODER],
                    "coder2": [Role.CODER],
                    "admin": [Role.ADMIN],
                }.items():
                    user = create_user(
                        db, username=name, roles=roles, practice_ids=["PRA-1", "PRA-2"], password_hash=None
                    )
                    keys[name], _ = issue_api_key(db, user.id, "test", utc_now())
            yield Stack(url, sandbox, crystalpm, app, keys)


def test_an_edit_writes_the_edited_codes_and_stores_the_diff(stack: Stack) -> None:
    stack.finalize("ENC-006")
    item = stack.pending_item("ENC-006")
    assert item["workflow"] == "charge_coding" and item["patient_id"] == "PAT-001"
    assert item["payer"] and item["confidence"] is not None and item["amount"] is not None
    detail = httpx.get(f"{stack.url}/reviews/{item['id']}", headers=stack.headers("coder")).json()
    suggested = detail["payload"]["suggestion"]
    assert suggested["lines"] and stack.charges("ENC-006") == []
    kept = suggested["lines"][0]
    edited = {
        "diagnosis_codes": kept["diagnosis_codes"],
        "lines": [
            {"code": kept["code"], "modifiers": kept["modifiers"], "diagnosis_codes": kept["diagnosis_codes"]}
        ],
    }
    answer = stack.decide(item["id"], {"decision": "edit", "edited": edited})
    assert answer.status_code == 200, answer.text
    decided = answer.json()
    assert decided["applied_at"] and decided["result"]["charge_id"]
    removed = [line["code"] for line in suggested["lines"][1:]]
    assert [key.split("-")[0] for key in decided["diff"]["lines_removed"]] == removed
    assert decided["diff"]["unchanged"] is False
    (charge,) = stack.charges("ENC-006")
    assert [line.code for line in charge.lines] == [kept["code"]] and charge.id == decided["result"][
        "charge_id"
    ]


def test_a_rejection_writes_nothing(stack: Stack) -> None:
    stack.finalize("ENC-007")
    item = stack.pending_item("ENC-007")
    assert stack.decide(item["id"], {"decision": "reject"}).status_code == 422
    answer = stack.decide(item["id"], {"decision": "reject", "reason": "visit was not medically necessary"})
    assert answer.status_code == 200 and answer.json()["result"]["state"] == "done"
    assert answer.json()["diff"]["unchanged"] is False
    assert stack.charges("ENC-007") == []


def test_two_reviewers_approving_at_once_make_one_charge(stack: Stack) -> None:
    stack.finalize("ENC-008")
    item = stack.pending_item("ENC-008")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def approve(who: str) -> None:
        barrier.wait()
        statuses.append(stack.decide(item["id"], {"decision": "approve"}, who).status_code)

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("coder", "coder2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert len(stack.charges("ENC-008")) == 1


def test_crystal_pm_503s_are_retried_with_backoff_then_succeed(stack: Stack) -> None:
    # The client tries each call twice; four 503s make the worker's first two attempts fail.
    stack.faults(503, 4)
    event_id = stack.finalize("ENC-102", practice_id="PRA-2")
    item = stack.pending_item("ENC-102")
    event = wait_until(
        lambda: (found := stack.event(event_id)) is not None and found.status.value == "done" and found
    )
    assert event.attempts == 3 and item["practice_id"] == "PRA-2"
    metrics = httpx.get(f"{stack.url}/metrics", headers=stack.headers("admin")).text
    assert 'fovea_crystalpm_errors_total{error="Unavailable"} 2.0' in metrics
    assert 'fovea_events_received_total{type="note.finalized"}' in metrics


def test_a_permanent_error_parks_the_event_for_an_admin_to_retrigger(stack: Stack) -> None:
    stack.faults(422, 1)
    event_id = stack.finalize("ENC-005")
    wait_until(lambda: (found := stack.event(event_id)) is not None and found.status.value == "failed")
    failed = httpx.get(
        f"{stack.url}/admin/events", params={"status": "failed"}, headers=stack.headers("admin")
    ).json()
    (parked,) = [event for event in failed if event["id"] == event_id]
    assert parked["attempts"] == 1 and parked["last_error"].startswith("Rejected")
    assert (
        httpx.post(
            f"{stack.url}/admin/events/{event_id}/retrigger", headers=stack.headers("coder")
        ).status_code
        == 403
    )
    answer = httpx.post(f"{stack.url}/admin/events/{event_id}/retrigger", headers=stack.headers("admin"))
    assert answer.status_code == 202 and answer.json()["status"] in {"received", "processing", "done"}
    assert stack.pending_item("ENC-005")["status"] == "pending"


def test_shadow_mode_compares_with_the_charge_staff_keyed(stack: Stack) -> None:
    changed = httpx.put(
        f"{stack.url}/admin/features/charge_coding",
        json={"shadow_share": 1.0},
        headers=stack.headers("admin"),
    )
    assert changed.status_code == 200
    try:
        event_id = stack.finalize("ENC-001")
        wait_until(lambda: (found := stack.event(event_id)) is not None and found.status.value == "done")
    finally:
        httpx.put(
            f"{stack.url}/admin/features/charge_coding",
            json={"shadow_share": 0.0},
            headers=stack.headers("admin"),
        )
    with stack.app.state.sessions() as db:
        assert (
            db.scalars(select(ReviewItemRecord).where(ReviewItemRecord.encounter_id == "ENC-001")).first()
            is None
        )
        (shadow,) = db.scalars(select(ShadowResultRecord).where(ShadowResultRecord.encounter_id == "ENC-001"))
    (manual,) = stack.charges("ENC-001")
    assert shadow.thread_id == "shadow:encounter:ENC-001" and shadow.compared_at is not None
    assert shadow.manual["charge_id"] == manual.id
    expected_recall = len(set(shadow.comparison["lines_matched"])) / len(shadow.manual["lines"])
    assert shadow.comparison["line_recall"] == round(expected_recall, 4)
    dashboard = httpx.get(f"{stack.url}/dashboard/metrics", headers=stack.headers("admin")).json()
    assert dashboard["shadow"]["runs"] == 1 and dashboard["shadow"]["compared_with_manual_coding"] == 1
    assert dashboard["time_saved"]["label"] == "assumption"
