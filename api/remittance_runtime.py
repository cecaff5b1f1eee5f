"""Composition of the remittance graph: the real Crystal PM client, knowledge, appeal scorer, drafter and Chroma.

`RemittanceRuntime.start_remittance(event)` is the worker's `remittance.received` handler: it runs the graph for
thread `remit:<id>` up to the review interrupt and reports it to the ReviewSink. `upload(raw, practice_id)` does
the same for an 835 file a biller uploads. `resume(thread_id, decision)` applies the review queue's decision.
Posting prices each line under the payer's contract (approved terms from the contract storage, Medicare from
`medicare()`), and once a Crystal PM remittance is posted `on_posted(remittance_id)` is called: the app starts
the contract variance workflow there, so this runtime never imports another.
The read models behind the JSON endpoints (remittance view, denial worklist, appeal drafts) come from the
threads' checkpoints, found by the metadata every run is started with.
"""

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import date
from typing import Any, Literal

from chromadb.api import ClientAPI
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from agents.appeals.letter import AppealDrafter, AppealLetter, OfflineAppealDrafter
from agents.appeals.render import render_pdf, render_text
from agents.denials.appeal_model import AppealScorer, load_appeal_scorer
from agents.denials.schemas import DenialTriage
from agents.tracing import tracing_scope
from api.graph_runs import ReviewNotPending, RunState, apply_decision, run_state, thread_config
from api.storage.audit import AuditLog
from api.storage.checkpoints import make_checkpointer
from api.storage.contracts import ContractStorage
from api.workflows import ReviewItemDraft, ReviewSink
from billing.events import WebhookEvent
from billing.money import ZERO, Money, money_str
from billing.pricing import MedicareFeeSource
from billing.remittance import Remittance
from billing.settings import Settings
from graphs.remittance import RemittanceDecision, build_remittance_graph, thread_id_for
from knowledge.base import KnowledgeBase, load_knowledge
from knowledge.vectorstore import open_chroma, search_policies
from knowledge.vectorstore.records import PolicyHit
from tools.crystalpm import CrystalPM, NotFound, make_crystalpm
from tools.remittance.files import decode_x12, parse_835_bytes

log = logging.getLogger("fovea.remittance")

WORKFLOW = "remittance"
UPLOAD_PREFIX = "upl-"


class UnknownAppeal(LookupError):
    """No appeal draft with that id."""


class ChromaPolicyRetriever:
    """The graph's PolicyRetriever over the payer_policies collection."""

    def __init__(self, client: ClientAPI) -> None:
        self.client = client

    def payer_policies(self, text: str, *, payer_kind: str, k: int = 4) -> list[PolicyHit]:
        return search_policies(self.client, text, k=k, payer_kind=payer_kind or None)


class RunStatus(BaseModel):
    thread_id: str
    state: RunState
    next: list[str] = Field(default_factory=list)
    review: dict[str, Any] | None = None


class ClaimSummary(BaseModel):
    claim_id: str
    status: str
    charge: Money
    paid: Money
    patient_responsibility: Money
    lines: int


class RemittanceView(BaseModel):
    """GET /remittances/{id}: the payment, its claims, the posting result, denials and appeal drafts."""

    remittance_id: str
    practice_id: str
    state: RunState
    payer: str = ""
    payment_amount: Money = ZERO
    payment_date: date | None = None
    trace: str = ""
    claims: list[ClaimSummary] = Field(default_factory=list)
    parse_findings: list[dict[str, Any]] = Field(default_factory=list)
    posting: dict[str, Any] = Field(default_factory=dict)
    denials: list[DenialTriage] = Field(default_factory=list)
    appeals: list[dict[str, Any]] = Field(default_factory=list, description="appeal id, subject, engine")
    denied_total: Money = ZERO
    expected_recovery_total: Money = ZERO
    decision: dict[str, Any] | None = None
    tasks_written: int = 0


class WorklistItem(BaseModel):
    """One denial on the worklist; `status` follows its remittance run (pending review, approved, rejected)."""

    remittance_id: str
    practice_id: str
    status: str
    appeal_id: str | None = None
    triage: DenialTriage


class AppealDraftView(BaseModel):
    appeal_id: str
    remittance_id: str
    practice_id: str
    state: RunState
    editable: bool
    letter: AppealLetter


def _config(thread_id: str, practice_id: str = "") -> dict[str, Any]:
    config = thread_config(thread_id)
    if practice_id:
        config["metadata"] = {"workflow": WORKFLOW, "practice_id": practice_id}
    return config


def split_appeal_id(appeal_id: str) -> tuple[str, str, int]:
    """`<remittance id>:<claim id>:<line>` -> its parts; ValueError when it is not one."""
    remittance_id, claim_id, line = appeal_id.rsplit(":", 2)
    if not remittance_id or not claim_id or not line.isdigit():
        raise ValueError(appeal_id)
    return remittance_id, claim_id, int(line)


class RemittanceRuntime:
    """Builds and runs the remittance graph; knowledge, scorer, drafter and Chroma are opened on first use."""

    workflow = WORKFLOW

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        crystalpm: CrystalPM | None = None,
        kb: KnowledgeBase | None = None,
        scorer: AppealScorer | None = None,
        drafter: AppealDrafter | None = None,
        retriever: ChromaPolicyRetriever | None = None,
        sink: ReviewSink | None = None,
        today: Callable[[], date] | None = None,
        medicare: Callable[[], MedicareFeeSource | None] | None = None,
        on_posted: Callable[[str], object] | None = None,
    ) -> None:
        """`medicare` gives the Medicare fee source contracts are priced with (default: the imported PFS);
        `on_posted(remittance_id)` runs after a Crystal PM remittance's posting is drafted."""
        self.settings = settings
        self.sink = sink
        self.audit = AuditLog(sessions)
        self.contracts = ContractStorage(sessions)
        self.today = today or date.today
        self.on_posted = on_posted
        self._medicare_provider = medicare
        self._medicare: MedicareFeeSource | None = None
        self._medicare_loaded = False
        self._crystalpm = crystalpm
        self._kb = kb
        self._scorer = scorer
        self._drafter = drafter
        self._retriever = retriever
        self._setup_lock = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}

    def _medicare_source(self) -> MedicareFeeSource | None:
        with self._setup_lock:
            if not self._medicare_loaded:
                if self._medicare_provider is not None:
                    self._medicare = self._medicare_provider()
                else:
                    from knowledge.rules.fees import load_pfs

                    self._medicare = load_pfs(self.settings)
                self._medicare_loaded = True
            return self._medicare

    def _dependencies(self) -> tuple[KnowledgeBase, AppealScorer, AppealDrafter, ChromaPolicyRetriever]:
        with self._setup_lock:
            if self._kb is None:
                self._kb = load_knowledge(self.settings)
            if self._scorer is None:
                self._scorer = load_appeal_scorer(self.settings)
            if self._drafter is None:
                self._drafter = self._make_drafter()
            if self._retriever is None:
                self._retriever = ChromaPolicyRetriever(open_chroma(self.settings))
            return self._kb, self._scorer, self._drafter, self._retriever

    def _make_drafter(self) -> AppealDrafter:
        if self.settings.engine != "llm":
            return OfflineAppealDrafter()
        from agents.appeals.llm import LLMAppealDrafter
        from agents.models import make_chat_model

        return LLMAppealDrafter(make_chat_model(self.settings))

    @contextmanager
    def _crystalpm_client(self) -> Iterator[CrystalPM]:
        if self._crystalpm is not None:
            yield self._crystalpm
            return
        with closing(make_crystalpm(self.settings)) as client:
            yield client

    @contextmanager
    def _checkpointer(self) -> Iterator[BaseCheckpointSaver]:
        with make_checkpointer(self.settings) as checkpointer:
            yield checkpointer

    @contextmanager
    def _graph(self, thread_id: str) -> Iterator[CompiledStateGraph]:
        kb, scorer, drafter, retriever = self._dependencies()
        medicare = self._medicare_source()
        with self._setup_lock:
            lock = self._thread_locks.setdefault(thread_id, threading.Lock())
        with (
            lock,
            self._crystalpm_client() as crystalpm,
            self._checkpointer() as checkpointer,
            tracing_scope(self.settings),
        ):
            yield build_remittance_graph(
                crystalpm=crystalpm,
                kb=kb,
                scorer=scorer,
                drafter=drafter,
                retriever=retriever,
                audit=self.audit,
                settings=self.settings,
                checkpointer=checkpointer,
                today=self.today,
                contracts=self.contracts,
                medicare=medicare,
            )

    @staticmethod
    def _status(graph: CompiledStateGraph, thread_id: str) -> RunStatus:
        state, pending, _, next_nodes = run_state(graph, thread_id)
        return RunStatus(
            thread_id=thread_id, state=state, next=next_nodes, review=pending[0] if pending else None
        )

    def status(self, thread_id: str) -> RunStatus:
        with self._graph(thread_id) as graph:
            return self._status(graph, thread_id)

    # Starting runs

    def start_remittance(self, event: WebhookEvent) -> RunStatus:
        """Run the graph for the event's remittance up to its review; a repeated event changes nothing."""
        remittance_id = event.data.get("remittance_id")
        if not isinstance(remittance_id, str) or not remittance_id:
            raise ValueError("a remittance.received event needs data.remittance_id")
        with self._crystalpm_client() as crystalpm:
            try:
                info = crystalpm.get_remittance(remittance_id)
            except NotFound:
                log.warning(
                    "remittance.received for an unknown remittance", extra={"remittance_id": remittance_id}
                )
                return RunStatus(thread_id=thread_id_for(remittance_id), state="not_started")
        return self._run({"remittance_id": remittance_id}, info.practice_id or event.practice_id)

    def upload(self, raw: bytes, practice_id: str) -> RunStatus:
        """Start a run for an uploaded 835 (id `upl-<hash>`: the same file twice is one run). X12Error if unreadable."""
        parse_835_bytes(raw)  # refuse a file that is not an 835 before anything is stored
        remittance_id = UPLOAD_PREFIX + hashlib.sha256(raw).hexdigest()[:16]
        return self._run(
            {"remittance_id": remittance_id, "practice_id": practice_id, "x12": decode_x12(raw)}, practice_id
        )

    def _run(self, start: dict[str, Any], practice_id: str) -> RunStatus:
        thread_id = thread_id_for(start["remittance_id"])
        with self._graph(thread_id) as graph:
            status = self._status(graph, thread_id)
            if status.state == "not_started":
                graph.invoke({**start, "practice_id": practice_id}, _config(thread_id, practice_id))
            elif status.state == "interrupted":
                graph.invoke(None, _config(thread_id, practice_id))
            status = self._status(graph, thread_id)
            draft = self._review_draft(graph, status)
        log.info("remittance ran", extra={"thread_id": thread_id, "state": status.state})
        # Reported outside the thread's lock: an autopilot approval resumes this same thread.
        if draft is not None and self.sink is not None:
            self.sink.open_item(draft)
        remittance_id = start["remittance_id"]
        # An uploaded file is not in Crystal PM, where the variance workflow reads remittances from.
        posted = status.state in ("pending_review", "done") and not remittance_id.startswith(UPLOAD_PREFIX)
        if posted and self.on_posted is not None:
            self.on_posted(remittance_id)
        return status

    def _review_draft(self, graph: CompiledStateGraph, status: RunStatus) -> ReviewItemDraft | None:
        if status.review is None:
            return None
        review = status.review
        triaged = [DenialTriage.model_validate(item) for item in review["triage"]]
        blocking = [
            e
            for e in review["posting"]["exceptions"]
            if e["code"] in ("UNMATCHED_CLAIM", "REVERSAL_WITHOUT_ORIGINAL", "DUPLICATE_PAYMENT")
        ]
        return ReviewItemDraft(
            workflow=self.workflow,
            thread_id=status.thread_id,
            practice_id=review.get("practice_id", ""),
            title=(
                f"Remittance {review['remittance_id']}: {len(triaged)} denied lines, "
                f"{len(review['appeals'])} appeal drafts, {len(review['posting']['exceptions'])} posting exceptions"
            ),
            payload=review,
            has_errors=bool(blocking),
            amount=money_str(sum((t.amount for t in triaged), ZERO)),
        )

    def resume(self, thread_id: str, decision: dict[str, Any]) -> RunStatus:
        """The review queue's decision, applied; after a crash it finishes what the decision started."""
        resume_with = RemittanceDecision.model_validate(decision).model_dump(mode="json")
        with self._graph(thread_id) as graph:
            return apply_decision(graph, thread_id, resume_with, lambda: self._status(graph, thread_id))

    # Read models

    def _values(self, thread_id: str) -> tuple[RunStatus, dict[str, Any]]:
        with self._graph(thread_id) as graph:
            status = self._status(graph, thread_id)
            return status, dict(graph.get_state(_config(thread_id)).values or {})

    def view(self, remittance_id: str) -> RemittanceView | None:
        status, values = self._values(thread_id_for(remittance_id))
        if status.state == "not_started" or "remittance" not in values:
            return None
        remittance = Remittance.model_validate(values["remittance"])
        triaged = [DenialTriage.model_validate(t) for t in values.get("triage", [])]
        transaction = remittance.transactions[0] if remittance.transactions else None
        return RemittanceView(
            remittance_id=remittance_id,
            practice_id=values.get("practice_id", ""),
            state=status.state,
            payer=transaction.payer if transaction else "",
            payment_amount=sum((t.payment.amount for t in remittance.transactions), ZERO),
            payment_date=transaction.payment.date if transaction else None,
            trace=transaction.payment.trace if transaction else "",
            claims=[
                ClaimSummary(
                    claim_id=claim.patient_control_number,
                    status=claim.status,
                    charge=claim.charge,
                    paid=claim.paid,
                    patient_responsibility=claim.patient_responsibility,
                    lines=len(claim.lines),
                )
                for t in remittance.transactions
                for claim in t.claims
            ],
            parse_findings=values.get("parse_findings", []),
            posting=values.get("posting", {}),
            denials=triaged,
            appeals=[
                {"appeal_id": a["appeal_id"], "subject": a["subject"], "engine": a["engine"]}
                for a in values.get("appeals", [])
            ],
            denied_total=sum((t.amount for t in triaged), ZERO),
            expected_recovery_total=sum((t.expected_recovery for t in triaged), ZERO),
            decision=values.get("decision"),
            tasks_written=len(values.get("written") or {}),
        )

    def _threads_of(self, practice_ids: list[str]) -> list[str]:
        """The remittance threads started for these practices (newest checkpoint first, each once)."""
        found: dict[str, None] = {}
        with self._checkpointer() as checkpointer:
            for practice_id in practice_ids:
                for item in checkpointer.list(
                    None, filter={"workflow": WORKFLOW, "practice_id": practice_id}
                ):
                    found.setdefault(item.config["configurable"]["thread_id"], None)
        return list(found)

    def worklist(self, practice_ids: list[str]) -> list[WorklistItem]:
        """Every triaged denial of these practices' remittances, highest expected recovery first."""
        items: list[WorklistItem] = []
        for thread_id in self._threads_of(practice_ids):
            status, values = self._values(thread_id)
            decision = (values.get("decision") or {}).get("decision")
            run_status = {"approve": "approved", "edit": "approved", "reject": "rejected"}.get(
                decision or "", status.state
            )
            appeals = {(a["claim_id"], a["line_number"]): a["appeal_id"] for a in values.get("appeals", [])}
            for raw in values.get("triage", []):
                triage = DenialTriage.model_validate(raw)
                items.append(
                    WorklistItem(
                        remittance_id=values["remittance_id"],
                        practice_id=triage.line.practice_id or values.get("practice_id", ""),
                        status=run_status,
                        appeal_id=appeals.get((triage.line.claim_id, triage.line.line_number)),
                        triage=triage,
                    )
                )
        return sorted(
            items, key=lambda item: (-item.triage.expected_recovery, -item.triage.amount, item.triage.key)
        )

    def appeal_draft(self, appeal_id: str) -> AppealDraftView:
        try:
            remittance_id, _, _ = split_appeal_id(appeal_id)
        except ValueError:
            raise UnknownAppeal(appeal_id) from None
        status, values = self._values(thread_id_for(remittance_id))
        letter = next((a for a in values.get("appeals", []) if a["appeal_id"] == appeal_id), None)
        if letter is None:
            raise UnknownAppeal(appeal_id)
        return AppealDraftView(
            appeal_id=appeal_id,
            remittance_id=remittance_id,
            practice_id=values.get("practice_id", ""),
            state=status.state,
            editable=status.state == "pending_review",
            letter=AppealLetter.model_validate(letter),
        )

    def update_appeal_draft(self, appeal_id: str, text: str, editor: str) -> AppealDraftView:
        """Replace a letter's text while its run waits for review; the review payload is refreshed."""
        current = self.appeal_draft(appeal_id)
        if not current.editable:
            raise ReviewNotPending(f"appeal {appeal_id} can no longer be edited (its run is {current.state})")
        thread_id = thread_id_for(current.remittance_id)
        with self._graph(thread_id) as graph:
            config = _config(thread_id)
            values = graph.get_state(config).values
            letters = [
                {**a, "text": text, "edited_by": editor} if a["appeal_id"] == appeal_id else a
                for a in values.get("appeals", [])
            ]
            # Written as if draft_appeals had produced it, so the review interrupt runs again with the edit.
            graph.update_state(config, {"appeals": letters}, as_node="draft_appeals")
            graph.invoke(None, config)
            status = self._status(graph, thread_id)
            draft = self._review_draft(graph, status)
        if draft is not None and self.sink is not None:
            self.sink.open_item(draft)
        return self.appeal_draft(appeal_id)


def letter_bytes(view: AppealDraftView, fmt: Literal["text", "pdf"]) -> bytes:
    return render_pdf(view.letter) if fmt == "pdf" else render_text(view.letter).encode("utf-8")
