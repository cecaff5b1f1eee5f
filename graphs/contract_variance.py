"""The contract_variance graphs: contract intake (terms reviewed before use) and variance after a remittance posts.

Intake, thread `contract-intake:<contract id>:<source hash>`: extract -> review (interrupt) -> save. Terms come
from prose (offline or LLM extractor, each citing its sentence), the documented YAML, or a fee-schedule CSV;
nothing is used until a person approves it.

Variance, thread `variance:<remittance id>`: analyze (price every line, classify, draft refunds and disputes)
-> record -> review (interrupt) -> write (one Crystal PM task per approved dispute or refund, idempotency key
`<run id>:<item id>`) -> learn. A remittance with nothing to dispute or refund ends after record.
"""

import hashlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt
from pydantic import BaseModel, Field, model_validator

from agents.contracts.apply import apply_terms
from agents.contracts.fee_schedule_import import read_fee_schedule_csv
from agents.contracts.schemas import (
    ApprovedContract,
    ContractExtraction,
    ContractSource,
    IntakeRequest,
    TermExtractor,
)
from agents.variance.classify import classify_remittance
from agents.variance.schemas import CostShareFacts, DisputeDraft, LineVariance, RefundDraft, VarianceOptions
from agents.variance.work_items import dispute_task, draft_disputes, draft_refunds, refund_task
from billing.contract_yaml import load_contract_yaml
from billing.contracts import Contract
from billing.money import ZERO, money_str
from billing.pricing import MedicareFeeSource
from billing.x12_835 import parse_835
from graphs.ports import AuditEntry, AuditSink, inputs_hash
from tools.crystalpm import CrystalPM, NotFound

GRAPH = "contract_variance"
SYSTEM_ACTOR = f"system:{GRAPH}"


def intake_thread_id(contract_id: str, content: str) -> str:
    return f"contract-intake:{contract_id}:{hashlib.sha256(content.encode('utf-8')).hexdigest()[:12]}"


def variance_thread_id(remittance_id: str) -> str:
    return f"variance:{remittance_id}"


# -- what the graphs exchange with storage -------------------------------------------------------------


class ContractStore(Protocol):
    """Approved contract terms and the variance results (api/storage/contracts.py is the real one)."""

    def approved_contract(self, contract_id: str) -> ApprovedContract | None: ...

    def save_contract(self, approved: ApprovedContract) -> None:
        """Store the approval (saving the same run again changes nothing)."""
        ...

    def save_variance(self, lines: list[LineVariance]) -> None:
        """Upsert the classified lines by their id."""
        ...

    def save_work_items(
        self,
        disputes: list[DisputeDraft],
        refunds: list[RefundDraft],
        *,
        status: str,
        task_ids: dict[str, str] | None = None,
    ) -> None:
        """Upsert dispute and refund drafts by id with their status (draft, created, rejected)."""
        ...


# -- decisions -------------------------------------------------------------------------------------


class Decision(BaseModel):
    decision: Literal["approve", "edit", "reject"]
    edited: dict[str, Any] | None = Field(None, description="The corrected payload; required for 'edit'")
    reason: str = ""
    reviewer: str = Field(min_length=1)

    @model_validator(mode="after")
    def _edit_carries_payload(self) -> "Decision":
        if self.decision == "edit" and self.edited is None:
            raise ValueError("an 'edit' decision needs 'edited'")
        return self

    @property
    def actor(self) -> str:
        return self.reviewer if ":" in self.reviewer else f"user:{self.reviewer}"


class IntakeState(TypedDict, total=False):
    request: dict[str, Any]
    run_id: str
    extraction: dict[str, Any]
    proposed: dict[str, Any]
    decision: dict[str, Any]
    saved: bool


class VarianceInput(TypedDict):
    remittance_id: str


class VarianceState(TypedDict, total=False):
    remittance_id: str
    run_id: str
    practice_id: str
    payer_id: str
    contract_id: str
    lines: list[dict[str, Any]]
    disputes: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    decision: dict[str, Any]
    task_ids: dict[str, str]


def _thread_id(config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("thread_id", ""))


class _Audited:
    def __init__(self, audit: AuditSink) -> None:
        self.audit = audit

    def _record(
        self,
        config: RunnableConfig,
        node: str,
        practice_id: str,
        inputs: Any,
        detail: dict[str, Any],
        *,
        actor: str = SYSTEM_ACTOR,
        engine: str = "",
        prompt_hash: str = "",
    ) -> None:
        self.audit.record(
            AuditEntry(
                actor=actor,
                action=f"{GRAPH}.{node}",
                practice_id=practice_id,
                thread_id=_thread_id(config),
                inputs_hash=inputs_hash(inputs),
                engine=engine,
                prompt_hash=prompt_hash,
                detail=detail,
            )
        )


# -- intake ------------------------------------------------------------------------------------------


class IntakeNodes(_Audited):
    def __init__(
        self, *, crystalpm: CrystalPM, extractor: TermExtractor, store: ContractStore, audit: AuditSink
    ) -> None:
        super().__init__(audit)
        self.crystalpm = crystalpm
        self.extractor = extractor
        self.store = store

    def _base(self, request: IntakeRequest) -> Contract:
        approved = self.store.approved_contract(request.contract_id)
        if approved is not None:
            return approved.contract
        try:
            return self.crystalpm.get_contract(request.contract_id)
        except NotFound:
            return Contract(
                id=request.contract_id,
                practice_id=request.practice_id,
                payer_id=request.payer_id,
                plan_name=request.plan_name,
                effective=request.effective or datetime.now(UTC).date(),
            )

    def extract(self, state: IntakeState, config: RunnableConfig) -> IntakeState:
        request = IntakeRequest.model_validate(state["request"])
        if request.kind == "yaml":
            # The documented format is a whole contract: nothing to merge with.
            extraction = ContractExtraction(engine="yaml")
            proposed = load_contract_yaml(request.content)
        elif request.kind == "fee_schedule_csv":
            imported = read_fee_schedule_csv(request.content)
            extraction = ContractExtraction(engine="csv", notes=imported.skipped)
            proposed = self._base(request).model_copy(update={"fee_schedule": imported.entries})
        else:
            extraction = self.extractor.extract(request.content)
            base = self._base(request).model_copy(update={"terms_text": request.content})
            proposed = apply_terms(base, extraction.terms)
        run_id = f"{_thread_id(config)}:{uuid.uuid4().hex}"
        self._record(
            config,
            "extract",
            request.practice_id,
            {"contract_id": request.contract_id, "kind": request.kind, "content": request.content},
            {
                "run_id": run_id,
                "kind": request.kind,
                "terms": [term.term for term in extraction.terms],
                "fee_schedule_rows": len(proposed.fee_schedule),
                "notes": len(extraction.notes),
            },
            actor=f"engine:{extraction.engine}",
            engine=f"{extraction.engine}@{extraction.engine_version}",
            prompt_hash=getattr(self.extractor, "prompt_hash", ""),
        )
        return {
            "run_id": run_id,
            "extraction": extraction.model_dump(mode="json"),
            "proposed": proposed.model_dump(mode="json"),
        }

    def review(self, state: IntakeState, config: RunnableConfig) -> IntakeState:
        request = IntakeRequest.model_validate(state["request"])
        answer = interrupt(
            {
                "kind": "contract_terms",
                "thread_id": _thread_id(config),
                "run_id": state["run_id"],
                "contract_id": request.contract_id,
                "source": {"kind": request.kind, "filename": request.filename},
                "terms": state["extraction"]["terms"],
                "notes": state["extraction"]["notes"],
                "proposed": state["proposed"],
            }
        )
        decision = Decision.model_validate(answer)
        if decision.edited is not None:
            Contract.model_validate(decision.edited)  # an edit must still be a contract
        self._record(
            config,
            "review",
            request.practice_id,
            answer,
            {"decision": decision.decision, "has_reason": bool(decision.reason)},
            actor=decision.actor,
        )
        return {"decision": decision.model_dump(mode="json")}

    def save(self, state: IntakeState, config: RunnableConfig) -> IntakeState:
        request = IntakeRequest.model_validate(state["request"])
        decision = Decision.model_validate(state["decision"])
        contract = Contract.model_validate(decision.edited or state["proposed"])
        extraction = ContractExtraction.model_validate(state["extraction"])
        source = ContractSource(
            kind=request.kind,
            filename=request.filename,
            sha256=hashlib.sha256(request.content.encode("utf-8")).hexdigest(),
            engine=extraction.engine,
            terms=extraction.terms,
        )
        previous = self.store.approved_contract(contract.id)
        sources = [s for s in (previous.sources if previous else []) if s.sha256 != source.sha256]
        self.store.save_contract(
            ApprovedContract(
                contract=contract,
                sources=[*sources, source],
                approved_by=decision.reviewer,
                approved_at=datetime.now(UTC),
                run_id=state["run_id"],
            )
        )
        self._record(
            config,
            "save",
            request.practice_id,
            contract.model_dump(mode="json"),
            {
                "contract_id": contract.id,
                "approved_by": decision.reviewer,
                "edited": decision.edited is not None,
            },
        )
        return {"saved": True}


def _after_intake_review(state: IntakeState) -> Literal["save", "__end__"]:
    return END if state["decision"]["decision"] == "reject" else "save"


def build_contract_intake_graph(
    *,
    crystalpm: CrystalPM,
    extractor: TermExtractor,
    store: ContractStore,
    audit: AuditSink,
    checkpointer: BaseCheckpointSaver | None,
) -> CompiledStateGraph:
    """Run with {"request": IntakeRequest} on thread intake_thread_id(...)."""
    nodes = IntakeNodes(crystalpm=crystalpm, extractor=extractor, store=store, audit=audit)
    graph = StateGraph(IntakeState)
    graph.add_node("extract", nodes.extract)
    graph.add_node("review", nodes.review)
    graph.add_node("save", nodes.save)
    graph.add_edge(START, "extract")
    graph.add_edge("extract", "review")
    graph.add_conditional_edges("review", _after_intake_review)
    graph.add_edge("save", END)
    return graph.compile(checkpointer=checkpointer, name=f"{GRAPH}_intake")


# -- variance ------------------------------------------------------------------------------------------


class VarianceNodes(_Audited):
    def __init__(
        self,
        *,
        crystalpm: CrystalPM,
        store: ContractStore,
        audit: AuditSink,
        medicare: MedicareFeeSource | None,
        options: VarianceOptions,
    ) -> None:
        super().__init__(audit)
        self.crystalpm = crystalpm
        self.store = store
        self.medicare = medicare
        self.options = options

    def _contract(self, practice_id: str, payer_id: str, on: date) -> Contract | None:
        """The payer's contract in force on the payment date, with its approved terms when there are any."""
        contracts = list(self.crystalpm.iter_contracts(practice_id, payer_id=payer_id))
        chosen = next((c for c in contracts if c.in_force(on)), contracts[0] if contracts else None)
        if chosen is None:
            return None
        approved = self.store.approved_contract(chosen.id)
        return approved.contract if approved else chosen

    def _cost_share(self, claim_id: str) -> CostShareFacts | None:
        try:
            claim = self.crystalpm.get_claim(claim_id)
            coverage = next(
                (c for c in self.crystalpm.get_coverage(claim.patient_id) if c.id == claim.coverage_id), None
            )
        except NotFound:
            return None
        if coverage is None:
            return None
        return CostShareFacts(coinsurance_pct=Decimal(coverage.coinsurance_pct), copay=coverage.copay)

    def analyze(self, state: VarianceState, config: RunnableConfig) -> VarianceState:
        info = self.crystalpm.get_remittance(state["remittance_id"])
        run_id = f"{_thread_id(config) or variance_thread_id(info.id)}:{uuid.uuid4().hex}"
        remittance = parse_835(info.x12 or "").remittance
        remittance.practice_id = info.practice_id
        contract = self._contract(info.practice_id, info.payer_id, info.received_on)
        update: VarianceState = {"run_id": run_id, "practice_id": info.practice_id, "payer_id": info.payer_id}
        if contract is None:
            self._record(config, "analyze", info.practice_id, state, {"run_id": run_id, "contract": None})
            return {**update, "lines": [], "disputes": [], "refunds": []}
        lines = classify_remittance(
            remittance,
            contract,
            remittance_id=info.id,
            medicare=self.medicare,
            cost_share_for=self._cost_share,
            options=self.options,
        )
        trace = next((t.payment.trace for t in remittance.transactions if t.payment.trace), "")
        paid_on = next((t.payment.date for t in remittance.transactions if t.payment.date), info.received_on)
        disputes = draft_disputes(lines, contract, paid_on=paid_on, trace=trace, options=self.options)
        refunds = draft_refunds(lines, identified_on=info.received_on, trace=trace, options=self.options)
        kinds: dict[str, int] = {}
        for line in lines:
            kinds[line.kind] = kinds.get(line.kind, 0) + 1
        self._record(
            config,
            "analyze",
            info.practice_id,
            {"remittance_id": info.id, "contract": contract.model_dump(mode="json")},
            {
                "run_id": run_id,
                "contract_id": contract.id,
                "lines": kinds,
                "disputes": len(disputes),
                "refunds": len(refunds),
            },
            engine="agents.variance",
        )
        return {
            **update,
            "contract_id": contract.id,
            "lines": [line.model_dump(mode="json") for line in lines],
            "disputes": [d.model_dump(mode="json") for d in disputes],
            "refunds": [r.model_dump(mode="json") for r in refunds],
        }

    def record(self, state: VarianceState, config: RunnableConfig) -> VarianceState:
        lines = [LineVariance.model_validate(line) for line in state["lines"]]
        self.store.save_variance(lines)
        self.store.save_work_items(
            [DisputeDraft.model_validate(d) for d in state["disputes"]],
            [RefundDraft.model_validate(r) for r in state["refunds"]],
            status="draft",
        )
        return {}

    def review(self, state: VarianceState, config: RunnableConfig) -> VarianceState:
        answer = interrupt(
            {
                "kind": "variance_work_items",
                "thread_id": _thread_id(config),
                "run_id": state["run_id"],
                "remittance_id": state["remittance_id"],
                "contract_id": state.get("contract_id", ""),
                "disputes": state["disputes"],
                "refunds": state["refunds"],
            }
        )
        decision = Decision.model_validate(answer)
        if decision.edited is not None:
            _edited_items(decision.edited)
        self._record(
            config,
            "review",
            state["practice_id"],
            answer,
            {"decision": decision.decision, "has_reason": bool(decision.reason)},
            actor=decision.actor,
        )
        return {"decision": decision.model_dump(mode="json")}

    def write(self, state: VarianceState, config: RunnableConfig) -> VarianceState:
        disputes, refunds = _final_items(state)
        task_ids: dict[str, str] = {}
        for item_id, task in [
            *((d.id, dispute_task(d)) for d in disputes),
            *((r.id, refund_task(r)) for r in refunds),
        ]:
            created = self.crystalpm.create_task(task, idempotency_key=f"{state['run_id']}:{item_id}")
            task_ids[item_id] = created.id
        self._record(
            config,
            "write",
            state["practice_id"],
            task_ids,
            {"tasks": len(task_ids), "approved_by": state["decision"]["reviewer"]},
        )
        return {"task_ids": task_ids}

    def learn(self, state: VarianceState, config: RunnableConfig) -> VarianceState:
        decision = Decision.model_validate(state["decision"])
        disputes, refunds = _final_items(state)
        task_ids = state.get("task_ids", {})
        if decision.decision == "reject":
            self.store.save_work_items(
                [DisputeDraft.model_validate(d) for d in state["disputes"]],
                [RefundDraft.model_validate(r) for r in state["refunds"]],
                status="rejected",
            )
        else:
            self.store.save_work_items(disputes, refunds, status="created", task_ids=task_ids)
            kept = {item.id for item in [*disputes, *refunds]}
            self.store.save_work_items(
                [d for d in map(DisputeDraft.model_validate, state["disputes"]) if d.id not in kept],
                [r for r in map(RefundDraft.model_validate, state["refunds"]) if r.id not in kept],
                status="rejected",
            )
        self._record(
            config,
            "learn",
            state["practice_id"],
            {"run_id": state["run_id"], "decision": decision.decision},
            {
                "decision": decision.decision,
                "disputes": len(disputes),
                "refunds": len(refunds),
                "amount": money_str(sum((d.amount for d in disputes), ZERO)),
            },
        )
        return {}


def _edited_items(edited: dict[str, Any]) -> tuple[list[DisputeDraft], list[RefundDraft]]:
    return (
        [DisputeDraft.model_validate(d) for d in edited.get("disputes", [])],
        [RefundDraft.model_validate(r) for r in edited.get("refunds", [])],
    )


def _final_items(state: VarianceState) -> tuple[list[DisputeDraft], list[RefundDraft]]:
    """What the reviewer approved: the drafts, the edited drafts, or nothing for a rejection."""
    decision = Decision.model_validate(state["decision"])
    if decision.decision == "reject":
        return [], []
    if decision.edited is not None:
        return _edited_items(decision.edited)
    return _edited_items({"disputes": state["disputes"], "refunds": state["refunds"]})


def _after_record(state: VarianceState) -> Literal["review", "__end__"]:
    return "review" if state["disputes"] or state["refunds"] else END


def _after_variance_review(state: VarianceState) -> Literal["write", "learn"]:
    return "learn" if state["decision"]["decision"] == "reject" else "write"


def build_contract_variance_graph(
    *,
    crystalpm: CrystalPM,
    store: ContractStore,
    audit: AuditSink,
    medicare: MedicareFeeSource | None,
    checkpointer: BaseCheckpointSaver | None,
    options: VarianceOptions | None = None,
) -> CompiledStateGraph:
    """Run with {"remittance_id": id} on thread variance_thread_id(id), after the remittance is posted."""
    nodes = VarianceNodes(
        crystalpm=crystalpm, store=store, audit=audit, medicare=medicare, options=options or VarianceOptions()
    )
    graph = StateGraph(VarianceState, input_schema=VarianceInput)
    graph.add_node("analyze", nodes.analyze)
    graph.add_node("record", nodes.record)
    graph.add_node("review", nodes.review)
    graph.add_node("write", nodes.write)
    graph.add_node("learn", nodes.learn)
    graph.add_edge(START, "analyze")
    graph.add_edge("analyze", "record")
    graph.add_conditional_edges("record", _after_record)
    graph.add_conditional_edges("review", _after_variance_review)
    graph.add_edge("write", "learn")
    graph.add_edge("learn", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH)
