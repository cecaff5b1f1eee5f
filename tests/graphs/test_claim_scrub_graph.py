"""claim_scrub against the real sandbox: a clean claim passes with an audit record; an erroneous one waits
for review, and approving it writes exactly one claim edit (however often the decision is resumed)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
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
from billing.claims import ClaimStatus
from billing.events import EventType, WebhookEvent
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
    """A clean claim (no errors, no warnings) and an open one (the sandbox refuses edits to a closed claim,
    e.g. after a lost appeal) with an error whose fix is a claim edit."""
    clean = erroneous = None
    for claim in client.iter_claims():
        facts = loader.facts(claim)
        claim_input = claim_input_for(facts)
        findings = find_problems(claim_input, kb, facts)
        severities = {item.severity for item in findings}
        if clean is None and not severities & {Severity.ERROR, Severity.WARNING}:
            clean = facts
        if erroneous is None and claim.status != ClaimStatus.CLOSED and Severity.ERROR in severities:
            fixes = propose_fixes(claim_input, findings, kb, facts)
            if any(fix.edit.op in CLAIM_EDIT_OPS for fix in fixes):
                erroneous = facts
        if clean and erroneous:
            return clean, erroneous
    pytest.fail("the generated practice has no clean claim or no fixable erroneous claim")


@dataclass
class Practice:
    settings: Settings
    client: RestCrystalPM
    clean: ClaimFacts
    erroneous: ClaimFacts
    others: list[ClaimFacts]
    today: date


@pytest.fixture(scope="module")
def practice(
    tmp_path_factory: pytest.TempPathFactory, dataset: SyntheticDataset, kb: KnowledgeBase
) -> Iterator[Practice]:
    settings = Settings(
        _env_file=None,
        mode="development",
        data_dir=tmp_path_factory.mktemp("scrub") / "var",
        crystalpm_token="test-crystalpm-token",
        sandbox_admin_token="test-sandbox-admin-token",
    )
    today = dataset.generated_through
    with (
        running_sandbox(settings, dataset) as sandbox,
        RestCrystalPM(sandbox.base_url, sandbox.token) as client,
    ):
        loader = FactsLoader(client, today=today)
        clean, erroneous = _pick(loader, client, kb)
        skip = (clean.claim.id, erroneous.claim.id)
        others = [loader.facts(claim) for claim in islice(client.iter_claims(), 6) if claim.id not in skip][
            :3
        ]
        yield Practice(settings, client, clean, erroneous, others, today)


def _runtime(
    practice: Practice, sessions: sessionmaker[Session], kb: KnowledgeBase, **kwargs: object
) -> ClaimScrubRuntime:
    values: dict[str, object] = {"risk": RulesBaseline(), **kwargs}
    return ClaimScrubRuntime(
        practice.settings, sessions, crystalpm=practice.client, kb=kb, today=lambda: practice.today, **values
    )


def test_clean_claim_passes_silently_with_an_audit_record(
    practice: Practice, kb: KnowledgeBase, sessions: sessionmaker[Session]
) -> None:
    sink = RecordingSink()
    passed = _runtime(practice, sessions, kb, sink=sink).scrub(practice.clean.claim.id)
    assert (passed.state, passed.outcome) == ("done", "passed")
    assert sink.drafts == []
    with sessions() as session:
        records = audit_entries(session, thread_id=thread_id_for(practice.clean.claim.id))
    assert [r.action for r in records] == [
        "claim_scrub.load",
        "claim_scrub.check",
        "claim_scrub.score",
        "claim_scrub.pass",
    ]
    assert {r.claim_id for r in records} == {practice.clean.claim.id}
    assert records[2].engine == "rules-baseline@rules@1"


def test_erroneous_claim_waits_and_approval_writes_one_claim_edit(
    practice: Practice, kb: KnowledgeBase, sessions: sessionmaker[Session]
) -> None:
    client, claim_id = practice.client, practice.erroneous.claim.id
    sink = RecordingSink()
    runtime = _runtime(practice, sessions, kb, sink=sink)
    history_before = len(client.get_claim(claim_id).history)
    waiting = runtime.scrub(claim_id)
    assert waiting.state == "pending_review"
    assert [d.claim_id for d in sink.drafts] == [claim_id]
    assert sink.drafts[0].has_errors and sink.drafts[0].workflow == "claim_scrub"
    fixes = waiting.review["fixes"]
    assert fixes and any(fix["edit"]["op"] in CLAIM_EDIT_OPS for fix in fixes)

    decision = {"decision": "approve", "edited": None, "reason": "", "reviewer": REVIEWER}
    first = runtime.resume(thread_id_for(claim_id), decision)
    second = runtime.resume(thread_id_for(claim_id), decision)
    assert first.state == second.state == "done" and first.claim_edited
    edited = client.get_claim(claim_id)
    assert len(edited.history) == history_before + 1
    assert "claim_scrub run" in edited.history[-1].note and REVIEWER in edited.history[-1].note
    for edit in (fix["edit"] for fix in fixes if fix["edit"]["op"] == "add_modifier"):
        assert edit["value"] in edited.lines[edit["line"] - 1].modifiers
    tasks = [t for t in client.iter_tasks(edited.practice_id) if t.claim_id == claim_id]
    assert len(tasks) == len(first.task_ids) == len(set(first.task_ids))


class ExplodingRisk(RulesBaseline):
    """The rules baseline, except on one claim, standing for a claim whose scrub breaks."""

    def __init__(self, claim_id: str) -> None:
        self.claim_id = claim_id

    def score(self, claim, findings, facts=None):  # type: ignore[no-untyped-def]
        if facts is not None and facts.claim.id == self.claim_id:
            raise RuntimeError("this claim breaks the scorer")
        return super().score(claim, findings, facts)


def test_scan_goes_on_past_a_broken_claim(
    practice: Practice, kb: KnowledgeBase, sessions: sessionmaker[Session]
) -> None:
    broken = practice.others[1].claim.id
    runtime = _runtime(practice, sessions, kb, risk=ExplodingRisk(broken))
    seen: dict[str, object] = {}
    runtime.scan(iter(practice.others), lambda claim_id, outcome: seen.setdefault(claim_id, outcome))
    assert list(seen) == [facts.claim.id for facts in practice.others]
    assert isinstance(seen[broken], RuntimeError)
    assert all(
        getattr(seen[f.claim.id], "state", "") in ("done", "pending_review")
        for f in practice.others
        if f.claim.id != broken
    )


def test_unknown_claim_event_is_dropped(
    practice: Practice, kb: KnowledgeBase, sessions: sessionmaker[Session]
) -> None:
    event = WebhookEvent(
        id="evt-1",
        type=EventType.CLAIM_READY,
        practice_id="prac-1",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        data={"claim_id": "clm-missing"},
    )
    assert _runtime(practice, sessions, kb).start_claim_scrub(event).state == "not_started"
