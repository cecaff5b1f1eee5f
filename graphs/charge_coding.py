"""The charge_coding graph: a finalized note becomes a draft charge, written only after a person decides.

load_context -> retrieve -> suggest -> validate -> review (interrupt) -> write -> learn; a rejection goes
from review straight to learn. Thread id `encounter:<id>`; the draft charge's idempotency key is the
run id fixed at load_context, so a re-run of write (after a crash or a second resume) never duplicates it.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt
from pydantic import BaseModel, Field, model_validator

from agents.coding.schemas import CodeSuggester, CodeSuggestion, CodingRequest, PriorVisit
from agents.coding.validate import validate_suggestion
from billing.charges import Charge, ChargeLine, ChargeStatus
from billing.money import ZERO, Money
from billing.practice import Coverage
from graphs.ports import AuditEntry, AuditSink, CodingFeedback, CodingRetriever, FeedbackStore, inputs_hash
from knowledge.base import KnowledgeBase
from knowledge.validation.visits import NEW_PATIENT_WINDOW_DAYS
from knowledge.vectorstore.records import CodedEncounter, CodedProcedure
from tools.crystalpm import CrystalPM, NotFound

GRAPH = "charge_coding"
SYSTEM_ACTOR = f"system:{GRAPH}"
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
SIMILAR_ENCOUNTERS = 5
POLICY_PASSAGES = 4


def thread_id_for(encounter_id: str) -> str:
    return f"encounter:{encounter_id}"


# What a reviewer sends and what gets written


class CodedLine(BaseModel):
    code: str
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    units: int = Field(1, ge=1)
    diagnosis_codes: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return "-".join([self.code, *self.modifiers]) + (f"x{self.units}" if self.units != 1 else "")


class Coding(BaseModel):
    """A charge's codes: diagnoses in claim order and the procedure lines pointing to them."""

    diagnosis_codes: list[str] = Field(default_factory=list, max_length=MAX_DIAGNOSES)
    lines: list[CodedLine] = Field(default_factory=list)

    @classmethod
    def of(cls, suggestion: CodeSuggestion) -> "Coding":
        diagnoses = [diagnosis.code for diagnosis in suggestion.diagnoses]
        for line in suggestion.lines:
            diagnoses += [code for code in line.diagnosis_codes if code not in diagnoses]
        return cls(
            diagnosis_codes=diagnoses[:MAX_DIAGNOSES],
            lines=[
                CodedLine(
                    code=line.code,
                    modifiers=line.modifiers,
                    units=max(line.units, 1),
                    diagnosis_codes=line.diagnosis_codes,
                )
                for line in suggestion.lines
            ],
        )


class ReviewDecision(BaseModel):
    """The value a review is resumed with."""

    decision: Literal["approve", "edit", "reject"]
    edited: Coding | None = Field(None, description="the corrected codes; required when decision is 'edit'")
    reason: str = ""
    reviewer: str = Field(min_length=1, description="the user id of the person deciding, or policy:<name>")

    @model_validator(mode="after")
    def _edit_carries_codes(self) -> "ReviewDecision":
        if self.decision == "edit" and self.edited is None:
            raise ValueError("an 'edit' decision needs 'edited' (the corrected diagnoses and lines)")
        return self


def coding_diff(suggested: Coding, final: Coding | None) -> dict[str, Any]:
    """How the final coding differs from the suggestion (what the reviewer added, removed or re-pointed)."""
    final_codes = final or Coding()
    suggested_lines = {line.key: line for line in suggested.lines}
    final_lines = {line.key: line for line in final_codes.lines}
    diff = {
        "diagnoses_added": [
            code for code in final_codes.diagnosis_codes if code not in suggested.diagnosis_codes
        ],
        "diagnoses_removed": [
            code for code in suggested.diagnosis_codes if code not in final_codes.diagnosis_codes
        ],
        "lines_added": [key for key in final_lines if key not in suggested_lines],
        "lines_removed": [key for key in suggested_lines if key not in final_lines],
        "lines_repointed": [
            key
            for key, line in final_lines.items()
            if key in suggested_lines and line.diagnosis_codes != suggested_lines[key].diagnosis_codes
        ],
    }
    diff["unchanged"] = final is not None and not any(diff.values())
    return diff


class VisitContext(BaseModel):
    """What load_context learned about the visit; ids and plan facts only, never names."""

    encounter_id: str
    practice_id: str
    patient_id: str
    provider_id: str
    date_of_service: date
    payer_name: str
    payer_kind: str
    established: bool
    fees: dict[str, Money] = Field(default_factory=dict, description="'code' or 'code-modifier' -> fee")

    def fee(self, line: CodedLine) -> Decimal:
        for modifier in line.modifiers:
            if f"{line.code}-{modifier}" in self.fees:
                return self.fees[f"{line.code}-{modifier}"]
        return self.fees.get(line.code, ZERO)


def draft_charge(context: VisitContext, coding: Coding, run_id: str) -> Charge:
    """The draft charge for a coding: diagnoses in order, each line pointing to its diagnoses, fees filled."""
    diagnoses = list(coding.diagnosis_codes)
    for line in coding.lines:
        diagnoses += [code for code in line.diagnosis_codes if code not in diagnoses]
    diagnoses = diagnoses[:MAX_DIAGNOSES]
    lines = []
    for line in coding.lines:
        pointers = [diagnoses.index(code) + 1 for code in line.diagnosis_codes if code in diagnoses]
        lines.append(
            ChargeLine(
                code=line.code,
                modifiers=line.modifiers,
                units=line.units,
                diagnosis_pointers=(pointers or ([1] if diagnoses else []))[:MAX_POINTERS],
                fee=context.fee(line) * line.units,
            )
        )
    return Charge(
        practice_id=context.practice_id,
        encounter_id=context.encounter_id,
        patient_id=context.patient_id,
        provider_id=context.provider_id,
        diagnosis_codes=diagnoses,
        lines=lines,
        status=ChargeStatus.DRAFT,
        source="ai_suggested",
        note=f"Fovea charge_coding run {run_id}",
    )


# State: JSON-ready values only, so any checkpointer stores them without custom types


class ChargeCodingInput(TypedDict):
    encounter_id: str


class ChargeCodingState(TypedDict, total=False):
    encounter_id: str
    run_id: str
    context: dict[str, Any]
    request: dict[str, Any]
    suggestion: dict[str, Any]
    decision: dict[str, Any]
    charge_id: str


class ChargeCodingOutput(TypedDict, total=False):
    run_id: str
    suggestion: dict[str, Any]
    decision: dict[str, Any]
    charge_id: str


def _thread_id(config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("thread_id", ""))


def _coverage_for(coverages: list[Coverage], coverage_id: str | None, on: date) -> Coverage | None:
    """The encounter's own coverage, else the first-priority coverage in force on the date of service."""
    for coverage in coverages:
        if coverage.id == coverage_id:
            return coverage
    in_force = [
        coverage
        for coverage in coverages
        if (coverage.effective is None or coverage.effective <= on)
        and (coverage.termination is None or on < coverage.termination)
    ]
    return min(in_force, key=lambda coverage: coverage.priority, default=None)


def _code_summary(coding: Coding) -> dict[str, Any]:
    return {"diagnoses": coding.diagnosis_codes, "lines": [line.key for line in coding.lines]}


class ChargeCodingNodes:
    """The graph's nodes, sharing their dependencies; each returns a partial state update."""

    def __init__(
        self,
        *,
        crystalpm: CrystalPM,
        suggester: CodeSuggester,
        kb: KnowledgeBase,
        retriever: CodingRetriever,
        audit: AuditSink,
        feedback: FeedbackStore,
    ) -> None:
        self.crystalpm = crystalpm
        self.suggester = suggester
        self.kb = kb
        self.retriever = retriever
        self.audit = audit
        self.feedback = feedback

    def _record(
        self,
        config: RunnableConfig,
        context: VisitContext | None,
        node: str,
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
                practice_id=context.practice_id if context else "",
                patient_id=context.patient_id if context else "",
                thread_id=_thread_id(config),
                inputs_hash=inputs_hash(inputs),
                prompt_hash=prompt_hash,
                engine=engine,
                detail=detail,
            )
        )

    def load_context(self, state: ChargeCodingState, config: RunnableConfig) -> ChargeCodingState:
        encounter_id = state["encounter_id"]
        client = self.crystalpm
        encounter = client.get_encounter(encounter_id)
        note = client.get_note(encounter_id)
        patient = client.get_patient(encounter.patient_id)
        dos = encounter.date_of_service
        coverage = _coverage_for(client.get_coverage(patient.id), encounter.coverage_id, dos)
        payer_name, payer_kind = "", "commercial"
        if coverage is not None:
            payer_kind = coverage.plan_kind.value
            try:
                payer_name = client.get_payer(coverage.payer_id).name
            except NotFound:
                payer_name = coverage.plan_name
        billed: dict[str, list[str]] = {}
        for charge in client.iter_charges(patient_id=patient.id):
            if charge.status is not ChargeStatus.VOID and charge.encounter_id != encounter_id:
                billed.setdefault(charge.encounter_id, []).extend(line.code for line in charge.lines)
        prior = [
            visit
            for visit in client.get_visit_history(patient.id)
            if visit.practice_id == encounter.practice_id
            and visit.date_of_service < dos
            and visit.id != encounter_id
        ]
        history = [PriorVisit(date=visit.date_of_service, codes=billed.get(visit.id, [])) for visit in prior]
        # The 3-year rule: a service by this group within three years makes the patient established.
        window_start = dos - timedelta(days=NEW_PATIENT_WINDOW_DAYS)
        established = any(visit.date_of_service >= window_start for visit in prior)
        fees = {
            f"{entry.code}-{entry.modifier}" if entry.modifier else entry.code: entry.amount
            for entry in client.get_fee_schedule(encounter.practice_id)
        }
        context = VisitContext(
            encounter_id=encounter_id,
            practice_id=encounter.practice_id,
            patient_id=patient.id,
            provider_id=encounter.provider_id,
            date_of_service=dos,
            payer_name=payer_name,
            payer_kind=payer_kind,
            established=established,
            fees=fees,
        )
        request = CodingRequest(
            note=note.text,
            patient_age=patient.age_on(dos),
            patient_sex=patient.sex.value,
            payer_name=payer_name,
            payer_kind=payer_kind,
            established=established,
            date_of_service=dos,
            history=history,
            fee_schedule_codes={key.split("-", 1)[0] for key in fees} or None,
        )
        run_id = f"{_thread_id(config) or thread_id_for(encounter_id)}:{uuid.uuid4().hex}"
        self._record(
            config,
            context,
            "load_context",
            {"encounter_id": encounter_id, "note_id": note.id},
            {
                "run_id": run_id,
                "payer_kind": payer_kind,
                "established": established,
                "prior_visits": len(history),
                "fee_schedule_codes": len(fees),
                "note_chars": len(note.text),
                "note_finalized": note.finalized,
            },
        )
        return {
            "run_id": run_id,
            "context": context.model_dump(mode="json"),
            "request": request.model_dump(mode="json"),
        }

    def retrieve(self, state: ChargeCodingState, config: RunnableConfig) -> ChargeCodingState:
        context = VisitContext.model_validate(state["context"])
        request = CodingRequest.model_validate(state["request"])
        similar = self.retriever.similar_encounters(
            request.note,
            practice_id=context.practice_id,
            exclude_encounter_id=context.encounter_id,
            k=SIMILAR_ENCOUNTERS,
        )
        policies = self.retriever.payer_policies(
            request.note, payer_kind=context.payer_kind, k=POLICY_PASSAGES
        )
        request = request.model_copy(update={"similar_encounters": similar, "payer_policies": policies})
        self._record(
            config,
            context,
            "retrieve",
            {"note": request.note, "payer_kind": context.payer_kind},
            {
                "similar_encounters": [
                    {"encounter_id": hit.encounter_id, "similarity": round(hit.similarity, 4)}
                    for hit in similar
                ],
                "policies": sorted({passage.policy_id for passage in policies}),
            },
        )
        return {"request": request.model_dump(mode="json")}

    def suggest(self, state: ChargeCodingState, config: RunnableConfig) -> ChargeCodingState:
        context = VisitContext.model_validate(state["context"])
        request = CodingRequest.model_validate(state["request"])
        suggestion = self.suggester.suggest(request)
        self._record(
            config,
            context,
            "suggest",
            state["request"],
            {
                **_code_summary(Coding.of(suggestion)),
                "confidence": suggestion.confidence,
                "findings": [finding.code for finding in suggestion.findings],
            },
            actor=f"engine:{self.suggester.name}",
            engine=f"{suggestion.engine}@{suggestion.engine_version}",
            prompt_hash=getattr(self.suggester, "prompt_hash", ""),
        )
        return {"suggestion": suggestion.model_dump(mode="json")}

    def validate(self, state: ChargeCodingState, config: RunnableConfig) -> ChargeCodingState:
        context = VisitContext.model_validate(state["context"])
        request = CodingRequest.model_validate(state["request"])
        suggestion = CodeSuggestion.model_validate(state["suggestion"])
        checked = validate_suggestion(suggestion, request, self.kb)
        # The engine may have validated already: keep each finding once.
        unique = {finding.model_dump_json(): finding for finding in checked.findings}
        checked = checked.model_copy(update={"findings": list(unique.values())})
        self._record(
            config,
            context,
            "validate",
            state["suggestion"],
            {
                **_code_summary(Coding.of(checked)),
                "confidence": checked.confidence,
                "findings": [f"{finding.severity.value}:{finding.code}" for finding in checked.findings],
                "auto_draft": checked.auto_draft,
            },
            engine="knowledge.validation",
        )
        return {"suggestion": checked.model_dump(mode="json")}

    def review(self, state: ChargeCodingState, config: RunnableConfig) -> ChargeCodingState:
        suggestion = CodeSuggestion.model_validate(state["suggestion"])
        # Everything above interrupt() runs again on resume, so nothing with a side effect goes there.
        answer = interrupt(
            {
                "thread_id": _thread_id(config),
                "encounter_id": state["encounter_id"],
                "run_id": state["run_id"],
                "suggestion": state["suggestion"],
                "findings": [finding.model_dump(mode="json") for finding in suggestion.findings],
                "confidence": suggestion.confidence,
                "auto_draft": suggestion.auto_draft,
            }
        )
        decision = ReviewDecision.model_validate(answer)
        context = VisitContext.model_validate(state["context"])
        self._record(
            config,
            context,
            "review",
            answer,
            {
                "decision": decision.decision,
                "has_reason": bool(decision.reason),
                **({"edited": _code_summary(decision.edited)} if decision.edited else {}),
            },
            actor=decision.reviewer if ":" in decision.reviewer else f"user:{decision.reviewer}",
        )
        return {"decision": decision.model_dump(mode="json")}

    def write(self, state: ChargeCodingState, config: RunnableConfig) -> ChargeCodingState:
        context = VisitContext.model_validate(state["context"])
        decision = ReviewDecision.model_validate(state["decision"])
        coding = final_coding(state)
        if coding is None:
            raise RuntimeError("write runs only after an approve or edit decision")
        charge = draft_charge(context, coding, state["run_id"])
        posted = self.crystalpm.post_draft_charge(charge, idempotency_key=state["run_id"])
        self._record(
            config,
            context,
            "write",
            charge.model_dump(mode="json"),
            {"charge_id": posted.id, "approved_by": decision.reviewer, **_code_summary(coding)},
        )
        return {"charge_id": posted.id}

    def learn(self, state: ChargeCodingState, config: RunnableConfig) -> ChargeCodingState:
        context = VisitContext.model_validate(state["context"])
        decision = ReviewDecision.model_validate(state["decision"])
        suggestion = CodeSuggestion.model_validate(state["suggestion"])
        final = final_coding(state)
        diff = coding_diff(Coding.of(suggestion), final)
        self.feedback.save(
            CodingFeedback(
                id=state["run_id"],
                thread_id=_thread_id(config),
                encounter_id=context.encounter_id,
                practice_id=context.practice_id,
                suggestion=state["suggestion"],
                final=final.model_dump(mode="json") if final else None,
                diff=diff,
                decision=decision.decision,
                reviewer=decision.reviewer,
                reason=decision.reason,
                decided_at=datetime.now(UTC),
            )
        )
        if final is not None:
            self.retriever.remember(
                CodedEncounter(
                    encounter_id=context.encounter_id,
                    practice_id=context.practice_id,
                    note_text=CodingRequest.model_validate(state["request"]).note,
                    diagnosis_codes=final.diagnosis_codes,
                    procedure_codes=[
                        CodedProcedure(code=line.code, modifiers=line.modifiers, units=line.units)
                        for line in final.lines
                    ],
                    payer_name=context.payer_name,
                    payer_kind=context.payer_kind,
                    date_of_service=context.date_of_service,
                )
            )
        self._record(
            config,
            context,
            "learn",
            {"run_id": state["run_id"], "decision": decision.decision},
            {"decision": decision.decision, "diff": diff, "remembered": final is not None},
        )
        return {}


def final_coding(state: ChargeCodingState) -> Coding | None:
    """What the reviewer approved: the suggestion, the edited codes, or None for a rejection."""
    decision = ReviewDecision.model_validate(state["decision"])
    if decision.decision == "reject":
        return None
    if decision.decision == "edit":
        return decision.edited
    return Coding.of(CodeSuggestion.model_validate(state["suggestion"]))


def after_review(state: ChargeCodingState) -> Literal["write", "learn"]:
    return "learn" if state["decision"]["decision"] == "reject" else "write"


def build_charge_coding_graph(
    *,
    crystalpm: CrystalPM,
    suggester: CodeSuggester,
    kb: KnowledgeBase,
    retriever: CodingRetriever,
    audit: AuditSink,
    feedback: FeedbackStore,
    checkpointer: BaseCheckpointSaver | None,
) -> CompiledStateGraph:
    """The compiled charge_coding graph; run it with thread id `encounter:<id>` and {"encounter_id": id}."""
    nodes = ChargeCodingNodes(
        crystalpm=crystalpm, suggester=suggester, kb=kb, retriever=retriever, audit=audit, feedback=feedback
    )
    graph = StateGraph(ChargeCodingState, input_schema=ChargeCodingInput, output_schema=ChargeCodingOutput)
    graph.add_node("load_context", nodes.load_context)
    graph.add_node("retrieve", nodes.retrieve)
    graph.add_node("suggest", nodes.suggest)
    graph.add_node("validate", nodes.validate)
    graph.add_node("review", nodes.review)
    graph.add_node("write", nodes.write)
    graph.add_node("learn", nodes.learn)
    graph.add_edge(START, "load_context")
    graph.add_edge("load_context", "retrieve")
    graph.add_edge("retrieve", "suggest")
    graph.add_edge("suggest", "validate")
    graph.add_edge("validate", "review")
    graph.add_conditional_edges("review", after_review)
    graph.add_edge("write", "learn")
    graph.add_edge("learn", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH)
