"""The remittance graph: an 835 is posted and its denials triaged, appeals drafted, and work written after review.

load -> parse -> post -> triage -> draft_appeals -> review (interrupt) -> write -> learn; a rejection goes from
review straight to learn. Thread id `remit:<remittance id>`. Every Crystal PM write carries the idempotency key
`<run id>:<item>`, the run id fixed at load, so a re-run of write (a crash, a second resume) never duplicates.
Posting looks claims up by control number, and when one matches nothing, also fetches the practice's claims
of those dates for fuzzy matching; each line's write-off stops at the allowed amount of the payer's contract
in force on the date of service (approved terms first), the rest is held for the contracts workflow.
"""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt
from pydantic import BaseModel, Field, model_validator

from agents.appeals.facts import clinical_facts
from agents.appeals.letter import AppealDrafter, AppealLetter, AppealRequest, PolicyCitation
from agents.contracts.schemas import ApprovedContract
from agents.denials.appeal_model import AppealScorer, case_for
from agents.denials.routing import queue_role
from agents.denials.schemas import DenialContext, DenialTriage, DeniedLine, NextAction
from agents.denials.triage import denied_lines, line_fixes, triage_line
from agents.scrub.checks import find_problems, in_force
from agents.scrub.facts import ClaimFacts, claim_input_for
from agents.scrub.fixes import propose_fixes
from agents.scrub.load import FactsLoader
from agents.variance.expected import contract_on, expected_allowed_lines
from billing.claims import Claim, ClaimLine
from billing.contracts import Contract
from billing.money import ZERO, money_str
from billing.posting import (
    DATE_WINDOW_DAYS,
    ExpectedAllowed,
    PatientKey,
    PostingResult,
    fuzzy_candidate,
    reconcile,
    service_dates,
)
from billing.pricing import MedicareFeeSource
from billing.remittance import ClaimPayment, Remittance
from billing.settings import Settings
from billing.tasks import Task
from billing.x12_835 import parse_835
from graphs.ports import AuditEntry, AuditSink, inputs_hash
from knowledge.base import KnowledgeBase
from tools.crystalpm import CrystalPM, NotFound, NotSupported
from tools.crystalpm.models import LineOutcome

GRAPH = "remittance"
SYSTEM_ACTOR = f"system:{GRAPH}"
POLICY_PASSAGES = 3
# Claims read at most when looking for fuzzy-match candidates: a file of old claims must not scan the practice.
FUZZY_SCAN_LIMIT = 5000
TASK_KINDS: dict[NextAction, str] = {
    NextAction.CORRECT_AND_RESUBMIT: "claim_fix",
    NextAction.APPEAL: "follow_up",
    NextAction.BILL_SECONDARY: "follow_up",
    NextAction.BILL_PATIENT: "follow_up",
    NextAction.WRITE_OFF_REVIEW: "follow_up",
}


def thread_id_for(remittance_id: str) -> str:
    return f"remit:{remittance_id}"


def appeal_id_for(remittance_id: str, line: DeniedLine) -> str:
    return f"{remittance_id}:{line.claim_id}:{line.line_number}"


class ApprovedTerms(Protocol):
    """Contract terms a person approved (api/storage/contracts.py is the real one)."""

    def approved_contract(self, contract_id: str) -> ApprovedContract | None: ...


class PolicyRetriever(Protocol):
    """Payer policy and LCD passages from the payer_policies collection."""

    def payer_policies(self, text: str, *, payer_kind: str, k: int = 4) -> list[Any]: ...


class RemittanceEdits(BaseModel):
    """What a reviewer may change before approving: letter texts by appeal id, items to leave unwritten."""

    letters: dict[str, str] = Field(default_factory=dict, description="appeal id -> edited letter text")
    skip: list[str] = Field(default_factory=list, description="work item keys (`claim:line`) not to write")


class RemittanceDecision(BaseModel):
    decision: Literal["approve", "edit", "reject"]
    edited: RemittanceEdits | None = None
    reason: str = ""
    reviewer: str = Field(min_length=1, description="the user id of the person deciding, or policy:<name>")

    @model_validator(mode="after")
    def _edit_carries_changes(self) -> "RemittanceDecision":
        if self.decision == "edit" and self.edited is None:
            raise ValueError("an 'edit' decision needs 'edited' (letters and/or skipped items)")
        return self


class RemittanceInput(TypedDict, total=False):
    remittance_id: str
    practice_id: str
    x12: str


class RemittanceState(TypedDict, total=False):
    remittance_id: str
    practice_id: str
    x12: str
    run_id: str
    received_on: str
    remittance: dict[str, Any]
    parse_findings: list[dict[str, Any]]
    posting: dict[str, Any]
    triage: list[dict[str, Any]]
    appeals: list[dict[str, Any]]
    decision: dict[str, Any]
    written: dict[str, str]


class RemittanceOutput(TypedDict, total=False):
    run_id: str
    triage: list[dict[str, Any]]
    appeals: list[dict[str, Any]]
    decision: dict[str, Any]
    written: dict[str, str]


def _thread_id(config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("thread_id", ""))


def denial_task(triage: DenialTriage, practice_id: str, run_id: str) -> Task:
    """The work item for one triaged denial: what, why, the next action and the money at stake."""
    line = triage.line
    lines = [
        f"Denied: {line.code} line {line.line_number}, {', '.join(f'{c.kind} {c.code}' for c in triage.codes)}",
        f"Category: {triage.category.value}. Root cause: {triage.root_cause}",
        f"Next action: {triage.next_best_action.value}. {triage.action_reason}",
        f"Denied amount {money_str(triage.amount)}; expected recovery {money_str(triage.expected_recovery)}.",
    ]
    if triage.fix:
        lines.append("Proposed fix: " + "; ".join(fix.description for fix in triage.fix))
    if triage.appeal_score is not None:
        lines.append(f"Appeal-success score {triage.appeal_score.score:.2f} ({triage.appeal_score.source}).")
    lines.append(f"Queue: {triage.queue}. Fovea remittance run {run_id}.")
    return Task(
        practice_id=practice_id,
        kind=TASK_KINDS[triage.next_best_action],
        title=f"Claim {line.claim_id} line {line.line_number}: {triage.next_best_action.value.replace('_', ' ')}"[
            :200
        ],
        body="\n".join(lines),
        claim_id=line.claim_id,
        amount=triage.amount,
        assigned_role=queue_role(triage.queue).value,
    )


def appeal_task(letter: AppealLetter, practice_id: str, amount: Any) -> Task:
    return Task(
        practice_id=practice_id,
        kind="appeal",
        title=letter.subject[:200],
        body=letter.text,
        claim_id=letter.claim_id,
        amount=amount,
        assigned_role="Biller",
    )


class RemittanceNodes:
    """The graph's nodes, sharing their dependencies; each returns a partial state update."""

    def __init__(
        self,
        *,
        crystalpm: CrystalPM,
        kb: KnowledgeBase,
        scorer: AppealScorer,
        drafter: AppealDrafter,
        retriever: PolicyRetriever,
        audit: AuditSink,
        settings: Settings,
        today: Callable[[], date],
        contracts: ApprovedTerms | None = None,
        medicare: MedicareFeeSource | None = None,
    ) -> None:
        self.crystalpm = crystalpm
        self.contracts = contracts
        self.medicare = medicare
        self.kb = kb
        self.scorer = scorer
        self.drafter = drafter
        self.retriever = retriever
        self.audit = audit
        self.settings = settings
        self.today = today

    def _record(
        self,
        config: RunnableConfig,
        state: RemittanceState,
        node: str,
        inputs: Any,
        detail: dict[str, Any],
        *,
        actor: str = SYSTEM_ACTOR,
        engine: str = "",
        prompt_hash: str = "",
        claim_id: str = "",
    ) -> None:
        self.audit.record(
            AuditEntry(
                actor=actor,
                action=f"{GRAPH}.{node}",
                practice_id=state.get("practice_id", ""),
                claim_id=claim_id,
                thread_id=_thread_id(config),
                inputs_hash=inputs_hash(inputs),
                prompt_hash=prompt_hash,
                engine=engine,
                detail=detail,
            )
        )

    def load(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        remittance_id = state["remittance_id"]
        update: RemittanceState = {}
        if state.get("x12"):
            received_on = self.today()
        else:
            info = self.crystalpm.get_remittance(remittance_id)
            update = {"x12": info.x12 or "", "practice_id": info.practice_id}
            received_on = info.received_on
        run_id = f"{_thread_id(config) or thread_id_for(remittance_id)}:{uuid.uuid4().hex}"
        update.update({"run_id": run_id, "received_on": received_on.isoformat()})
        merged = {**state, **update}
        self._record(
            config,
            merged,
            "load",
            {"remittance_id": remittance_id},
            {"run_id": run_id, "x12_chars": len(merged.get("x12", "")), "uploaded": bool(state.get("x12"))},
        )
        return update

    def parse(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        result = parse_835(state["x12"])
        remittance = result.remittance.model_copy(
            update={"id": state["remittance_id"], "practice_id": state.get("practice_id", ""), "raw_x12": ""}
        )
        claims = [claim for t in remittance.transactions for claim in t.claims]
        self._record(
            config,
            state,
            "parse",
            {"x12": state["x12"]},
            {
                "transactions": len(remittance.transactions),
                "claim_payments": len(claims),
                "findings": [f"{f.severity.value}:{f.code}" for f in result.findings],
            },
            engine="billing.x12_835",
        )
        return {
            "remittance": remittance.model_dump(mode="json", exclude={"raw_x12"}),
            "parse_findings": [finding.model_dump(mode="json") for finding in result.findings],
            # The 835 text has served its purpose; checkpoints keep the parsed models only.
            "x12": "",
        }

    def _claims_for(self, remittance: Remittance) -> tuple[list[Claim], dict[str, PatientKey]]:
        """The claims the payments name, plus, for payments whose control number finds none, the candidates
        fuzzy matching may choose from; and the patients of all of them."""
        claims: dict[str, Claim] = {}
        unfound: list[ClaimPayment] = []
        for transaction in remittance.transactions:
            for payment in transaction.claims:
                claim_id = payment.patient_control_number.strip()
                if not claim_id:
                    unfound.append(payment)
                    continue
                if claim_id in claims:
                    continue
                try:
                    claims[claim_id] = self.crystalpm.get_claim(claim_id)
                except NotFound:
                    unfound.append(payment)
        if unfound and remittance.practice_id:
            for claim in self._fuzzy_candidates(remittance.practice_id, unfound):
                claims.setdefault(claim.id, claim)
        patients: dict[str, PatientKey] = {}
        for claim in claims.values():
            if claim.patient_id in patients:
                continue
            try:
                patient = self.crystalpm.get_patient(claim.patient_id)
            except NotFound:
                continue
            patients[claim.patient_id] = PatientKey(
                last_name=patient.last_name, first_name=patient.first_name, birth_date=patient.birth_date
            )
        return list(claims.values()), patients

    def _fuzzy_candidates(self, practice_id: str, payments: list[ClaimPayment]) -> Iterator[Claim]:
        """The practice's claims from the payments' earliest date of service on (less the matching window)
        that fuzzy matching would weigh for one of them: same total charge, a date within the window."""
        dates = [day for payment in payments for day in service_dates(payment)]
        if not dates:
            return
        since = min(dates) - timedelta(days=DATE_WINDOW_DAYS)
        for scanned, claim in enumerate(self.crystalpm.iter_claims(practice_id, since=since)):
            if scanned >= FUZZY_SCAN_LIMIT:
                return
            if any(fuzzy_candidate(claim, payment) for payment in payments):
                yield claim

    def _contract_for(self, claim: Claim, listed: dict[tuple[str, str], list[Contract]]) -> Contract | None:
        """The payer's contract in force on the claim's date of service, with its approved terms if any."""
        key = (claim.practice_id, claim.payer_id)
        if key not in listed:
            try:
                listed[key] = list(self.crystalpm.iter_contracts(claim.practice_id, payer_id=claim.payer_id))
            except NotSupported:  # the files adapter holds no contracts: nothing to hold against
                listed[key] = []
        contract = contract_on(listed[key], claim.date_of_service)
        if contract is None or self.contracts is None:
            return contract
        approved = self.contracts.approved_contract(contract.id)
        return approved.contract if approved else contract

    def _expected_allowed(self) -> ExpectedAllowed:
        """reconcile's `expected`: each claim line's allowed amount under its contract, priced once per claim."""
        listed: dict[tuple[str, str], list[Contract]] = {}
        priced: dict[str, dict[int, Decimal]] = {}

        def expected(claim: Claim, line: ClaimLine) -> Decimal | None:
            if claim.id not in priced:
                contract = self._contract_for(claim, listed)
                priced[claim.id] = (
                    expected_allowed_lines(claim, contract, medicare=self.medicare) if contract else {}
                )
            return priced[claim.id].get(line.line_number)

        return expected

    def post(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        remittance = Remittance.model_validate(state["remittance"])
        claims, patients = self._claims_for(remittance)
        posting = reconcile(remittance, claims, patients=patients, expected=self._expected_allowed())
        self._record(
            config,
            state,
            "post",
            state["remittance"],
            {
                "claims_found": len(claims),
                "fuzzy_matched": sum(1 for match in posting.matches if match.how == "fuzzy"),
                "held": money_str(sum((draft.held for draft in posting.drafts), ZERO)),
                "auto_matched": posting.auto_matched,
                "total_claims": posting.total_claims,
                "exceptions": [exception.code for exception in posting.exceptions],
            },
            engine="billing.posting",
        )
        return {"posting": posting.model_dump(mode="json")}

    def _matched(self, line: DeniedLine, posting: PostingResult) -> DeniedLine:
        """The claim and line the posting matched this remittance line to (it knows fuzzy matches)."""
        match = next((m for m in posting.matches if m.claim_payment_index == line.claim_payment_index), None)
        if match is None or match.claim_id is None:
            return line
        number = next(
            (lm.claim_line_number for lm in match.lines if lm.remit_line_index == line.remit_line_index), None
        )
        return line.model_copy(update={"claim_id": match.claim_id, "line_number": number or line.line_number})

    def _context(self, loader: FactsLoader, claim: Claim) -> tuple[ClaimFacts, DenialContext, list]:
        facts = loader.facts(claim)
        claim_input = claim_input_for(facts)
        findings = find_problems(claim_input, self.kb, facts)
        fixes = propose_fixes(claim_input, findings, self.kb, facts)
        dos = claim.date_of_service
        other = any(c.id != claim.coverage_id and in_force(c, dos) for c in facts.coverages)
        filed_timely = None
        if facts.payer is not None and claim.submitted_on is not None:
            filed_timely = (claim.submitted_on - dos).days <= facts.payer.timely_filing_days
        return facts, DenialContext(other_coverage=other, filed_timely=filed_timely), fixes

    def triage(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        remittance = Remittance.model_validate(state["remittance"])
        posting = PostingResult.model_validate(state["posting"])
        today = self.today()
        loader = FactsLoader(self.crystalpm, today=today)
        triaged: list[DenialTriage] = []
        for line in denied_lines(remittance):
            line = self._matched(line, posting)
            try:
                claim: Claim | None = self.crystalpm.get_claim(line.claim_id)
            except NotFound:
                claim = None
            if claim is None:
                triaged.append(triage_line(line, settings=self.settings))
                continue
            line = line.model_copy(
                update={
                    "practice_id": claim.practice_id,
                    "date_of_service": line.date_of_service or claim.date_of_service,
                }
            )
            facts, context, fixes = self._context(loader, claim)
            note_text = self._note_text(claim)
            outcome = LineOutcome(
                claim_id=claim.id,
                line_number=line.line_number,
                status="denied",
                group=line.group,
                carc=line.carc,
                rarcs=line.rarcs,
            )
            case = case_for(
                claim,
                outcome,
                filed_on=today,
                note_text=note_text,
                payer=facts.payer,
                denied_on=line.paid_on,
                amount=line.denied_amount,
            )
            triaged.append(
                triage_line(
                    line,
                    settings=self.settings,
                    context=context,
                    fixes=line_fixes(fixes, line.line_number),
                    appeal_score=self.scorer.score(case),
                )
            )
        self._record(
            config,
            state,
            "triage",
            state["remittance"],
            {
                "denied_lines": len(triaged),
                "items": [
                    {
                        "key": t.key,
                        "category": t.category.value,
                        "action": t.next_best_action.value,
                        "queue": t.queue,
                        "amount": money_str(t.amount),
                        "appeal_score": t.appeal_score.score if t.appeal_score else None,
                    }
                    for t in triaged
                ],
            },
            engine=getattr(self.scorer, "version", ""),
        )
        return {"triage": [t.model_dump(mode="json") for t in triaged]}

    def _note_text(self, claim: Claim) -> str:
        try:
            return self.crystalpm.get_note(claim.encounter_id).text
        except NotFound:
            return ""

    def draft_appeals(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        appealing = [
            item
            for item in (DenialTriage.model_validate(t) for t in state["triage"])
            if item.next_best_action is NextAction.APPEAL
        ]
        practice = self._practice(state.get("practice_id", "")) if appealing else ("", "")
        letters = [self._draft(state, item, practice) for item in appealing]
        self._record(
            config,
            state,
            "draft_appeals",
            state["triage"],
            {
                "letters": [
                    {
                        "appeal_id": letter.appeal_id,
                        "statements": len(letter.statements),
                        "policies": [p.policy_id for p in letter.policies],
                        "dropped": len(letter.dropped),
                    }
                    for letter in letters
                ]
            },
            actor=f"engine:{self.drafter.name}",
            engine=f"{self.drafter.name}@{getattr(self.drafter, 'version', '')}",
            prompt_hash=getattr(self.drafter, "prompt_hash", ""),
        )
        return {"appeals": [letter.model_dump(mode="json") for letter in letters]}

    def _practice(self, practice_id: str) -> tuple[str, str]:
        try:
            practice = self.crystalpm.get_practice(practice_id)
        except NotFound:
            return "", ""
        return practice.name, practice.npi

    def _draft(self, state: RemittanceState, item: DenialTriage, practice: tuple[str, str]) -> AppealLetter:
        claim = self.crystalpm.get_claim(item.line.claim_id)
        note_text = self._note_text(claim)
        facts = clinical_facts(note_text) if note_text else []
        coverage = next(
            (c for c in self.crystalpm.get_coverage(claim.patient_id) if c.id == claim.coverage_id), None
        )
        payer_kind = coverage.plan_kind.value if coverage else ""
        try:
            payer_name = self.crystalpm.get_payer(claim.payer_id).name
        except NotFound:
            payer_name = item.line.payer
        diagnoses = ", ".join(claim.diagnosis_codes)
        query = f"{item.line.code} {item.root_cause} {diagnoses} {' '.join(f.statement for f in facts if f.kind == 'diagnosis')}"
        policies = [
            PolicyCitation(policy_id=hit.policy_id, title=hit.title, section=hit.section, excerpt=hit.text)
            for hit in self.retriever.payer_policies(query, payer_kind=payer_kind, k=POLICY_PASSAGES)
        ]
        request = AppealRequest(
            appeal_id=appeal_id_for(state["remittance_id"], item.line),
            triage=item,
            today=self.today(),
            payer_name=payer_name,
            payer_kind=payer_kind,
            member_id=coverage.member_id if coverage else "",
            patient_id=claim.patient_id,
            practice_name=practice[0],
            practice_npi=practice[1],
            claim_codes=[*claim.diagnosis_codes, *(line.code for line in claim.lines)],
            note_text=note_text,
            facts=facts,
            policies=policies,
        )
        return self.drafter.draft(request)

    def review(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        posting = state["posting"]
        # Everything above interrupt() runs again on resume, so nothing with a side effect goes there.
        answer = interrupt(
            {
                "thread_id": _thread_id(config),
                "remittance_id": state["remittance_id"],
                "practice_id": state.get("practice_id", ""),
                "run_id": state["run_id"],
                "parse_findings": state.get("parse_findings", []),
                "posting": {
                    "auto_matched": posting["auto_matched"],
                    "total_claims": posting["total_claims"],
                    "exceptions": posting["exceptions"],
                },
                "triage": state["triage"],
                "appeals": state["appeals"],
            }
        )
        decision = RemittanceDecision.model_validate(answer)
        self._record(
            config,
            state,
            "review",
            answer,
            {
                "decision": decision.decision,
                "has_reason": bool(decision.reason),
                "edited_letters": sorted(decision.edited.letters) if decision.edited else [],
                "skipped": decision.edited.skip if decision.edited else [],
            },
            actor=decision.reviewer if ":" in decision.reviewer else f"user:{decision.reviewer}",
        )
        return {"decision": decision.model_dump(mode="json")}

    def write(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        decision = RemittanceDecision.model_validate(state["decision"])
        edits = decision.edited or RemittanceEdits()
        practice_id = state.get("practice_id", "")
        run_id = state["run_id"]
        written: dict[str, str] = dict(state.get("written") or {})
        amounts: dict[str, Any] = {}
        for item in (DenialTriage.model_validate(t) for t in state["triage"]):
            amounts[item.key] = item.amount
            if item.key in edits.skip:
                continue
            key = f"{run_id}:task:{item.key}"
            task = denial_task(item, item.line.practice_id or practice_id, run_id)
            written[key] = self.crystalpm.create_task(task, idempotency_key=key).id
        for letter in (AppealLetter.model_validate(a) for a in state["appeals"]):
            item_key = f"{letter.claim_id}:{letter.line_number}"
            if item_key in edits.skip:
                continue
            if letter.appeal_id in edits.letters:
                letter = letter.model_copy(
                    update={"text": edits.letters[letter.appeal_id], "edited_by": decision.reviewer}
                )
            key = f"{run_id}:appeal:{letter.appeal_id}"
            task = appeal_task(letter, practice_id, amounts.get(item_key, ZERO))
            written[key] = self.crystalpm.create_task(task, idempotency_key=key).id
        posting = PostingResult.model_validate(state["posting"])
        for number, exception in enumerate(e for e in posting.exceptions if e.blocking):
            key = f"{run_id}:posting:{number}"
            task = Task(
                practice_id=practice_id,
                kind="posting",
                title=f"Remittance {state['remittance_id']}: {exception.code.replace('_', ' ').lower()}"[
                    :200
                ],
                body=exception.message,
                claim_id=exception.claim_id,
                amount=exception.amount,
            )
            written[key] = self.crystalpm.create_task(task, idempotency_key=key).id
        self._record(
            config,
            state,
            "write",
            {"run_id": run_id, "decision": state["decision"]},
            {"tasks": len(written), "approved_by": decision.reviewer},
        )
        return {"written": written}

    def learn(self, state: RemittanceState, config: RunnableConfig) -> RemittanceState:
        decision = RemittanceDecision.model_validate(state["decision"])
        edits = decision.edited or RemittanceEdits()
        self._record(
            config,
            state,
            "learn",
            {"run_id": state["run_id"], "decision": decision.decision},
            {
                "decision": decision.decision,
                "letters_edited": len(edits.letters),
                "items_skipped": len(edits.skip),
                "letters": len(state.get("appeals", [])),
                "decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        return {}


def after_review(state: RemittanceState) -> Literal["write", "learn"]:
    return "learn" if state["decision"]["decision"] == "reject" else "write"


def build_remittance_graph(
    *,
    crystalpm: CrystalPM,
    kb: KnowledgeBase,
    scorer: AppealScorer,
    drafter: AppealDrafter,
    retriever: PolicyRetriever,
    audit: AuditSink,
    settings: Settings,
    checkpointer: BaseCheckpointSaver | None,
    today: Callable[[], date] | None = None,
    contracts: ApprovedTerms | None = None,
    medicare: MedicareFeeSource | None = None,
) -> CompiledStateGraph:
    """The compiled remittance graph; run it with thread id `remit:<id>` and {"remittance_id": id}
    (or, for an uploaded file, {"remittance_id", "practice_id", "x12"}).

    `contracts` (approved terms) and `medicare` (the PFS) price each line under its contract, so posting
    writes off no more than the contract allows; without a Medicare source, percent-of-Medicare lines are
    not held."""
    nodes = RemittanceNodes(
        crystalpm=crystalpm,
        kb=kb,
        scorer=scorer,
        drafter=drafter,
        retriever=retriever,
        audit=audit,
        settings=settings,
        today=today or date.today,
        contracts=contracts,
        medicare=medicare,
    )
    graph = StateGraph(RemittanceState, input_schema=RemittanceInput, output_schema=RemittanceOutput)
    graph.add_node("load", nodes.load)
    graph.add_node("parse", nodes.parse)
    graph.add_node("post", nodes.post)
    graph.add_node("triage", nodes.triage)
    graph.add_node("draft_appeals", nodes.draft_appeals)
    graph.add_node("review", nodes.review)
    graph.add_node("write", nodes.write)
    graph.add_node("learn", nodes.learn)
    graph.add_edge(START, "load")
    graph.add_edge("load", "parse")
    graph.add_edge("parse", "post")
    graph.add_edge("post", "triage")
    graph.add_edge("triage", "draft_appeals")
    graph.add_edge("draft_appeals", "review")
    graph.add_conditional_edges("review", after_review)
    graph.add_edge("write", "learn")
    graph.add_edge("learn", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH)
