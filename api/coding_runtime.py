"""Composition of the charge_coding graph: the real Crystal PM client, engine, knowledge, Chroma and stores.

`ChargeCodingRuntime.start_charge_coding(event)` is the worker's `note.finalized` handler: it runs the
graph for thread `encounter:<id>` up to the review interrupt. `resume_charge_coding(thread_id, decision)`
resumes that interrupt with a reviewer's decision (approve, edit or reject).

It is the review queue's WorkflowRuntime for `charge_coding` (api.workflows): when a run stops at review it
reports the interrupt to the ReviewSink, and `resume(thread_id, decision)` applies the queue's decision.
`shadow_charge_coding(event)` is the shadow-mode handler: it runs the graph on its own thread to the review,
stores the suggestion for comparison with staff's coding, and opens no review item.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from chromadb.api import ClientAPI
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from agents.coding.engines import make_code_suggester
from agents.coding.schemas import (
    CodeSuggester,
    CodeSuggestion,
    PolicyPassage,
    SimilarEncounter,
    SuggestedLine,
)
from agents.tracing import tracing_scope
from api.features import ShadowComparer
from api.graph_runs import ReviewNotPending, RunState, apply_decision, run_state, thread_config
from api.storage.audit import AuditLog
from api.storage.checkpoints import make_checkpointer
from api.storage.feedback import FeedbackLog
from api.workflows import ReviewItemDraft, ReviewSink
from billing.events import WebhookEvent
from billing.findings import Severity
from billing.money import ZERO, money_str
from billing.settings import Settings
from graphs.charge_coding import (
    Coding,
    ReviewDecision,
    VisitContext,
    build_charge_coding_graph,
    coding_diff,
    draft_charge,
    thread_id_for,
)
from graphs.ports import CodingRetriever
from knowledge.base import KnowledgeBase, load_knowledge
from knowledge.vectorstore import (
    CodedEncounter,
    open_chroma,
    search_policies,
    similar_encounters,
    upsert_encounters,
)
from tools.crystalpm import CrystalPM, NotFound, make_crystalpm

log = logging.getLogger("fovea.charge_coding")


class ChromaCodingRetriever:
    """The graph's retriever (graphs.ports.CodingRetriever) over the Chroma collections."""

    def __init__(self, client: ClientAPI) -> None:
        self.client = client

    def similar_encounters(
        self, note: str, *, practice_id: str, exclude_encounter_id: str = "", k: int = 5
    ) -> list[SimilarEncounter]:
        hits = similar_encounters(self.client, note, k=k + 1, where={"practice_id": practice_id})
        return [
            SimilarEncounter(
                encounter_id=hit.encounter_id,
                similarity=min(1.0, max(0.0, 1.0 - hit.distance)),
                note_text=hit.text,
                diagnosis_codes=hit.diagnosis_codes,
                lines=[
                    SuggestedLine(
                        code=line.code,
                        modifiers=line.modifiers,
                        units=line.units,
                        diagnosis_codes=hit.diagnosis_codes,
                    )
                    for line in hit.procedure_codes
                ],
                payer_kind=hit.payer_kind,
            )
            for hit in hits
            if hit.encounter_id != exclude_encounter_id
        ][:k]

    def payer_policies(self, text: str, *, payer_kind: str, k: int = 4) -> list[PolicyPassage]:
        return [
            PolicyPassage(policy_id=hit.policy_id, title=hit.title, section=hit.section, text=hit.text)
            for hit in search_policies(self.client, text, k=k, payer_kind=payer_kind or None)
        ]

    def remember(self, encounter: CodedEncounter) -> None:
        upsert_encounters(self.client, [encounter])


class RunStatus(BaseModel):
    """Where a charge_coding thread stands; `review` is the interrupt payload while a review is pending."""

    thread_id: str
    state: RunState
    next: list[str] = []
    review: dict[str, Any] | None = None
    charge_id: str | None = None
    decision: dict[str, Any] | None = None


def shadow_thread_id_for(encounter_id: str) -> str:
    """Shadow runs keep threads of their own, so they never meet the review queue's thread."""
    return f"shadow:{thread_id_for(encounter_id)}"


class ChargeCodingRuntime:
    """Builds and runs the charge_coding graph; engines, knowledge and Chroma are opened on first use.

    Runs of the same thread are serialized in this process; each call opens its own checkpointer and
    Crystal PM client, so worker threads share nothing mutable but the engine and Chroma client.
    """

    workflow = "charge_coding"

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        crystalpm: CrystalPM | None = None,
        suggester: CodeSuggester | None = None,
        kb: KnowledgeBase | None = None,
        retriever: CodingRetriever | None = None,
        sink: ReviewSink | None = None,
        shadow: ShadowComparer | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.shadow = shadow
        self.audit = AuditLog(sessions)
        self.feedback = FeedbackLog(sessions)
        self._crystalpm = crystalpm
        self._suggester = suggester
        self._kb = kb
        self._retriever = retriever
        self._setup_lock = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}

    def _dependencies(self) -> tuple[CodeSuggester, KnowledgeBase, CodingRetriever]:
        with self._setup_lock:
            if self._kb is None:
                self._kb = load_knowledge(self.settings)
            if self._suggester is None:
                self._suggester = make_code_suggester(self.settings, kb=self._kb)
            if self._retriever is None:
                self._retriever = ChromaCodingRetriever(open_chroma(self.settings))
            return self._suggester, self._kb, self._retriever

    @contextmanager
    def _crystalpm_client(self) -> Iterator[CrystalPM]:
        if self._crystalpm is not None:
            yield self._crystalpm
            return
        with closing(make_crystalpm(self.settings)) as client:
            yield client

    @contextmanager
    def _graph(self, thread_id: str) -> Iterator[CompiledStateGraph]:
        """The compiled graph on a fresh checkpointer, holding the thread's lock, in the tracing scope."""
        suggester, kb, retriever = self._dependencies()
        with self._setup_lock:
            lock = self._thread_locks.setdefault(thread_id, threading.Lock())
        with (
            lock,
            self._crystalpm_client() as crystalpm,
            make_checkpointer(self.settings) as checkpointer,
            tracing_scope(self.settings),
        ):
            yield build_charge_coding_graph(
                crystalpm=crystalpm,
                suggester=suggester,
                kb=kb,
                retriever=retriever,
                audit=self.audit,
                feedback=self.feedback,
                checkpointer=checkpointer,
            )

    @staticmethod
    def _config(thread_id: str) -> dict[str, Any]:
        return thread_config(thread_id)

    @staticmethod
    def _status(graph: CompiledStateGraph, thread_id: str) -> RunStatus:
        state, pending, values, next_nodes = run_state(graph, thread_id)
        return RunStatus(
            thread_id=thread_id,
            state=state,
            next=next_nodes,
            review=pending[0] if pending else None,
            charge_id=values.get("charge_id"),
            decision=values.get("decision"),
        )

    def status(self, thread_id: str) -> RunStatus:
        with self._graph(thread_id) as graph:
            return self._status(graph, thread_id)

    def start_charge_coding(self, event: WebhookEvent) -> RunStatus:
        """Run the graph for the event's encounter up to its review; a repeated event changes nothing.

        A run that stopped on an error (Crystal PM down, a crash) continues from its last checkpoint,
        so the worker's retry of the event finishes it.
        """
        encounter_id = event.data.get("encounter_id")
        if not isinstance(encounter_id, str) or not encounter_id:
            raise ValueError("a note.finalized event needs data.encounter_id")
        thread_id = thread_id_for(encounter_id)
        with self._crystalpm_client() as crystalpm:
            try:
                crystalpm.get_encounter(encounter_id)
            except NotFound:
                # Permanent: retrying the event would not make the encounter appear.
                log.warning(
                    "note.finalized for an unknown encounter: nothing to code", extra={"thread_id": thread_id}
                )
                return RunStatus(thread_id=thread_id, state="not_started")
        status, draft = self._run_to_review(encounter_id, thread_id)
        # Reported outside the thread's lock: an autopilot approval resumes this same thread. Reporting an
        # already pending review again is harmless (the queue refreshes its item), and it re-opens the item
        # if a crash came between the checkpoint and the report.
        if draft is not None and self.sink is not None:
            self.sink.open_item(draft)
        return status

    def _run_to_review(self, encounter_id: str, thread_id: str) -> tuple[RunStatus, ReviewItemDraft | None]:
        with self._graph(thread_id) as graph:
            status = self._status(graph, thread_id)
            if status.state == "not_started":
                graph.invoke({"encounter_id": encounter_id}, self._config(thread_id))
            elif status.state == "interrupted":
                graph.invoke(None, self._config(thread_id))
            else:
                log.info(
                    "charge coding already started", extra={"thread_id": thread_id, "state": status.state}
                )
            status = self._status(graph, thread_id)
            draft = self._review_draft(graph, status)
        log.info("charge coding ran", extra={"thread_id": thread_id, "state": status.state})
        return status, draft

    def _review_draft(self, graph: CompiledStateGraph, status: RunStatus) -> ReviewItemDraft | None:
        """The review queue's item for a run waiting at review: ids, payer, confidence, errors, amount."""
        if status.review is None:
            return None
        values = graph.get_state(self._config(status.thread_id)).values
        context = VisitContext.model_validate(values["context"])
        suggestion = CodeSuggestion.model_validate(status.review["suggestion"])
        coding = Coding.of(suggestion)
        charge = draft_charge(context, coding, status.review["run_id"])
        return ReviewItemDraft(
            workflow=self.workflow,
            thread_id=status.thread_id,
            practice_id=context.practice_id,
            title=(
                f"Encounter {context.encounter_id}: {_count(len(coding.lines), 'procedure line')}, "
                f"{_count(len(coding.diagnosis_codes), 'diagnosis', 'diagnoses')}"
            ),
            payload=status.review,
            confidence=suggestion.confidence,
            payer=context.payer_name,
            patient_id=context.patient_id,
            encounter_id=context.encounter_id,
            has_errors=any(finding.severity is Severity.ERROR for finding in suggestion.findings),
            amount=money_str(sum((line.fee for line in charge.lines), ZERO)),
        )

    def shadow_charge_coding(self, event: WebhookEvent) -> RunStatus:
        """Shadow mode: run to the review on a shadow thread, store the suggestion, open no review item."""
        encounter_id = event.data.get("encounter_id")
        if not isinstance(encounter_id, str) or not encounter_id:
            raise ValueError("a note.finalized event needs data.encounter_id")
        if self.shadow is None:
            raise RuntimeError("shadow mode needs a ShadowComparer")
        thread_id = shadow_thread_id_for(encounter_id)
        status, draft = self._run_to_review(encounter_id, thread_id)
        if draft is not None:
            coding = Coding.of(CodeSuggestion.model_validate(draft.payload["suggestion"]))
            self.shadow.record(
                practice_id=draft.practice_id,
                encounter_id=encounter_id,
                event_id=event.id,
                thread_id=thread_id,
                suggestion={
                    "diagnoses": coding.diagnosis_codes,
                    "lines": [line.key for line in coding.lines],
                },
                confidence=draft.confidence,
            )
        with self._crystalpm_client() as crystalpm:
            self.shadow.compare_waiting(crystalpm)
        return status

    def resume_charge_coding(self, thread_id: str, decision: ReviewDecision | dict[str, Any]) -> RunStatus:
        """Resume the pending review with a decision; ReviewNotPending when there is none to resume."""
        decision = ReviewDecision.model_validate(decision)
        with self._graph(thread_id) as graph:
            status = self._status(graph, thread_id)
            if status.state != "pending_review":
                raise ReviewNotPending(f"{thread_id} has no pending review (it is {status.state})")
            graph.invoke(Command(resume=decision.model_dump(mode="json")), self._config(thread_id))
            return self._status(graph, thread_id)

    def resume(self, thread_id: str, decision: dict[str, Any]) -> RunStatus:
        """The review queue's decision, applied; after a crash it finishes what the decision started.

        Pending review: resume it. Stopped after the decision was taken in (a crash before or during the
        write): continue from the checkpoint; the write re-uses the run's idempotency key. Done: nothing.
        """
        resume_with = ReviewDecision.model_validate(decision).model_dump(mode="json")
        with self._graph(thread_id) as graph:
            return apply_decision(graph, thread_id, resume_with, lambda: self._status(graph, thread_id))

    def diff(self, payload: dict[str, Any], decision: str, edited: dict[str, Any] | None) -> dict[str, Any]:
        """How the decision changes the suggested codes (api.reviews.SuggestionDiffer)."""
        suggested = Coding.of(CodeSuggestion.model_validate(payload["suggestion"]))
        final = {"approve": suggested, "edit": Coding.model_validate(edited or {}), "reject": None}[decision]
        return coding_diff(suggested, final)

    def continue_charge_coding(self, thread_id: str) -> RunStatus:
        """Finish a run that stopped on an error (the write re-uses the run's idempotency key)."""
        with self._graph(thread_id) as graph:
            if self._status(graph, thread_id).state == "interrupted":
                graph.invoke(None, self._config(thread_id))
            return self._status(graph, thread_id)


def _count(n: int, singular: str, plural: str = "") -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
