"""Webhooks out and fault injection over real HTTP: signed deliveries to a real receiver, retries."""

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from billing.settings import Settings
from tests.support.sandbox import SandboxHandle, running_sandbox, serving
from tests.support.sandbox_data import small_dataset


@dataclass
class Receiver:
    """A webhook receiver that answers the scripted statuses in turn (then 200) and keeps what it got."""

    url: str
    statuses: list[int]
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    state = Receiver(url="", statuses=[])

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        state.received.append((dict(request.headers), await request.body()))
        return Response(status_code=state.statuses.pop(0) if state.statuses else 200)

    with serving(app) as base_url:
        state.url = f"{base_url}/hook"
        yield state


@pytest.fixture
def sandbox(settings: Settings) -> Iterator[SandboxHandle]:
    with running_sandbox(settings, small_dataset(), webhook_retry_base_seconds=0.05) as handle:
        yield handle


def _subscribe(sandbox: SandboxHandle, url: str, events: list[str]) -> None:
    answer = httpx.post(
        f"{sandbox.api_url}/webhooks/subscriptions",
        json={"url": url, "events": events},
        headers={**sandbox.headers(), "Idempotency-Key": f"sub-{url}-{events}"},
    )
    assert answer.status_code == 201, answer.text


def _emit(sandbox: SandboxHandle, event_type: str, data: dict) -> dict:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/events",
        json={"type": event_type, "practice_id": "PRA-1", "data": data},
        headers=sandbox.headers(admin=True),
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def _wait_for_delivery(sandbox: SandboxHandle, event_id: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        page = httpx.get(
            f"{sandbox.api_url}/webhooks/deliveries", params={"event_id": event_id}, headers=sandbox.headers()
        ).json()
        delivery = page["items"][0]
        if delivery["status"] != "pending" or time.monotonic() > deadline:
            return delivery
        time.sleep(0.05)


def test_event_is_delivered_signed_to_matching_subscriptions(
    sandbox: SandboxHandle, receiver: Receiver, settings: Settings
) -> None:
    _subscribe(sandbox, receiver.url, ["note.finalized"])
    _subscribe(sandbox, receiver.url.replace("/hook", "/other"), ["claim.ready"])
    emitted = _emit(sandbox, "note.finalized", {"encounter_id": "ENC-006", "note_id": "NOTE-006"})
    assert emitted["deliveries"] == 1
    event_id = emitted["event"]["id"]

    delivery = _wait_for_delivery(sandbox, event_id)
    assert delivery == {
        "event_id": event_id,
        "url": receiver.url,
        "attempts": 1,
        "status": "delivered",
        "last_status_code": 200,
        "last_error": None,
    }
    [(headers, body)] = receiver.received
    event = json.loads(body)
    assert event["id"] == event_id == headers["x-crystalpm-event-id"]
    assert event["type"] == "note.finalized" and event["data"] == {
        "encounter_id": "ENC-006",
        "note_id": "NOTE-006",
    }
    timestamp = headers["x-crystalpm-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    secret = settings.webhook_secret.get_secret_value().encode()
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-crystalpm-signature"], f"sha256={expected}")


def test_delivery_is_retried_after_receiver_failures(sandbox: SandboxHandle, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    _subscribe(sandbox, receiver.url, ["claim.ready"])
    event_id = _emit(sandbox, "claim.ready", {"claim_id": "CLM-003"})["event"]["id"]
    delivery = _wait_for_delivery(sandbox, event_id)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["last_status_code"] == 200
    assert len(receiver.received) == 3
    assert {json.loads(body)["id"] for _, body in receiver.received} == {event_id}
    # Each attempt is signed afresh; the retries wait 0.05 s then 0.1 s in this sandbox.
    assert all(headers["x-crystalpm-signature"].startswith("sha256=") for headers, _ in receiver.received)


def test_delivery_fails_after_six_attempts(sandbox: SandboxHandle, receiver: Receiver) -> None:
    receiver.statuses = [500] * 10
    _subscribe(sandbox, receiver.url, ["remittance.received"])
    started = time.monotonic()
    event_id = _emit(sandbox, "remittance.received", {"remittance_id": "RMT-001"})["event"]["id"]
    delivery = _wait_for_delivery(sandbox, event_id)
    elapsed = time.monotonic() - started
    assert delivery["status"] == "failed" and delivery["attempts"] == 6
    assert delivery["last_status_code"] == 500 and "500" in delivery["last_error"]
    assert len(receiver.received) == 6
    # Backoff 0.05 + 0.1 + 0.2 + 0.4 + 0.8 s between the six attempts.
    assert elapsed >= 1.5


def test_unreachable_receiver_is_recorded_as_an_error(sandbox: SandboxHandle) -> None:
    with serving(FastAPI()) as closed_soon:
        pass
    _subscribe(sandbox, f"{closed_soon}/hook", ["appointment.scheduled"])
    event_id = _emit(sandbox, "appointment.scheduled", {"appointment_id": "APT-001"})["event"]["id"]
    time.sleep(0.3)
    delivery = httpx.get(
        f"{sandbox.api_url}/webhooks/deliveries", params={"event_id": event_id}, headers=sandbox.headers()
    ).json()["items"][0]
    assert delivery["attempts"] >= 1 and delivery["last_status_code"] is None
    assert "Connect" in delivery["last_error"]


def test_emit_needs_admin_token_and_a_known_practice(sandbox: SandboxHandle) -> None:
    url = f"{sandbox.base_url}/_sandbox/events"
    body = {"type": "claim.ready", "practice_id": "PRA-1", "data": {"claim_id": "CLM-003"}}
    assert httpx.post(url, json=body, headers=sandbox.headers()).status_code == 401
    unknown = {**body, "practice_id": "PRA-404"}
    assert httpx.post(url, json=unknown, headers=sandbox.headers(admin=True)).status_code == 422


def test_fault_injection_fails_the_next_calls_then_recovers(sandbox: SandboxHandle) -> None:
    plan = {"status": 503, "count": 2, "retry_after": 3}
    faults = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json=plan, headers=sandbox.headers(admin=True))
    assert faults.status_code == 200
    assert httpx.get(f"{sandbox.base_url}/health").status_code == 200  # only /api/v1 calls fail
    for _ in range(2):
        failed = httpx.get(f"{sandbox.api_url}/patients", headers=sandbox.headers())
        assert failed.status_code == 503
        assert failed.headers["retry-after"] == "3"
        assert failed.headers["content-type"] == "application/problem+json"
    assert httpx.get(f"{sandbox.api_url}/patients", headers=sandbox.headers()).status_code == 200


def test_fault_injection_with_429_and_clearing(sandbox: SandboxHandle) -> None:
    admin = sandbox.headers(admin=True)
    httpx.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"status": 429, "count": 5, "retry_after": 1},
        headers=admin,
    )
    limited = httpx.get(f"{sandbox.api_url}/payers", headers=sandbox.headers())
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert httpx.get(f"{sandbox.base_url}/_sandbox/faults", headers=admin).json()["count"] == 4
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"count": 0}, headers=admin)
    assert httpx.get(f"{sandbox.api_url}/payers", headers=sandbox.headers()).status_code == 200
    api_token = sandbox.headers()
    assert (
        httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"count": 1}, headers=api_token).status_code
        == 401
    )
