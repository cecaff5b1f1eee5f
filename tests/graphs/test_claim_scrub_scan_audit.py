"""A claim_scrub scan appends audit records in batches without losing or reordering any: a passed claim is
reported only once its records are written, a review item only after its run's records, a broken claim's
steps are still audited, and the whole chain verifies."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agents.risk.baseline import RulesBaseline
from agents.scrub.facts import ClaimFacts
from api.scrub_runtime import SCAN_AUDIT_CLAIMS, ClaimScrubRuntime, ScrubStatus
from api.storage.audit import audit_entries, verify_chain
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from api.workflows import ReviewItemDraft
from billing.settings import Settings
from evals.scrub import labeled_claims
from graphs.claim_scrub import thread_id_for
from knowledge.base import KnowledgeBase, load_knowledge
from sandbox.generator import generate_dataset

SCRUB_STEPS = ["claim_scrub.load", "claim_scrub.check", "claim_scrub.score"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(_env_file=None, mode="development", data_dir=tmp_path_factory.mktemp("scan") / "var")


@pytest.fixture(scope="module")
def kb(settings: Settings) -> KnowledgeBase:
    return load_knowledge(settings)


@pytest.fixture(scope="module")
def claims() -> list[ClaimFacts]:
    facts = [item.facts for item in labeled_claims(generate_dataset(7, 40))]
    assert len(facts) > 2 * SCAN_AUDIT_CLAIMS, "enough claims for several audit batches"
    return facts[: 2 * SCAN_AUDIT_CLAIMS + 10]


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def steps_of(sessions: sessionmaker[Session], claim_id: str) -> list[str]:
    with sessions() as session:
        return [r.action for r in audit_entries(session, thread_id=thread_id_for(claim_id))]


class ExplodingRisk(RulesBaseline):
    """The rules baseline, except on one claim, standing for a claim whose scrub breaks."""

    def __init__(self, claim_id: str) -> None:
        self.claim_id = claim_id

    def score(self, claim, findings, facts=None):  # type: ignore[no-untyped-def]
        if facts is not None and facts.claim.id == self.claim_id:
            raise RuntimeError("this claim breaks the scorer")
        return super().score(claim, findings, facts)


class AuditCheckingSink:
    """Notes, when a review item opens, which of the claim's steps the audit log already holds."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.steps_at_open: dict[str, list[str]] = {}

    def open_item(self, draft: ReviewItemDraft) -> str:
        self.steps_at_open[draft.claim_id] = steps_of(self.sessions, draft.claim_id)
        return f"item-{len(self.steps_at_open)}"


def test_scan_audits_every_claim_before_reporting_it(
    settings: Settings, kb: KnowledgeBase, claims: list[ClaimFacts], sessions: sessionmaker[Session]
) -> None:
    broken = claims[SCAN_AUDIT_CLAIMS + 3].claim.id
    sink = AuditCheckingSink(sessions)
    runtime = ClaimScrubRuntime(settings, sessions, kb=kb, risk=ExplodingRisk(broken), sink=sink)
    reported: list[str] = []
    steps_when_reported: dict[str, list[str]] = {}

    def on_claim(claim_id: str, outcome: ScrubStatus | Exception) -> None:
        reported.append(claim_id)
        steps_when_reported[claim_id] = steps_of(sessions, claim_id)
        if claim_id == broken:
            assert isinstance(outcome, RuntimeError)
        else:
            assert isinstance(outcome, ScrubStatus)
            expected = SCRUB_STEPS + (["claim_scrub.pass"] if outcome.state == "done" else [])
            assert steps_when_reported[claim_id] == expected

    runtime.scan(iter(claims), on_claim)

    assert reported == [facts.claim.id for facts in claims]  # in order, each once, none lost
    assert sink.steps_at_open and all(steps == SCRUB_STEPS for steps in sink.steps_at_open.values())
    passed = [c for c, steps in steps_when_reported.items() if steps[-1:] == ["claim_scrub.pass"]]
    assert len(passed) > SCAN_AUDIT_CLAIMS, "the scan flushed passed claims in more than one batch"
    # The broken claim's steps up to the failure are audited all the same.
    assert steps_of(sessions, broken) == ["claim_scrub.load", "claim_scrub.check"]
    with sessions() as session:
        check = verify_chain(session)
    assert check.ok and check.records == 4 * len(passed) + 3 * len(sink.steps_at_open) + 2
