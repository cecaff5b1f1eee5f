"""Composition of the claim_scrub graph: the Crystal PM client, knowledge, the denial model and the stores.

`ClaimScrubRuntime.start_claim_scrub(event)` is the worker's `claim.ready` handler; `scrub(claim_id)` runs
one claim (the API's run endpoint); `scan(claims)` runs many with facts gathered in bulk (the CLI). A run
stops at review when the claim has errors or its risk is above low, and the runtime reports it to the
review queue; `resume(thread_id, decision)` applies the queue's decision (the WorkflowRuntime contract).
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import date
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from agents.risk.schemas import RiskScorer
from agents.risk.store import load_risk_scorer
from agents.scrub.facts import ClaimFacts
from api.graph_runs import RunState, apply_decision, run_state, thread_config
from api.storage.audit import AuditBatch, AuditLog
from api.storage.checkpoints import make_checkpointer
from api.storage.feedback import FeedbackLog
from api.workflows import ReviewItemDraft, ReviewSink
from billing.events import WebhookEvent
from billing.money import money_str
from billing.settings import Settings
from graphs.claim_scrub import ScrubDecision, build_claim_scrub_graph, thread_id_for
from graphs.ports import AuditSink
from knowledge.base import KnowledgeBase, load_knowledge
from tools.crystalpm import CrystalPM, NotFound, make_crystalpm

log = logging.getLogger("fovea.claim_scrub")

# A scan appends the audit records of this many passed claims in one transaction.
SCAN_AUDIT_CLAIMS = 25


class ScrubStatus(BaseModel):
    thread_id: str
    state: RunState
    outcome: str = ""
    review: dict[str, Any] | None = None
    risk: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = []
    claim_edited: bool = False
    task_ids: list[str] = []


class ClaimScrubRuntime:
    """Builds and runs the claim_scrub graph; knowledge and the risk model are loaded on first use."""

    workflow = "claim_scrub"

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        crystalpm: CrystalPM | None = None,
        kb: KnowledgeBase | None = None,
        risk: RiskScorer | None = None,
        sink: ReviewSink | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.today = today
        self.audit = AuditLog(sessions)
        self.feedback = FeedbackLog(sessions)
        self._crystalpm = crystalpm
        self._kb = kb
        self._risk = risk
        self._setup_lock = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}

    def _dependencies(self) -> tuple[KnowledgeBase, RiskScorer]:
        with self._setup_lock:
            if self._kb is None:
                self._kb = load_knowledge(self.settings)
            if self._risk is None:
                self._risk = load_risk_scorer(self.settings)
            return self._kb, self._risk

    def reload_model(self) -> None:
        """Pick up a newly trained model on the next run."""
        with self._setup_lock:
            self._risk = None

    @contextmanager
    def _crystalpm_client(self) -> Iterator[CrystalPM]:
        if self._crystalpm is not None:
            yield self._crystalpm
            return
        with closing(make_crystalpm(self.settings)) as client:
            yield client

    def _lock(self, thread_id: str) -> threading.Lock:
        with self._setup_lock:
            return self._thread_locks.setdefault(thread_id, threading.Lock())

    @contextmanager
    def _graph(self, thread_id: str | None, audit: AuditSink | None = None) -> Iterator[CompiledStateGraph]:
        """The compiled graph on a fresh checkpointer; holding the thread's lock when a thread is named."""
        kb, risk = self._dependencies()
        lock = self._lock(thread_id) if thread_id else contextlib.nullcontext()
        with lock, self._crystalpm_client() as crystalpm, make_checkpointer(self.settings) as checkpointer:
            yield build_claim_scrub_graph(
                crystalpm=crystalpm,
                kb=kb,
                risk=risk,
                audit=audit or self.audit,
                feedback=self.feedback,
                checkpointer=checkpointer,
                today=self.today,
            )

    @staticmethod
    def _config(thread_id: str) -> dict[str, Any]:
        return thread_config(thread_id)

    def _status(self, graph: CompiledStateGraph, thread_id: str) -> ScrubStatus:
        state, pending, values, _ = run_state(graph, thread_id)
        return ScrubStatus(
            thread_id=thread_id,
            state=state,
            outcome=values.get("outcome", ""),
            review=pending[0] if pending else None,
            risk=values.get("risk"),
            findings=values.get("findings", []),
            claim_edited=bool(values.get("claim_edited")),
            task_ids=values.get("task_ids", []),
        )

    def status(self, thread_id: str) -> ScrubStatus:
        with self._graph(thread_id) as graph:
            return self._status(graph, thread_id)

    def start_claim_scrub(self, event: WebhookEvent) -> ScrubStatus:
        """The claim.ready handler: scrub the event's claim (an unknown claim is logged and dropped)."""
        claim_id = event.data.get("claim_id")
        if not isinstance(claim_id, str) or not claim_id:
            raise ValueError("a claim.ready event needs data.claim_id")
        try:
            return self.scrub(claim_id)
        except NotFound:
            # Permanent: retrying the event would not make the claim appear.
            log.warning("claim.ready for an unknown claim", extra={"thread_id": thread_id_for(claim_id)})
            return ScrubStatus(thread_id=thread_id_for(claim_id), state="not_started")

    def practice_of(self, claim_id: str) -> str:
        """The practice a claim belongs to (NotFound when Crystal PM has no such claim)."""
        with self._crystalpm_client() as client:
            return client.get_claim(claim_id).practice_id

    def scrub(self, claim_id: str) -> ScrubStatus:
        """Run the claim's scrub to a pass or a review; a run waiting for review is left as it is."""
        audit = AuditBatch(self.audit)
        with self._graph(None, audit) as graph:
            status, draft = self._run(graph, audit, claim_id, None)
        # Reported outside the thread's lock: an autopilot approval resumes this same thread.
        if draft is not None and self.sink is not None:
            self.sink.open_item(draft)
        return status

    def scan(
        self, claims: Iterator[ClaimFacts], on_claim: Callable[[str, ScrubStatus | Exception], None]
    ) -> None:
        """Scrub many claims on one graph; a claim that fails is reported to on_claim and the scan goes on.

        Passed claims' audit records are appended SCAN_AUDIT_CLAIMS claims at a time, and the claims are
        reported only once their records are written; a review item, a failure and the end flush first.
        """
        audit = AuditBatch(self.audit)
        passed: list[tuple[str, ScrubStatus]] = []

        def report_passed() -> None:
            audit.flush()
            for claim_id, status in passed:
                on_claim(claim_id, status)
            passed.clear()

        with self._graph(None, audit) as graph, audit.holding():
            try:
                for facts in claims:
                    try:
                        status, draft = self._run(graph, audit, facts.claim.id, facts)
                        if draft is not None:
                            # The review item (and an autopilot decision on it) follows its run in the chain.
                            report_passed()
                            if self.sink is not None:
                                self.sink.open_item(draft)
                    except (
                        Exception
                    ) as exc:  # one broken claim must not stop the scan: it is reported instead
                        report_passed()
                        on_claim(facts.claim.id, exc)
                        continue
                    if draft is not None:
                        on_claim(facts.claim.id, status)
                        continue
                    passed.append((facts.claim.id, status))
                    if len(passed) >= SCAN_AUDIT_CLAIMS:
                        report_passed()
            finally:
                report_passed()

    def _run(
        self, graph: CompiledStateGraph, audit: AuditBatch, claim_id: str, facts: ClaimFacts | None
    ) -> tuple[ScrubStatus, ReviewItemDraft | None]:
        thread_id = thread_id_for(claim_id)
        with self._lock(thread_id):
            status = self._status(graph, thread_id)
            if status.state == "interrupted":
                # Finishing an approved write edits Crystal PM: each of its steps is audited as it happens.
                with audit.writing_through():
                    graph.invoke(None, self._config(thread_id))
            elif status.state != "pending_review":
                payload: dict[str, Any] = {"claim_id": claim_id}
                if facts is not None:
                    payload["facts"] = facts.model_dump(mode="json")
                # Up to pass or review nothing is written anywhere but the audit log, so a crash simply re-runs
                # the scrub: one checkpoint at the end (or at the interrupt) instead of one per step, and the
                # run's audit records appended in one transaction when it stops (or fails).
                with audit.holding():
                    graph.invoke(payload, self._config(thread_id), durability="exit")
            status = self._status(graph, thread_id)
            draft = self._draft(graph, status) if status.review is not None else None
        log.info("claim scrub ran", extra={"thread_id": thread_id, "state": status.state})
        return status, draft

    def _draft(self, graph: CompiledStateGraph, status: ScrubStatus) -> ReviewItemDraft:
        review = status.review or {}
        facts = ClaimFacts.model_validate(graph.get_state(self._config(status.thread_id)).values["facts"])
        errors = [f for f in review.get("findings", []) if f.get("severity") == "error"]
        risk = review.get("risk", {})
        return ReviewItemDraft(
            workflow=self.workflow,
            thread_id=status.thread_id,
            practice_id=facts.claim.practice_id,
            title=(
                f"Claim {facts.claim.id}: {len(errors)} error(s), {risk.get('band', '?')} denial risk, "
                f"{len(review.get('fixes', []))} fix(es)"
            ),
            payload=review,
            confidence=1.0 - float(risk.get("score", 0.0)),
            payer=facts.payer_name,
            patient_id=facts.claim.patient_id,
            encounter_id=facts.claim.encounter_id,
            claim_id=facts.claim.id,
            has_errors=bool(errors),
            amount=money_str(facts.claim.total_charge),
        )

    def resume(self, thread_id: str, decision: dict[str, Any]) -> ScrubStatus:
        """Apply the queue's decision; after a crash finish what it started; a finished run is left alone."""
        resume_with = ScrubDecision.model_validate(decision).model_dump(mode="json")
        with self._graph(thread_id) as graph:
            return apply_decision(graph, thread_id, resume_with, lambda: self._status(graph, thread_id))
