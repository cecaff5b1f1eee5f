"""Idempotent writes over real HTTP: draft charges, claim edits, tasks, webhook subscriptions."""

import threading
from collections.abc import Iterator

import httpx
import pytest

from billing.settings import Settings
from tests.support.sandbox import SandboxHandle, running_sandbox
from tests.support.sandbox_data import small_dataset


@pytest.fixture
def sandbox(settings: Settings) -> Iterator[SandboxHandle]:
    with running_sandbox(settings, small_dataset()) as handle:
        yield handle


@pytest.fixture
def api(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.api_url, headers=sandbox.headers(), timeout=10) as client:
        yield client


def _draft(encounter_id: str = "ENC-006", code: str = "92012") -> dict:
    return {
        "practice_id": "PRA-1",
        "encounter_id": encounter_id,
        "patient_id": "PAT-001",
        "diagnosis_codes": ["H40.1131"],
        "lines": [{"code": code, "diagnosis_pointers": [1], "fee": "110.00"}],
        "source": "ai_suggested",
    }


def _charges_for(api: httpx.Client, encounter_id: str) -> list[dict]:
    return api.get("/charges", params={"encounter_id": encounter_id}).json()["items"]


def test_draft_charge_posted_twice_with_one_key_makes_one_charge(api: httpx.Client) -> None:
    first = api.post("/charges/draft", json=_draft(), headers={"Idempotency-Key": "run-1"})
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["status"] == "draft" and created["id"] and created["provider_id"] == "PRV-1"
    assert "Idempotent-Replay" not in first.headers

    again = api.post("/charges/draft", json=_draft(), headers={"Idempotency-Key": "run-1"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.json() == created
    assert [c["id"] for c in _charges_for(api, "ENC-006")] == [created["id"]]
    # The encounter is no longer unbilled once it has a draft.
    unbilled = api.get("/encounters", params={"unbilled": "true", "limit": 500}).json()["items"]
    assert "ENC-006" not in {e["id"] for e in unbilled}


def test_same_key_with_another_body_is_409_and_writes_nothing(api: httpx.Client) -> None:
    assert api.post("/charges/draft", json=_draft(), headers={"Idempotency-Key": "k"}).status_code == 201
    conflict = api.post("/charges/draft", json=_draft(code="92014"), headers={"Idempotency-Key": "k"})
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    assert len(_charges_for(api, "ENC-006")) == 1


def test_concurrent_posts_with_one_key_make_one_charge(sandbox: SandboxHandle, api: httpx.Client) -> None:
    answers: list[httpx.Response] = []
    headers = {**sandbox.headers(), "Idempotency-Key": "race"}

    def post() -> None:
        answers.append(
            httpx.post(f"{sandbox.api_url}/charges/draft", json=_draft(), headers=headers, timeout=10)
        )

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(_charges_for(api, "ENC-006")) == 1


def test_writes_without_a_key_are_400(api: httpx.Client) -> None:
    answer = api.post("/charges/draft", json=_draft())
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["detail"]
    assert api.patch("/claims/CLM-002", json={"note": "x"}).status_code == 400
    assert _charges_for(api, "ENC-006") == []


def test_invalid_or_mismatched_charges_are_422_and_not_remembered(api: httpx.Client) -> None:
    invalid = api.post("/charges/draft", json={"practice_id": "PRA-1"}, headers={"Idempotency-Key": "bad"})
    assert invalid.status_code == 422
    assert {tuple(e["loc"]) for e in invalid.json()["errors"]} >= {
        ("body", "encounter_id"),
        ("body", "patient_id"),
    }
    wrong_patient = {**_draft(), "patient_id": "PAT-002"}
    assert api.post("/charges/draft", json=wrong_patient, headers={"Idempotency-Key": "m"}).status_code == 422
    assert (
        api.post("/charges/draft", json=_draft("ENC-404"), headers={"Idempotency-Key": "n"}).status_code
        == 422
    )
    # A failed write does not burn its key: the corrected body succeeds with it.
    assert api.post("/charges/draft", json=_draft(), headers={"Idempotency-Key": "m"}).status_code == 201


def test_claim_patch_is_idempotent(api: httpx.Client) -> None:
    before = api.get("/claims/CLM-002").json()
    assert before["status"] == "denied"
    edit = {"diagnosis_codes": ["E11.3293"], "note": "more specific diabetic retinopathy code"}
    first = api.patch("/claims/CLM-002", json=edit, headers={"Idempotency-Key": "fix-1"})
    assert first.status_code == 200, first.text
    edited = first.json()
    assert edited["diagnosis_codes"] == ["E11.3293"]
    assert edited["status"] == "ready" and edited["frequency_code"] == "7"
    assert len(edited["history"]) == len(before["history"]) + 1
    assert edited["history"][-1]["note"] == edit["note"]

    replay = api.patch("/claims/CLM-002", json=edit, headers={"Idempotency-Key": "fix-1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replay"] == "true"
    assert api.get("/claims/CLM-002").json()["history"] == edited["history"]
    other = api.patch("/claims/CLM-002", json={**edit, "note": "other"}, headers={"Idempotency-Key": "fix-1"})
    assert other.status_code == 409


def test_claim_patch_checks_coverage_pointers_and_fields(api: httpx.Client) -> None:
    key = iter(f"k{i}" for i in range(10))

    def patch(body: dict) -> httpx.Response:
        return api.patch("/claims/CLM-003", json=body, headers={"Idempotency-Key": next(key)})

    switched = patch({"coverage_id": "COV-PAT-003-2", "note": "bill the vision plan"})
    assert switched.status_code == 200
    assert switched.json()["payer_id"] == "PAY-VIS" and switched.json()["status"] == "submitted"
    assert patch({"coverage_id": "COV-PAT-001-1", "note": "another patient's plan"}).status_code == 422
    bad_pointer = {"lines": [{"line_number": 1, "code": "92012", "diagnosis_pointers": [2]}], "note": "x"}
    assert patch(bad_pointer).status_code == 422
    assert patch({"note": ""}).status_code == 422
    assert patch({"note": "x", "status": "paid"}).status_code == 422
    assert (
        api.patch("/claims/CLM-404", json={"note": "x"}, headers={"Idempotency-Key": "z"}).status_code == 404
    )


def test_tasks_are_created_once_and_listed(api: httpx.Client) -> None:
    task = {"practice_id": "PRA-1", "kind": "appeal", "title": "Appeal CLM-002", "claim_id": "CLM-002"}
    created = api.post("/tasks", json=task, headers={"Idempotency-Key": "task-1"})
    assert created.status_code == 201 and created.json()["id"]
    assert api.post("/tasks", json=task, headers={"Idempotency-Key": "task-1"}).status_code == 200
    listed = api.get("/tasks", params={"practice_id": "PRA-1", "status": "open"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created.json()["id"]


def test_webhook_subscriptions_create_list_delete(api: httpx.Client) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["note.finalized"]}
    created = api.post("/webhooks/subscriptions", json=body, headers={"Idempotency-Key": "sub"})
    assert created.status_code == 201
    sub = created.json()
    assert sub["active"] is True and sub["events"] == ["note.finalized"]
    assert api.get("/webhooks/subscriptions").json()["items"] == [sub]
    bad = {"url": "http://x", "events": ["note.deleted"]}
    assert (
        api.post("/webhooks/subscriptions", json=bad, headers={"Idempotency-Key": "bad"}).status_code == 422
    )
    assert api.delete(f"/webhooks/subscriptions/{sub['id']}").status_code == 204
    assert api.delete(f"/webhooks/subscriptions/{sub['id']}").status_code == 404
    assert api.get("/webhooks/subscriptions").json()["total"] == 0
