"""charge_coding against the real sandbox: interrupt, resume, idempotent write, feedback, audit, learning."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from agents.coding.offline import OfflineCoder
from api.coding_runtime import ChromaCodingRetriever
from api.storage.audit import AuditLog, audit_entries
from api.storage.checkpoints import make_checkpointer
from api.storage.db import create_db_engine, create_session_factory
from api.storage.feedback import FeedbackLog
from api.storage.migrate import migrate_engine
from api.storage.models import AuditRecord
from billing.charges import Charge
from billing.settings import Settings
from graphs.charge_coding import build_charge_coding_graph, thread_id_for
from knowledge.base import KnowledgeBase, load_knowledge
from knowledge.vectorstore import open_chroma
from tests.support.coding_data import GLAUCOMA_NOTE, coding_dataset
from tests.support.sandbox import SandboxHandle, running_sandbox
from tools.crystalpm import CrystalPM, RestCrystalPM

REVIEWER = "USR-2"


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("kb") / "var"))


@pytest.fixture(scope="module")
def offline(kb: KnowledgeBase) -> OfflineCoder:
    return OfflineCoder(kb)


@pytest.fixture
def sandbox(settings: Settings) -> Iterator[SandboxHandle]:
    with running_sandbox(settings, coding_dataset()) as handle:
        yield handle


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fovea.db'}")
    migrate_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


class CrashAfterPost:
    """The real client, except that the first draft-charge POST 'crashes' after Crystal PM stored it."""

    def __init__(self, client: CrystalPM) -> None:
        self.client = client
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def post_draft_charge(self, charge: Charge, idempotency_key: str) -> Charge:
        posted = self.client.post_draft_charge(charge, idempotency_key)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("worker died before the checkpoint was saved")
        return posted


@dataclass
class Harness:
    settings: Settings
    sandbox: SandboxHandle
    client: RestCrystalPM
    offline: OfflineCoder
    kb: KnowledgeBase
    retriever: ChromaCodingRetriever
    audit: AuditLog
    feedback: FeedbackLog
    sessions: sessionmaker[Session]

    @contextmanager
    def graph(self, crystalpm: CrystalPM | None = None) -> Iterator[CompiledStateGraph]:
        """The graph on a NEW checkpointer instance over the same SQLite file (as another process would)."""
        with make_checkpointer(self.settings) as checkpointer:
            yield build_charge_coding_graph(
                crystalpm=crystalpm or self.client,
                suggester=self.offline,
                kb=self.kb,
                retriever=self.retriever,
                audit=self.audit,
                feedback=self.feedback,
                checkpointer=checkpointer,
            )

    def charges(self, encounter_id: str) -> list[Charge]:
        return list(self.client.iter_charges(encounter_id=encounter_id))

    def run_to_review(self, encounter_id: str) -> dict[str, Any]:
        with self.graph() as graph:
            paused = graph.invoke({"encounter_id": encounter_id}, config(encounter_id))
        (pending,) = paused["__interrupt__"]
        return pending.value

    def resume(self, encounter_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        with self.graph() as graph:
            return graph.invoke(Command(resume={"reviewer": REVIEWER, **decision}), config(encounter_id))


def config(encounter_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id_for(encounter_id)}}


@pytest.fixture
def harness(
    settings: Settings,
    sandbox: SandboxHandle,
    offline: OfflineCoder,
    kb: KnowledgeBase,
    sessions: sessionmaker[Session],
) -> Iterator[Harness]:
    with RestCrystalPM(sandbox.base_url, sandbox.token) as client:
        yield Harness(
            settings=settings,
            sandbox=sandbox,
            client=client,
            offline=offline,
            kb=kb,
            retriever=ChromaCodingRetriever(open_chroma(settings)),
            audit=AuditLog(sessions),
            feedback=FeedbackLog(sessions),
            sessions=sessions,
        )


def codes_of(charge: Charge) -> tuple[list[str], list[str]]:
    return charge.diagnosis_codes, ["-".join([line.code, *line.modifiers]) for line in charge.lines]


def test_the_graph_stops_at_review_with_the_suggestion_and_writes_nothing(harness: Harness) -> None:
    review = harness.run_to_review("ENC-006")

    suggestion = review["suggestion"]
    assert review["thread_id"] == "encounter:ENC-006"
    assert suggestion["engine"] == "offline"
    assert "H40.1131" in [d["code"] for d in suggestion["diagnoses"]]
    assert suggestion["lines"], "a glaucoma follow-up with OCT bills at least one service"
    assert all(
        GLAUCOMA_NOTE[span["start"] : span["end"]] == span["text"]
        for item in suggestion["diagnoses"]
        for span in item["evidence"]
    )
    assert review["confidence"] == suggestion["confidence"]
    assert isinstance(review["findings"], list)
    assert harness.charges("ENC-006") == []
    with harness.graph() as graph:
        assert graph.get_state(config("ENC-006")).next == ("review",)

    with harness.sessions() as session:
        records = audit_entries(session, thread_id="encounter:ENC-006")
    assert [r.action for r in records] == [
        "charge_coding.load_context",
        "charge_coding.retrieve",
        "charge_coding.suggest",
        "charge_coding.validate",
    ]
    suggest_record = records[2]
    assert suggest_record.actor == "engine:offline" and suggest_record.engine.startswith("offline@")
    assert all(
        r.patient_id == "PAT-001" and r.practice_id == "PRA-1" and len(r.inputs_hash) == 64 for r in records
    )
    logged = json.dumps([r.detail for r in records])
    assert "latanoprost" not in logged and "Testwood" not in logged  # no note text, no patient name


def test_approve_writes_one_ai_suggested_draft_however_often_it_is_resumed(harness: Harness) -> None:
    review = harness.run_to_review("ENC-006")
    done = harness.resume("ENC-006", {"decision": "approve"})
    harness.resume("ENC-006", {"decision": "approve"})  # a double click, on a new checkpointer instance

    (charge,) = harness.charges("ENC-006")
    assert charge.id == done["charge_id"]
    assert charge.source == "ai_suggested" and charge.status == "draft"
    suggestion = review["suggestion"]
    assert [line.code for line in charge.lines] == [line["code"] for line in suggestion["lines"]]
    assert set(charge.diagnosis_codes) >= {d["code"] for d in suggestion["diagnoses"]}
    fees = {"92012": "110.00", "92014": "165.00", "92133": "55.00", "99213": "120.00", "99214": "165.00"}
    for line in charge.lines:
        if line.code in fees:
            assert str(line.fee) == fees[line.code]
        assert all(1 <= pointer <= len(charge.diagnosis_codes) for pointer in line.diagnosis_pointers)

    (feedback,) = harness.feedback.for_thread("encounter:ENC-006")
    assert feedback.decision == "approve" and feedback.reviewer == REVIEWER
    assert feedback.diff["unchanged"] is True
    remembered = harness.retriever.similar_encounters(GLAUCOMA_NOTE, practice_id="PRA-1")
    assert remembered and remembered[0].encounter_id == "ENC-006" and remembered[0].similarity > 0.99


def test_a_crash_between_review_and_write_resumes_without_a_duplicate(harness: Harness) -> None:
    harness.run_to_review("ENC-006")
    crashing = CrashAfterPost(harness.client)
    with harness.graph(crashing) as graph, pytest.raises(RuntimeError, match="worker died"):
        graph.invoke(Command(resume={"decision": "approve", "reviewer": REVIEWER}), config("ENC-006"))
    (stored,) = harness.charges("ENC-006")  # Crystal PM got the charge; our checkpoint did not

    with harness.graph() as graph:  # a new process: new checkpointer instance, new client
        assert graph.get_state(config("ENC-006")).next == ("write",)
        finished = graph.invoke(None, config("ENC-006"))
        assert graph.get_state(config("ENC-006")).next == ()
    (charge,) = harness.charges("ENC-006")
    assert charge.id == stored.id == finished["charge_id"]
    assert len(harness.feedback.for_thread("encounter:ENC-006")) == 1


def test_edit_writes_the_edited_codes_and_stores_the_diff(harness: Harness) -> None:
    review = harness.run_to_review("ENC-006")
    suggested_lines = [line["code"] for line in review["suggestion"]["lines"]]
    edited = {
        "diagnosis_codes": ["H40.1132"],
        "lines": [
            {"code": "92014", "diagnosis_codes": ["H40.1132"]},
            {"code": "92133", "diagnosis_codes": ["H40.1132"]},
        ],
    }
    harness.resume("ENC-006", {"decision": "edit", "edited": edited, "reason": "moderate stage per OCT"})

    (charge,) = harness.charges("ENC-006")
    assert codes_of(charge) == (["H40.1132"], ["92014", "92133"])
    assert [line.diagnosis_pointers for line in charge.lines] == [[1], [1]]
    (feedback,) = harness.feedback.for_thread("encounter:ENC-006")
    assert feedback.decision == "edit" and feedback.reason == "moderate stage per OCT"
    assert feedback.final == {
        "diagnosis_codes": ["H40.1132"],
        "lines": [
            {"code": "92014", "modifiers": [], "units": 1, "diagnosis_codes": ["H40.1132"]},
            {"code": "92133", "modifiers": [], "units": 1, "diagnosis_codes": ["H40.1132"]},
        ],
    }
    assert feedback.diff["diagnoses_added"] == ["H40.1132"]
    assert "H40.1131" in feedback.diff["diagnoses_removed"]
    assert feedback.diff["lines_added"] == [
        code for code in ["92014", "92133"] if code not in suggested_lines
    ]
    assert feedback.diff["unchanged"] is False


def test_reject_writes_nothing_and_stores_the_feedback(harness: Harness) -> None:
    harness.run_to_review("ENC-006")
    done = harness.resume("ENC-006", {"decision": "reject", "reason": "visit was a no-show"})

    assert "charge_id" not in done
    assert harness.charges("ENC-006") == []
    (feedback,) = harness.feedback.for_thread("encounter:ENC-006")
    assert feedback.decision == "reject" and feedback.final is None
    assert feedback.diff["unchanged"] is False
    assert harness.retriever.similar_encounters(GLAUCOMA_NOTE, practice_id="PRA-1") == []
    with harness.sessions() as session:
        actions = [r.action for r in audit_entries(session, thread_id="encounter:ENC-006")]
    assert actions[-2:] == ["charge_coding.review", "charge_coding.learn"]
    assert "charge_coding.write" not in actions


def test_the_audit_chain_verifies_and_exposes_tampering(harness: Harness) -> None:
    harness.run_to_review("ENC-006")
    harness.resume("ENC-006", {"decision": "approve"})
    check = harness.audit.verify()
    assert check.ok and check.records == 7
    with harness.sessions() as session:
        records = audit_entries(session)
        assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
        review = next(r for r in records if r.action == "charge_coding.review")
        assert review.actor == f"user:{REVIEWER}"
        session.execute(
            update(AuditRecord).where(AuditRecord.id == review.id).values(actor="user:someone-else")
        )
        session.commit()
    tampered = harness.audit.verify()
    assert not tampered.ok and tampered.first_bad_id == review.id


def test_an_edited_approval_teaches_the_next_near_identical_note(harness: Harness) -> None:
    """The issue's quality bar: learn -> encounters collection -> retrieve -> the offline coder's vote."""
    first = harness.run_to_review("ENC-007")
    suggested = {d["code"] for d in first["suggestion"]["diagnoses"]}
    taught = "H16.223"  # keratoconjunctivitis sicca, bilateral: the reviewer reads the staining that way
    assert taught not in suggested, "the lesson must be something the note alone did not give"
    lines = [{"code": "92012", "diagnosis_codes": [taught]}]
    harness.resume("ENC-007", {"decision": "edit", "edited": {"diagnosis_codes": [taught], "lines": lines}})

    second = harness.run_to_review("ENC-008")
    with harness.sessions() as session:
        (retrieval,) = [
            r for r in audit_entries(session, thread_id="encounter:ENC-008") if r.action.endswith("retrieve")
        ]
    nearest = retrieval.detail["similar_encounters"][0]
    assert nearest["encounter_id"] == "ENC-007" and nearest["similarity"] > 0.9
    assert taught in [d["code"] for d in second["suggestion"]["diagnoses"]]
