"""The review queue in tests: a recording stand-in workflow runtime, drafts, and an app wired with both.

Usage::

    runtime = RecordingRuntime()
    with review_client(settings, runtime) as client:
        coder = add_user(client, "coder", [Role.CODER], ["PRA-1"])
        item_id = client.app.state.reviews.open_item(draft("encounter:ENC-1"))
        client.post(f"/reviews/{item_id}/decision", json={"decision": "approve"}, headers=bearer(coder.api_key))
        runtime.resumed  # [(thread_id, decision), ...]

The runtime stands for a workflow whose write is idempotent per thread: `charges` holds one entry per
thread that was approved or edited, however often it is resumed.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.worker import HandlerRegistry, default_registry
from api.workflows import ReviewItemDraft
from billing.settings import Settings

SUGGESTION = {
    "diagnoses": [{"code": "H40.1131", "confidence": 0.9}],
    "lines": [
        {"code": "92012", "diagnosis_codes": ["H40.1131"]},
        {"code": "92133", "diagnosis_codes": ["H40.1131"]},
    ],
}


class RecordingRuntime:
    """A charge_coding WorkflowRuntime that records each resume; `delay` widens race windows, `fail` raises.

    Its diff is the charge_coding graph's own (codes added, removed, re-pointed), as the real runtime's.
    """

    workflow = "charge_coding"

    def __init__(self, *, delay: float = 0.0, fail: Exception | None = None) -> None:
        self.delay = delay
        self.fail = fail
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.charges: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.resumed.append((thread_id, decision))
            if decision["decision"] != "reject":
                self.charges.setdefault(thread_id, decision)
        return {"state": "done", "thread_id": thread_id}

    def diff(self, payload: dict[str, Any], decision: str, edited: dict[str, Any] | None) -> dict[str, Any]:
        from agents.coding.schemas import CodeSuggestion
        from graphs.charge_coding import Coding, coding_diff

        suggested = Coding.of(CodeSuggestion.model_validate(payload["suggestion"]))
        final = {"approve": suggested, "edit": Coding.model_validate(edited or {}), "reject": None}[decision]
        return coding_diff(suggested, final)


def draft(
    thread_id: str,
    *,
    practice_id: str = "PRA-1",
    confidence: float | None = 0.8,
    payer: str = "Medicare Part B",
    has_errors: bool = False,
    workflow: str = "charge_coding",
    patient_id: str = "PAT-001",
) -> ReviewItemDraft:
    encounter_id = thread_id.rsplit(":", 1)[-1]
    return ReviewItemDraft(
        workflow=workflow,
        thread_id=thread_id,
        practice_id=practice_id,
        title=f"Encounter {encounter_id}: 2 procedure lines, 1 diagnosis",
        payload={
            "thread_id": thread_id,
            "run_id": f"{thread_id}:run",
            "suggestion": SUGGESTION,
            "findings": [],
        },
        confidence=confidence,
        payer=payer,
        patient_id=patient_id,
        encounter_id=encounter_id,
        has_errors=has_errors,
        amount="165.00",
    )


@contextmanager
def review_client(
    settings: Settings,
    runtime: RecordingRuntime | None = None,
    *,
    handlers: HandlerRegistry | None = None,
    start_worker: bool = False,
) -> Iterator[TestClient]:
    """The app with placeholder (or given) event handlers and the recording runtime registered."""
    app = create_app(
        settings,
        start_worker=start_worker,
        handlers=handlers or default_registry(),
        workflows=[runtime or RecordingRuntime()],
    )
    with TestClient(app) as client:
        yield client


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
