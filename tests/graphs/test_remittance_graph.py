"""The remittance graph against the real sandbox: post, triage, draft, review, write once, audit."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.remittance_runtime import RemittanceRuntime
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.storage.models import AuditRecord
from billing.events import WebhookEvent
from billing.settings import Settings
from billing.tasks import Task
from tests.support.sandbox import running_sandbox
from tests.support.sandbox_data import small_dataset
from tools.crystalpm import RestCrystalPM

THREAD = "remit:RMT-001"
APPEAL_ID = "RMT-001:CLM-002:1"
EVENT = WebhookEvent(
    id="evt-remit-1",
    type="remittance.received",
    practice_id="PRA-1",
    occurred_at="2025-03-02T08:00:00Z",
    data={"remittance_id": "RMT-001"},
)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


@pytest.fixture
def world(
    settings: Settings, sessions: sessionmaker[Session]
) -> Iterator[tuple[RemittanceRuntime, RestCrystalPM]]:
    with (
        running_sandbox(settings, small_dataset()) as sandbox,
        RestCrystalPM(sandbox.base_url, sandbox.token) as client,
    ):
        runtime = RemittanceRuntime(settings, sessions, crystalpm=client, today=lambda: date(2025, 3, 5))
        yield runtime, client


def tasks(client: RestCrystalPM) -> list[Task]:
    return list(client.iter_tasks("PRA-1"))


def test_a_denial_is_triaged_drafted_and_written_once_after_approval(
    world: tuple[RemittanceRuntime, RestCrystalPM], sessions: sessionmaker[Session]
) -> None:
    runtime, client = world
    status = runtime.start_remittance(EVENT)
    assert status.state == "pending_review" and tasks(client) == []
    review = status.review
    assert review["posting"]["total_claims"] == 2 and review["posting"]["auto_matched"] == 2
    (triage,) = review["triage"]
    assert (triage["line"]["claim_id"], triage["line"]["line_number"], triage["line"]["carc"]) == (
        "CLM-002",
        1,
        "50",
    )
    assert triage["line"]["date_of_service"] == "2025-02-03"
    assert triage["category"] == "medical_necessity" and triage["next_best_action"] == "appeal"
    assert triage["appeal_score"]["source"] == "rules@1" and triage["queue"] == "appeals"
    (letter,) = review["appeals"]
    assert letter["appeal_id"] == APPEAL_ID
    note = client.get_note("ENC-002").text
    assert letter["statements"] and all(
        note[s["evidence"]["start"] : s["evidence"]["end"]] == s["evidence"]["text"]
        for s in letter["statements"]
    )

    assert runtime.start_remittance(EVENT).review["run_id"] == review["run_id"]  # a repeated event: same run
    done = runtime.resume(THREAD, {"decision": "approve", "reviewer": "USR-1"})
    assert done.state == "done"
    written = tasks(client)
    assert sorted(task.kind for task in written) == ["appeal", "follow_up"]
    appeal = next(task for task in written if task.kind == "appeal")
    assert appeal.body.strip() == letter["text"].strip() and appeal.claim_id == "CLM-002"

    runtime.resume(THREAD, {"decision": "approve", "reviewer": "USR-1"})
    runtime.resume(THREAD, {"decision": "approve", "reviewer": "USR-1"})
    assert len(tasks(client)) == 2

    with sessions() as db:
        actions = [record.action for record in db.query(AuditRecord).order_by(AuditRecord.id)]
    for node in ("load", "parse", "post", "triage", "draft_appeals", "review", "write", "learn"):
        assert f"remittance.{node}" in actions


def test_an_edited_letter_is_what_gets_written(world: tuple[RemittanceRuntime, RestCrystalPM]) -> None:
    runtime, client = world
    runtime.start_remittance(EVENT)
    edited = runtime.update_appeal_draft(APPEAL_ID, "Dear reviewer,\nPlease pay line 1.\n", "USR-1")
    assert edited.editable and edited.letter.edited_by == "USR-1"
    assert runtime.status(THREAD).review["appeals"][0]["text"].startswith("Dear reviewer")
    runtime.resume(THREAD, {"decision": "approve", "reviewer": "USR-1"})
    appeal = next(task for task in tasks(client) if task.kind == "appeal")
    assert appeal.body == "Dear reviewer,\nPlease pay line 1.\n"
    assert not runtime.appeal_draft(APPEAL_ID).editable


def test_a_rejection_writes_nothing(
    world: tuple[RemittanceRuntime, RestCrystalPM],
) -> None:
    runtime, client = world
    runtime.start_remittance(EVENT)
    runtime.resume(
        THREAD, {"decision": "reject", "reviewer": "USR-1", "reason": "payer called: reprocessing"}
    )
    assert tasks(client) == []
    assert runtime.view("RMT-001").decision["decision"] == "reject"
    assert [item.status for item in runtime.worklist(["PRA-1"])] == ["rejected"]
