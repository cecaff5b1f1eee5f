"""claim_scrub against the real sandbox: a clean claim passes with an audit record; an erroneous one waits
for review, and approving it writes exactly one claim edit (however often the decision is resumed)."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agents.risk.baseline import RulesBaseline
from agents.scrub.checks import find_problems
from agents.scrub.facts import ClaimFacts, claim_input_for
from agents.scrub.fixes import CLAIM_EDIT_OPS, propose_fixes
from agents.scrub.load import FactsLoader
from api.scrub_runtime import ClaimScrubRuntime
from api.storage.audit import audit_entries
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.workflows import ReviewItemDraft
from billing.findings import Severity
from billing.settings import Settings
from graphs.claim_scrub import thread_id_for
from knowledge.base import KnowledgeBase, load_knowledge
from sandbox.dataset import SyntheticDataset
from sandbox.generator import generate_dataset
from tests.support.sandbox import running_sandbox
from tools.crystalpm import RestCrystalPM

REVIEWER = "USR-7"


class RecordingSink:
    def __init__(self) -> None:
        self.drafts: list[ReviewItemDraft] = []

    def open_item(self, draft: ReviewItemDraft) -> str:
        self.drafts.append(draft)
        return f"item-{len(self.drafts)}"


@pytest.fixture(scope="module")
def dataset() -> SyntheticDataset:
    return generate_dataset(7, 80)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("kb") / "var"))


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def _pick(loader: FactsLoader, client: RestCrystalPM, kb: KnowledgeBase) -> tuple[ClaimFacts, ClaimFacts]:
    """A clean claim (no errors, no warnings) and one with an error whose fix is a claim edit."""
    clean = erroneous = None
    for claim in client.iter_claims():
        facts = loader.facts(claim)
        claim_input = claim_input_for(facts)
        findings = find_problems(claim_input, kb, facts)
        severities = {item.severity for item in findings}
        if clean is None and not severities & {Severity.ERROR, Severity.WARNING}:
            clean = facts
        if erroneous is None and Severity.ERROR in severities:
            fixes = propose_fixes(claim_input, findings, kb, facts)
            if any(fix.edit.op in CLAIM_EDIT_OPS for fix in fixes):
                erroneous = facts
        if clean and erroneous:
            return clean, erroneous
    pytest.fail("the generated practice has no clean claim or no fixable erroneous claim")


def test_clean_claim_passes_and_erroneous_claim_writes_one_edit(
    settings: Settings, dataset: SyntheticDataset, kb: KnowledgeBase, sessions: sessionmaker[Session]
) -> None:
    today = dataset.generated_through
    with (
        running_sandbox(settings, dataset) as sandbox,
        RestCrystalPM(sandbox.base_url, sandbox.token) as client,
    ):
        clean, erroneous = _pick(FactsLoader(client, today=today), client, kb)
        sink = RecordingSink()
        runtime = ClaimScrubRuntime(
            settings, sessions, crystalpm=client, kb=kb, risk=RulesBaseline(), sink=sink, today=lambda: today
        )

        passed = runtime.scrub(clean.claim.id)
        assert (passed.state, passed.outcome) == ("done", "passed")
        assert sink.drafts == []
        with sessions() as session:
            actions = [r.action for r in audit_entries(session, thread_id=thread_id_for(clean.claim.id))]
            scored = [
                r
                for r in audit_entries(session, thread_id=thread_id_for(clean.claim.id))
                if r.action.endswith("score")
            ]
        assert actions == ["claim_scrub.load", "claim_scrub.check", "claim_scrub.score", "claim_scrub.pass"]
        assert scored[0].engine == "rules-baseline@rules@1"

        history_before = len(client.get_claim(erroneous.claim.id).history)
        waiting = runtime.scrub(erroneous.claim.id)
        assert waiting.state == "pending_review"
        assert [d.claim_id for d in sink.drafts] == [erroneous.claim.id]
        assert sink.drafts[0].has_errors and sink.drafts[0].workflow == "claim_scrub"
        fixes = waiting.review["fixes"]
        assert fixes and all(fix["edit"]["op"] for fix in fixes)

        decision = {"decision": "approve", "edited": None, "reason": "", "reviewer": REVIEWER}
        first = runtime.resume(thread_id_for(erroneous.claim.id), decision)
        second = runtime.resume(thread_id_for(erroneous.claim.id), decision)
        assert first.state == second.state == "done" and first.claim_edited
        edited = client.get_claim(erroneous.claim.id)
        assert len(edited.history) == history_before + 1
        assert "claim_scrub run" in edited.history[-1].note and REVIEWER in edited.history[-1].note
        applied = [fix["edit"] for fix in fixes if fix["edit"]["op"] == "add_modifier"]
        for edit in applied:
            assert edit["value"] in edited.lines[edit["line"] - 1].modifiers
        tasks = [
            t for t in client.iter_tasks(erroneous.claim.practice_id) if t.claim_id == erroneous.claim.id
        ]
        assert len(tasks) == len(first.task_ids) == len(set(first.task_ids))


def test_unknown_claim_event_is_dropped(
    settings: Settings, kb: KnowledgeBase, sessions: sessionmaker[Session]
) -> None:
    from billing.events import EventType, WebhookEvent

    with (
        running_sandbox(settings, generate_dataset(3, 5)) as sandbox,
        RestCrystalPM(sandbox.base_url, sandbox.token) as client,
    ):
        runtime = ClaimScrubRuntime(
            settings, sessions, crystalpm=client, kb=kb, risk=RulesBaseline(), today=date.today
        )
        event = WebhookEvent(
            id="evt-1",
            type=EventType.CLAIM_READY,
            practice_id="prac-1",
            occurred_at="2026-01-01T00:00:00Z",
            data={"claim_id": "clm-missing"},
        )
        assert runtime.start_claim_scrub(event).state == "not_started"
