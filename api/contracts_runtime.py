"""Composition of the contract_variance graphs: contract intake and variance after a remittance is posted.

`ContractVarianceRuntime.start_variance(remittance_id)` runs thread `variance:<id>` to its review (the
remittance workflow calls it once the remittance is posted) and reports the drafted disputes and refunds to
the review queue; `ContractIntakeRuntime.start_intake(request)` does the same for uploaded contract terms.
Both are the review queue's WorkflowRuntimes: `resume(thread_id, decision)` applies a decision once.
Intake items are their own workflow (`contract_intake`) because Admins as well as Billers approve terms.
"""

import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from agents.contracts.engines import make_term_extractor
from agents.contracts.schemas import IntakeRequest, TermExtractor
from agents.variance.schemas import VarianceOptions
from api.graph_runs import RunState, apply_decision, run_state, thread_config
from api.storage.audit import AuditLog
from api.storage.checkpoints import make_checkpointer
from api.storage.contracts import ContractStorage
from api.workflows import ReviewItemDraft, ReviewSink
from billing.money import ZERO, money_str, to_money
from billing.pricing import MedicareFeeSource
from billing.settings import Settings
from graphs.contract_variance import (
    Decision,
    build_contract_intake_graph,
    build_contract_variance_graph,
    intake_thread_id,
    variance_thread_id,
)
from tools.crystalpm import CrystalPM, make_crystalpm


class RunStatus(BaseModel):
    thread_id: str
    state: RunState
    review: dict[str, Any] | None = None
    values: dict[str, Any] = {}


class _Runtime:
    workflow = ""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        crystalpm: CrystalPM | None = None,
        sink: ReviewSink | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.audit = AuditLog(sessions)
        self.store = ContractStorage(sessions)
        self._crystalpm = crystalpm
        self._lock = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}

    def _build(self, crystalpm: CrystalPM, checkpointer: Any) -> CompiledStateGraph:
        raise NotImplementedError

    @contextmanager
    def _graph(self, thread_id: str) -> Iterator[CompiledStateGraph]:
        with self._lock:
            lock = self._thread_locks.setdefault(thread_id, threading.Lock())
        with lock, self._client() as crystalpm, make_checkpointer(self.settings) as checkpointer:
            yield self._build(crystalpm, checkpointer)

    @contextmanager
    def _client(self) -> Iterator[CrystalPM]:
        if self._crystalpm is not None:
            yield self._crystalpm
            return
        with closing(make_crystalpm(self.settings)) as client:
            yield client

    @staticmethod
    def _config(thread_id: str) -> dict[str, Any]:
        return thread_config(thread_id)

    def _status(self, graph: CompiledStateGraph, thread_id: str) -> RunStatus:
        state, pending, values, _ = run_state(graph, thread_id)
        return RunStatus(
            thread_id=thread_id, state=state, review=pending[0] if pending else None, values=values
        )

    def status(self, thread_id: str) -> RunStatus:
        with self._graph(thread_id) as graph:
            return self._status(graph, thread_id)

    def _run(self, thread_id: str, start: dict[str, Any]) -> RunStatus:
        """Run to the review (or the end); a repeated start continues or leaves the thread as it is."""
        with self._graph(thread_id) as graph:
            status = self._status(graph, thread_id)
            if status.state == "not_started":
                graph.invoke(start, self._config(thread_id))
            elif status.state == "interrupted":
                graph.invoke(None, self._config(thread_id))
            status = self._status(graph, thread_id)
        if status.review is not None and self.sink is not None:
            self.sink.open_item(self._draft(status))
        return status

    def _draft(self, status: RunStatus) -> ReviewItemDraft:
        raise NotImplementedError

    def resume(self, thread_id: str, decision: dict[str, Any]) -> RunStatus:
        """The review queue's decision, applied once; after a crash it finishes what the decision started."""
        resume_with = Decision.model_validate(decision).model_dump(mode="json")
        with self._graph(thread_id) as graph:
            return apply_decision(graph, thread_id, resume_with, lambda: self._status(graph, thread_id))


class ContractIntakeRuntime(_Runtime):
    workflow = "contract_intake"

    def __init__(self, *args: Any, extractor: TermExtractor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._extractor = extractor

    def _build(self, crystalpm: CrystalPM, checkpointer: Any) -> CompiledStateGraph:
        with self._lock:
            if self._extractor is None:
                self._extractor = make_term_extractor(self.settings)
        return build_contract_intake_graph(
            crystalpm=crystalpm,
            extractor=self._extractor,
            store=self.store,
            audit=self.audit,
            checkpointer=checkpointer,
        )

    def start_intake(self, request: IntakeRequest) -> RunStatus:
        thread_id = intake_thread_id(request.contract_id, request.content)
        return self._run(thread_id, {"request": request.model_dump(mode="json")})

    def _draft(self, status: RunStatus) -> ReviewItemDraft:
        review = status.review or {}
        request = IntakeRequest.model_validate(status.values["request"])
        return ReviewItemDraft(
            workflow=self.workflow,
            thread_id=status.thread_id,
            practice_id=request.practice_id,
            title=f"Contract {request.contract_id}: {len(review.get('terms', []))} terms from {request.kind}",
            payload=review,
            confidence=min((term["confidence"] for term in review.get("terms", [])), default=None),
            payer=request.payer_id,
        )


class ContractVarianceRuntime(_Runtime):
    workflow = "contract_variance"

    def __init__(
        self,
        *args: Any,
        medicare: MedicareFeeSource | None = None,
        options: VarianceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._medicare = medicare
        self._medicare_loaded = medicare is not None
        self.options = options or VarianceOptions()

    def medicare_source(self) -> MedicareFeeSource | None:
        """The Medicare fee source contracts are priced with: the given one, else the imported PFS (or None)."""
        with self._lock:
            if not self._medicare_loaded:
                from knowledge.rules.fees import load_pfs

                self._medicare = load_pfs(self.settings)
                self._medicare_loaded = True
            return self._medicare

    def _build(self, crystalpm: CrystalPM, checkpointer: Any) -> CompiledStateGraph:
        return build_contract_variance_graph(
            crystalpm=crystalpm,
            store=self.store,
            audit=self.audit,
            medicare=self.medicare_source(),
            checkpointer=checkpointer,
            options=self.options,
        )

    def start_variance(self, remittance_id: str) -> RunStatus:
        return self._run(variance_thread_id(remittance_id), {"remittance_id": remittance_id})

    def _draft(self, status: RunStatus) -> ReviewItemDraft:
        review = status.review or {}
        disputes, refunds = review.get("disputes", []), review.get("refunds", [])
        at_stake = sum((to_money(item["amount"]) for item in [*disputes, *refunds]), ZERO)
        return ReviewItemDraft(
            workflow=self.workflow,
            thread_id=status.thread_id,
            practice_id=status.values["practice_id"],
            title=f"Remittance {review.get('remittance_id')}: {len(disputes)} disputes, {len(refunds)} refunds",
            payload=review,
            payer=status.values.get("payer_id", ""),
            claim_id=(disputes or refunds)[0]["claim_id"] if len(disputes) + len(refunds) == 1 else None,
            amount=money_str(at_stake),
        )
