"""The claim_scrub graph: a claim is checked and scored before submission; only a person's approval writes fixes.

load -> check -> score -> pass (audited, clean low-risk claims) | review (interrupt) -> write -> learn; a
rejection goes from review straight to learn. Thread id `claim:<id>`. The claim edit's idempotency key is
the run id fixed at load (tasks add `:task:<n>`), so a re-run of write never edits or tasks twice.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt
from pydantic import BaseModel, Field, model_validator

from agents.risk.schemas import RiskScore, RiskScorer
from agents.scrub.checks import find_problems
from agents.scrub.facts import ClaimFacts, claim_input_for
from agents.scrub.fixes import Fix, claim_changes, propose_fixes
from agents.scrub.load import FactsLoader
from billing.claim_input import ClaimInput
from billing.findings import Finding, Severity
from graphs.ports import AuditEntry, AuditSink, CodingFeedback, FeedbackStore, inputs_hash
from knowledge.base import KnowledgeBase
from tools.crystalpm import CrystalPM

GRAPH = "claim_scrub"
SYSTEM_ACTOR = f"system:{GRAPH}"


def thread_id_for(claim_id: str) -> str:
    return f"claim:{claim_id}"


class ScrubDecision(BaseModel):
    """The value a review is resumed with; an edit carries the fixes to apply instead of the proposed ones."""

    decision: Literal["approve", "edit", "reject"]
    edited: dict[str, Any] | None = Field(None, description='{"fixes": [Fix, ...]} when decision is "edit"')
    reason: str = ""
    reviewer: str = Field(min_length=1, description="the user id of the person deciding, or policy:<name>")

    @model_validator(mode="after")
    def _edit_carries_fixes(self) -> "ScrubDecision":
        if self.decision == "edit":
            if not self.edited or not isinstance(self.edited.get("fixes"), list):
                raise ValueError('an "edit" decision needs edited = {"fixes": [...]}')
            [Fix.model_validate(fix) for fix in self.edited["fixes"]]
        return self

    def fixes(self, proposed: list[Fix]) -> list[Fix]:
        if self.decision == "reject":
            return []
        if self.decision == "edit" and self.edited is not None:
            return [Fix.model_validate(fix) for fix in self.edited["fixes"]]
        return proposed


class ClaimScrubInput(TypedDict, total=False):
    claim_id: str
    facts: dict[str, Any]


class ClaimScrubState(TypedDict, total=False):
    claim_id: str
    facts: dict[str, Any]
    run_id: str
    findings: list[dict[str, Any]]
    fixes: list[dict[str, Any]]
    risk: dict[str, Any]
    decision: dict[str, Any]
    outcome: str
    claim_edited: bool
    task_ids: list[str]


class ClaimScrubOutput(TypedDict, total=False):
    run_id: str
    findings: list[dict[str, Any]]
    fixes: list[dict[str, Any]]
    risk: dict[str, Any]
    decision: dict[str, Any]
    outcome: str
    claim_edited: bool
    task_ids: list[str]


def _thread_id(config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("thread_id", ""))


def _findings(state: ClaimScrubState) -> list[Finding]:
    return [Finding.model_validate(item) for item in state.get("findings", [])]


def needs_review(findings: list[Finding], risk: RiskScore) -> bool:
    return any(item.severity is Severity.ERROR for item in findings) or risk.band != "low"


class ClaimScrubNodes:
    def __init__(
        self,
        *,
        crystalpm: CrystalPM,
        kb: KnowledgeBase,
        risk: RiskScorer,
        audit: AuditSink,
        feedback: FeedbackStore,
        today: Callable[[], date],
    ) -> None:
        self.crystalpm = crystalpm
        self.kb = kb
        self.risk = risk
        self.audit = audit
        self.feedback = feedback
        self.today = today

    def _record(
        self,
        config: RunnableConfig,
        facts: ClaimFacts,
        node: str,
        inputs: Any,
        detail: dict[str, Any],
        *,
        actor: str = SYSTEM_ACTOR,
        engine: str = "",
    ) -> None:
        self.audit.record(
            AuditEntry(
                actor=actor,
                action=f"{GRAPH}.{node}",
                practice_id=facts.claim.practice_id,
                patient_id=facts.claim.patient_id,
                claim_id=facts.claim.id,
                thread_id=_thread_id(config),
                inputs_hash=inputs_hash(inputs),
                engine=engine,
                detail=detail,
            )
        )

    @staticmethod
    def _facts(state: ClaimScrubState) -> ClaimFacts:
        return ClaimFacts.model_validate(state["facts"])

    def load(self, state: ClaimScrubState, config: RunnableConfig) -> ClaimScrubState:
        # A scan passes facts it gathered in bulk; a webhook run reads them here.
        if state.get("facts"):
            facts = ClaimFacts.model_validate(state["facts"])
        else:
            facts = FactsLoader(self.crystalpm, today=self.today()).claim_facts(state["claim_id"])
        run_id = f"{_thread_id(config) or thread_id_for(facts.claim.id)}:{uuid.uuid4().hex}"
        self._record(
            config,
            facts,
            "load",
            {"claim_id": facts.claim.id},
            {
                "run_id": run_id,
                "status": facts.claim.status.value,
                "lines": len(facts.claim.lines),
                "payer_known": facts.payer is not None,
                "coverage_known": facts.coverage is not None,
                "other_claims": len(facts.other_claims),
            },
        )
        # A thread re-scrubs its claim after an edit: nothing of the previous run's decision carries over.
        return {
            "claim_id": facts.claim.id,
            "facts": facts.model_dump(mode="json"),
            "run_id": run_id,
            "decision": {},
            "outcome": "",
            "claim_edited": False,
            "task_ids": [],
        }

    def check(self, state: ClaimScrubState, config: RunnableConfig) -> ClaimScrubState:
        facts = self._facts(state)
        claim = claim_input_for(facts)
        findings = find_problems(claim, self.kb, facts)
        fixes = propose_fixes(claim, findings, self.kb, facts)
        self._record(
            config,
            facts,
            "check",
            claim.model_dump(mode="json"),
            {
                "findings": [f"{item.severity.value}:{item.code}" for item in findings],
                "fixes": [f"{fix.edit.op}:{fix.edit.line or ''}" for fix in fixes],
            },
            engine="knowledge.validation",
        )
        return {
            "findings": [item.model_dump(mode="json") for item in findings],
            "fixes": [fix.model_dump(mode="json") for fix in fixes],
        }

    def score(self, state: ClaimScrubState, config: RunnableConfig) -> ClaimScrubState:
        facts = self._facts(state)
        claim: ClaimInput = claim_input_for(facts)
        risk = self.risk.score(claim, _findings(state), facts)
        self._record(
            config,
            facts,
            "score",
            {"findings": state["findings"]},
            {"score": risk.score, "band": risk.band, "factors": risk.factors},
            actor=f"engine:{risk.model}",
            engine=f"{risk.model}@{risk.version}",
        )
        return {"risk": risk.model_dump(mode="json")}

    def passed(self, state: ClaimScrubState, config: RunnableConfig) -> ClaimScrubState:
        facts = self._facts(state)
        self._record(
            config,
            facts,
            "pass",
            {"run_id": state["run_id"]},
            {"outcome": "passed", "score": state["risk"]["score"], "band": state["risk"]["band"]},
        )
        return {"outcome": "passed"}

    def review(self, state: ClaimScrubState, config: RunnableConfig) -> ClaimScrubState:
        # Everything above interrupt() runs again on resume, so nothing with a side effect goes there.
        answer = interrupt(
            {
                "thread_id": _thread_id(config),
                "claim_id": state["claim_id"],
                "run_id": state["run_id"],
                "findings": state["findings"],
                "risk": state["risk"],
                "fixes": state["fixes"],
            }
        )
        decision = ScrubDecision.model_validate(answer)
        self._record(
            config,
            self._facts(state),
            "review",
            answer,
            {"decision": decision.decision, "has_reason": bool(decision.reason)},
            actor=decision.reviewer if ":" in decision.reviewer else f"user:{decision.reviewer}",
        )
        return {"decision": decision.model_dump(mode="json")}

    def write(self, state: ClaimScrubState, config: RunnableConfig) -> ClaimScrubState:
        facts = self._facts(state)
        decision = ScrubDecision.model_validate(state["decision"])
        fixes = decision.fixes([Fix.model_validate(fix) for fix in state["fixes"]])
        run_id = state["run_id"]
        changes = claim_changes(
            facts.claim,
            fixes,
            note=f"Fovea claim_scrub run {run_id}, approved by {decision.reviewer}",
            plan_names={c.id: c.plan_name for c in facts.coverages},
        )
        if changes.edit is not None:
            self.crystalpm.update_claim(facts.claim.id, changes.edit, idempotency_key=run_id)
        task_ids = [
            self.crystalpm.create_task(task, idempotency_key=f"{run_id}:task:{number}").id
            for number, task in enumerate(changes.tasks, start=1)
        ]
        self._record(
            config,
            facts,
            "write",
            changes.model_dump(mode="json"),
            {
                "claim_edited": changes.edit is not None,
                "task_ids": task_ids,
                "approved_by": decision.reviewer,
            },
        )
        return {"outcome": "written", "claim_edited": changes.edit is not None, "task_ids": task_ids}

    def learn(self, state: ClaimScrubState, config: RunnableConfig) -> ClaimScrubState:
        facts = self._facts(state)
        decision = ScrubDecision.model_validate(state["decision"])
        proposed = [Fix.model_validate(fix) for fix in state["fixes"]]
        final = decision.fixes(proposed)
        proposed_keys = {fix.edit.model_dump_json() for fix in proposed}
        final_keys = {fix.edit.model_dump_json() for fix in final}
        diff = {
            "fixes_added": sorted(final_keys - proposed_keys),
            "fixes_dropped": sorted(proposed_keys - final_keys),
            "unchanged": decision.decision != "reject" and proposed_keys == final_keys,
        }
        self.feedback.save(
            CodingFeedback(
                id=state["run_id"],
                thread_id=_thread_id(config),
                encounter_id=facts.claim.encounter_id,
                practice_id=facts.claim.practice_id,
                suggestion={"findings": state["findings"], "risk": state["risk"], "fixes": state["fixes"]},
                final={"fixes": [fix.model_dump(mode="json") for fix in final]}
                if decision.decision != "reject"
                else None,
                diff=diff,
                decision=decision.decision,
                reviewer=decision.reviewer,
                reason=decision.reason,
                decided_at=datetime.now(UTC),
            )
        )
        self._record(
            config,
            facts,
            "learn",
            {"run_id": state["run_id"], "decision": decision.decision},
            {"decision": decision.decision, "diff": diff},
        )
        return {"outcome": state.get("outcome") or "rejected"}


def after_score(state: ClaimScrubState) -> Literal["pass", "review"]:
    risk = RiskScore.model_validate(state["risk"])
    return "review" if needs_review(_findings(state), risk) else "pass"


def after_review(state: ClaimScrubState) -> Literal["write", "learn"]:
    return "learn" if state["decision"]["decision"] == "reject" else "write"


def build_claim_scrub_graph(
    *,
    crystalpm: CrystalPM,
    kb: KnowledgeBase,
    risk: RiskScorer,
    audit: AuditSink,
    feedback: FeedbackStore,
    checkpointer: BaseCheckpointSaver | None,
    today: Callable[[], date] = date.today,
) -> CompiledStateGraph:
    """The compiled claim_scrub graph; run it with thread id `claim:<id>` and {"claim_id": id}."""
    nodes = ClaimScrubNodes(
        crystalpm=crystalpm, kb=kb, risk=risk, audit=audit, feedback=feedback, today=today
    )
    graph = StateGraph(ClaimScrubState, input_schema=ClaimScrubInput, output_schema=ClaimScrubOutput)
    graph.add_node("load", nodes.load)
    graph.add_node("check", nodes.check)
    graph.add_node("score", nodes.score)
    graph.add_node("pass", nodes.passed)
    graph.add_node("review", nodes.review)
    graph.add_node("write", nodes.write)
    graph.add_node("learn", nodes.learn)
    graph.add_edge(START, "load")
    graph.add_edge("load", "check")
    graph.add_edge("check", "score")
    graph.add_conditional_edges("score", after_score)
    graph.add_edge("pass", END)
    graph.add_conditional_edges("review", after_review)
    graph.add_edge("write", "learn")
    graph.add_edge("learn", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH)
