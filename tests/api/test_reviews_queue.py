"""The review queue over HTTP: list and filter, detail (an audited PHI view), decide once, practice scoping."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.reviews import ReviewService
from api.storage.models import AuditRecord, ReviewItemRecord, utc_now
from billing.practice import Role
from billing.settings import Settings
from tests.support.reviews import RecordingRuntime, draft, review_client
from tests.support.security import TestUser, add_user, bearer


@dataclass
class Queue:
    client: TestClient
    runtime: RecordingRuntime
    coder: TestUser
    biller: TestUser
    other_coder: TestUser

    @property
    def reviews(self) -> ReviewService:
        return self.client.app.state.reviews


@pytest.fixture
def queue(settings: Settings) -> Iterator[Queue]:
    runtime = RecordingRuntime(delay=0.2)
    with review_client(settings, runtime) as client:
        yield Queue(
            client,
            runtime,
            coder=add_user(client, "coder", [Role.CODER], ["PRA-1"]),
            biller=add_user(client, "biller", [Role.BILLER], ["PRA-1"]),
            other_coder=add_user(client, "coder-2", [Role.CODER], ["PRA-2"]),
        )


def audit_actions(client: TestClient) -> list[tuple[str, str, str]]:
    with client.app.state.sessions() as db:
        rows = db.scalars(select(AuditRecord).order_by(AuditRecord.id))
        return [(row.actor, row.action, row.patient_id) for row in rows]


def test_the_queue_lists_filters_and_scopes_items(queue: Queue) -> None:
    reviews = queue.reviews
    low = reviews.open_item(draft("encounter:ENC-1", confidence=0.4, payer="Medicare Part B"))
    high = reviews.open_item(draft("encounter:ENC-2", confidence=0.9, payer="Synthetic Commercial PPO"))
    claim = reviews.open_item(draft("claim:CLM-1", workflow="claim_scrub", confidence=0.7))
    reviews.open_item(draft("encounter:ENC-9", practice_id="PRA-2"))
    with queue.client.app.state.sessions() as db:
        db.execute(
            update(ReviewItemRecord)
            .where(ReviewItemRecord.id == low)
            .values(created_at=utc_now() - timedelta(minutes=45))
        )
        db.commit()

    def ids(**params: object) -> list[str]:
        answer = queue.client.get("/reviews", params=params, headers=bearer(queue.coder.api_key))
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()]

    assert ids() == [low, high, claim]  # oldest first, PRA-2's item not among them
    assert ids(workflow="claim_scrub") == [claim]
    assert ids(min_confidence=0.75) == [high]
    assert ids(max_confidence=0.75) == [low, claim]
    assert ids(older_than_minutes=30) == [low]
    assert ids(payer="Synthetic Commercial PPO") == [high]
    listed = queue.client.get("/reviews", headers=bearer(queue.coder.api_key)).json()[0]
    assert "payload" not in listed and listed["amount"] == "165.00" and listed["status"] == "pending"
    # Asking for another practice's queue is the same as asking for something that does not exist.
    other = queue.client.get("/reviews", params={"practice_id": "PRA-2"}, headers=bearer(queue.coder.api_key))
    assert other.status_code == 404


def test_reporting_the_same_interrupt_again_keeps_one_pending_item(queue: Queue) -> None:
    first = queue.reviews.open_item(draft("encounter:ENC-1"))
    assert queue.reviews.open_item(draft("encounter:ENC-1")) == first
    changed = draft("encounter:ENC-1", confidence=0.6)
    changed.payload["run_id"] = "encounter:ENC-1:another-run"
    assert queue.reviews.open_item(changed) == first
    item = queue.reviews.get(first)
    assert item.version == 2 and item.payload["run_id"].endswith("another-run")


def test_detail_shows_the_payload_and_audits_the_phi_view(queue: Queue) -> None:
    item_id = queue.reviews.open_item(draft("encounter:ENC-1"))
    answer = queue.client.get(f"/reviews/{item_id}", headers=bearer(queue.biller.api_key))
    assert answer.status_code == 200
    assert answer.json()["payload"]["suggestion"]["lines"][0]["code"] == "92012"
    assert (f"user:{queue.biller.id}", "phi.view", "PAT-001") in audit_actions(queue.client)
    # Another practice's item does not exist for this caller, and looking is not audited as a view.
    foreign = queue.client.get(f"/reviews/{item_id}", headers=bearer(queue.other_coder.api_key))
    assert foreign.status_code == 404
    assert (f"user:{queue.other_coder.id}", "phi.view", "PAT-001") not in audit_actions(queue.client)


def test_approve_resumes_the_workflow_once_and_records_the_decision(queue: Queue) -> None:
    item_id = queue.reviews.open_item(draft("encounter:ENC-1"))
    answer = queue.client.post(
        f"/reviews/{item_id}/decision", json={"decision": "approve"}, headers=bearer(queue.coder.api_key)
    )
    assert answer.status_code == 200, answer.text
    item = answer.json()
    assert item["status"] == "decided" and item["decided_by"] == queue.coder.id
    assert item["applied_at"] is not None and item["time_to_decision_seconds"] >= 0
    assert item["diff"]["unchanged"] is True and item["diff"]["lines_removed"] == []
    assert queue.runtime.resumed == [
        ("encounter:ENC-1", {"decision": "approve", "edited": None, "reason": "", "reviewer": queue.coder.id})
    ]
    assert (f"user:{queue.coder.id}", "review.decision", "PAT-001") in audit_actions(queue.client)
    again = queue.client.post(
        f"/reviews/{item_id}/decision", json={"decision": "approve"}, headers=bearer(queue.coder.api_key)
    )
    assert again.status_code == 409 and len(queue.runtime.resumed) == 1


def test_two_reviewers_deciding_at_once_one_wins_the_other_gets_409(queue: Queue) -> None:
    item_id = queue.reviews.open_item(draft("encounter:ENC-1"))
    second = add_user(queue.client, "coder-b", [Role.CODER], ["PRA-1"])
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def decide(user: TestUser, decision: dict[str, object]) -> None:
        barrier.wait()
        answer = queue.client.post(
            f"/reviews/{item_id}/decision", json=decision, headers=bearer(user.api_key)
        )
        statuses.append(answer.status_code)

    threads = [
        threading.Thread(target=decide, args=(queue.coder, {"decision": "approve"})),
        threading.Thread(target=decide, args=(second, {"decision": "reject", "reason": "wrong visit"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert len(queue.runtime.resumed) == 1
    winner = queue.reviews.get(item_id)
    assert winner.decided_by in {queue.coder.id, second.id}
    assert len(queue.runtime.charges) == (1 if winner.decision == "approve" else 0)


def test_decisions_are_validated_and_gated_by_role_practice_and_version(queue: Queue) -> None:
    item_id = queue.reviews.open_item(draft("encounter:ENC-1"))
    url = f"/reviews/{item_id}/decision"
    coder = bearer(queue.coder.api_key)
    assert queue.client.post(url, json={"decision": "reject"}, headers=coder).status_code == 422
    assert queue.client.post(url, json={"decision": "edit"}, headers=coder).status_code == 422
    # Billers see charge suggestions but only coders decide them.
    assert (
        queue.client.post(url, json={"decision": "approve"}, headers=bearer(queue.biller.api_key)).status_code
        == 403
    )
    foreign = queue.client.post(url, json={"decision": "approve"}, headers=bearer(queue.other_coder.api_key))
    assert foreign.status_code == 404
    stale = queue.client.post(url, params={"version": 7}, json={"decision": "approve"}, headers=coder)
    assert stale.status_code == 409
    assert queue.runtime.resumed == []
    edited = {"diagnosis_codes": ["H40.1131"], "lines": [{"code": "92012", "diagnosis_codes": ["H40.1131"]}]}
    answer = queue.client.post(
        url, params={"version": 1}, json={"decision": "edit", "edited": edited}, headers=coder
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["edited"] == edited
    assert answer.json()["diff"]["lines_removed"] == ["92133"] and answer.json()["diff"]["unchanged"] is False
    bad_edit = queue.reviews.open_item(draft("encounter:ENC-2"))
    malformed = {"decision": "edit", "edited": {"lines": [{"code": "92012", "units": 0}]}}
    answer = queue.client.post(f"/reviews/{bad_edit}/decision", json=malformed, headers=coder)
    assert answer.status_code == 422 and queue.reviews.get(bad_edit).status == "pending"


def test_a_failed_resume_keeps_the_decision_and_recovery_applies_it(settings: Settings) -> None:
    runtime = RecordingRuntime(fail=ConnectionError("Crystal PM is down"))
    with review_client(settings, runtime) as client:
        coder = add_user(client, "coder", [Role.CODER], ["PRA-1"])
        reviews: ReviewService = client.app.state.reviews
        item_id = reviews.open_item(draft("encounter:ENC-1"))
        answer = client.post(
            f"/reviews/{item_id}/decision", json={"decision": "approve"}, headers=bearer(coder.api_key)
        )
        assert answer.status_code == 200
        assert answer.json()["applied_at"] is None and "Crystal PM is down" in answer.json()["apply_error"]
        runtime.fail = None
        assert reviews.recover() == 1
        assert reviews.get(item_id).applied_at is not None
        assert list(runtime.charges) == ["encounter:ENC-1"]
        assert reviews.recover() == 0
