"""The chat eval: staff questions over the generated sandbox, scored on routing, arguments, facts and latency.

Questions (questions.yaml) name slots like `{denied_claim}`; `practice_slots` fills them from the generated
dataset itself (the sandbox's own records, never the copilot's answers), so the set survives generator changes.
A question passes routing when the first tool called is the expected one (or, for tool-less intents, the
intent matches), arguments when every expected argument has the expected value, facts when every expected
fact appears in the answer (case-insensitive; `re:` marks a regular expression).
"""

import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from api.chat_runtime import ChatRuntime
from api.security.permissions import permissions_of
from billing.claims import ClaimStatus
from billing.practice import Role
from sandbox.dataset import SyntheticDataset
from tools.chat import ChatCaller

QUESTIONS_FILE = Path(__file__).resolve().parent / "questions.yaml"
ROUTINE = {("CO", "45"), ("CO", "59"), ("CO", "253")}
ACTION_TOOLS = frozenset({"code_encounter", "scrub_claim", "draft_appeal", "open_dispute"})


class Question(BaseModel):
    question: str
    intent: str
    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    facts: list[str] = Field(default_factory=list)
    role: Role = Role.BILLER


class QuestionResult(BaseModel):
    question: str
    intent: str
    expected_tool: str | None
    tool: str | None
    args: dict[str, Any]
    routed: bool
    args_ok: bool
    facts_ok: bool
    missing_facts: list[str]
    first_event_ms: float
    answer_ms: float
    answer: str


class ChatMetrics(BaseModel):
    questions: int
    routing_accuracy: float
    argument_accuracy: float
    fact_recall: float
    first_event_p50_ms: float
    first_event_p95_ms: float
    answer_p50_ms: float
    answer_p95_ms: float
    read_answer_p95_ms: float
    failures: list[QuestionResult]


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    return [
        Question.model_validate(item)
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    ]


def _denied_lines(dataset: SyntheticDataset) -> dict[str, list[Any]]:
    lines: dict[str, list[Any]] = {}
    for outcome in dataset.outcomes:
        if outcome.carc and outcome.status != "paid" and (outcome.group, outcome.carc) not in ROUTINE:
            lines.setdefault(outcome.claim_id, []).append(outcome)
    return lines


def practice_slots(dataset: SyntheticDataset) -> dict[str, str]:
    """Slot values from the dataset: claims by status, a patient with a denial, payers, encounters ..."""
    denied = _denied_lines(dataset)
    claims = sorted(dataset.claims, key=lambda c: c.id)
    last_names = [p.last_name for p in dataset.patients]
    payers = {p.id: p for p in dataset.payers}
    unique = [p for p in dataset.patients if last_names.count(p.last_name) == 1]

    denied_claims = [
        c
        for c in claims
        if c.status is ClaimStatus.DENIED and c.id in denied and denied[c.id][0].carc.isdigit()
    ]
    partial = next(c for c in claims if c.status is ClaimStatus.PARTIALLY_PAID and c.id in denied)
    paid = next(c for c in claims if c.status is ClaimStatus.PAID)
    appealed = {a.claim_id: a for a in dataset.appeals}
    appeal = next(a for a in dataset.appeals)

    def latest_denied(patient_id: str) -> str | None:
        found = sorted(
            (c for c in claims if c.patient_id == patient_id and c.id in denied),
            key=lambda c: c.date_of_service,
        )
        return found[-1].id if found else None

    denial_patient = next(p for p in unique if latest_denied(p.id))
    coverage_patient = next(p for p in unique if p.id != denial_patient.id)
    primary = min(
        (c for c in dataset.coverages if c.patient_id == coverage_patient.id), key=lambda c: c.priority
    )
    charged = {c.encounter_id for c in dataset.charges}
    billed = next(e for e in dataset.encounters if e.id in charged)
    unbilled = [e for e in dataset.encounters if e.id not in charged]
    carrying = {cid: r for r in dataset.remittances for cid in r.claim_ids}
    appealable = next(c for c in denied_claims if c.id in carrying)
    variance = next((v for v in dataset.seeded_variances), None)
    practice = dataset.practices[0]
    summit = next(p for p in dataset.payers if "summit" in p.id)
    contract = next(c for c in dataset.contracts if c.practice_id == practice.id and c.payer_id == summit.id)
    era = carrying[appealable.id]

    def number(claim_id: str) -> str:
        return str(int(claim_id.split("-")[1]))

    slots = {
        "denied_claim": denied_claims[0].id,
        "denied_claim_n": number(denied_claims[0].id),
        "denied_carc": denied[denied_claims[0].id][0].carc,
        "denied_payer": payers[denied_claims[0].payer_id].name,
        "denied_claim2": denied_claims[-1].id,
        "denied_claim2_n": number(denied_claims[-1].id),
        "denied_carc2": denied[denied_claims[-1].id][0].carc,
        "partial_claim": partial.id,
        "partial_claim_n": number(partial.id),
        "partial_carc": denied[partial.id][0].carc,
        "paid_claim": paid.id,
        "paid_claim_n": number(paid.id),
        "paid_payer": payers[paid.payer_id].name,
        "appeal_claim": appeal.claim_id,
        "appeal_claim_n": number(appeal.claim_id),
        "appeal_outcome": appeal.outcome,
        "noappeal_claim": next(c.id for c in claims if c.id not in appealed and c.status is ClaimStatus.PAID),
        "denial_last": denial_patient.last_name,
        "denial_first": denial_patient.first_name,
        "denial_patient": denial_patient.id,
        "denial_patient_claim": latest_denied(denial_patient.id) or "",
        "cov_last": coverage_patient.last_name,
        "cov_first": coverage_patient.first_name,
        "cov_patient": coverage_patient.id,
        "cov_plan": primary.plan_name,
        "billed_enc": billed.id,
        "billed_enc_date": billed.date_of_service.isoformat(),
        "unbilled_enc": unbilled[0].id if unbilled else billed.id,
        "unbilled_count": str(len(unbilled)),
        "era": era.id,
        "era_payer": payers[era.payer_id].name,
        "appealable_claim": appealable.id,
        "variance_claim": variance.claim_id if variance else partial.id,
        "summit": summit.name,
        "summit_days": str(summit.timely_filing_days),
        "summit_contract": contract.id,
        "locality": practice.medicare_locality,
    }
    for payer in dataset.payers:
        slots[f"days_{payer.id.removeprefix('pay-')}"] = str(payer.timely_filing_days)
        slots[f"name_{payer.id.removeprefix('pay-')}"] = payer.name
    return slots


def fill(value: Any, slots: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**slots)
    if isinstance(value, list):
        return [fill(item, slots) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, slots) for key, item in value.items()}
    return value


def caller_for(role: Role, dataset: SyntheticDataset) -> tuple[ChatCaller, Callable[[str], bool]]:
    """A staff member of every practice with one role; `can` follows the API's permission table."""
    granted = {permission.value for permission in permissions_of({role})}
    caller = ChatCaller(
        user_id=f"eval-{role.value.lower()}",
        username=f"eval-{role.value.lower()}",
        roles=frozenset({role.value}),
        practice_ids=frozenset(p.id for p in dataset.practices),
    )
    return caller, granted.__contains__


def _fact_found(fact: str, answer: str) -> bool:
    if fact.startswith("re:"):
        return re.search(fact[3:], answer, re.IGNORECASE) is not None
    return fact.casefold() in answer.casefold()


def _args_match(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    def norm(value: Any) -> Any:
        return [norm(v) for v in value] if isinstance(value, list) else str(value).casefold()

    return all(key in actual and norm(actual[key]) == norm(value) for key, value in expected.items())


def run_question(
    runtime: ChatRuntime, question: Question, dataset: SyntheticDataset, conversation: str
) -> QuestionResult:
    caller, can = caller_for(question.role, dataset)
    started = time.perf_counter()
    first: list[float] = []

    def on_event(event: str, data: dict[str, Any]) -> None:
        if not first:
            first.append(time.perf_counter())

    answer = runtime.ask(caller, can, question.question, conversation=conversation, on_event=on_event)
    elapsed = (time.perf_counter() - started) * 1000
    call = answer.tool_calls[0] if answer.tool_calls else None
    routed = (call.name if call else None) == question.tool and (
        question.tool is not None or answer.intent == question.intent
    )
    args = call.args if call else {}
    missing = [fact for fact in question.facts if not _fact_found(fact, answer.answer)]
    return QuestionResult(
        question=question.question,
        intent=question.intent,
        expected_tool=question.tool,
        tool=call.name if call else None,
        args=args,
        routed=routed,
        args_ok=routed and _args_match(question.args, args),
        facts_ok=not missing,
        missing_facts=missing,
        first_event_ms=((first[0] - started) * 1000) if first else elapsed,
        answer_ms=elapsed,
        answer=answer.answer,
    )


def _p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate_chat(
    runtime: ChatRuntime,
    dataset: SyntheticDataset,
    questions: list[Question] | None = None,
    on_question: Callable[[QuestionResult], None] = lambda result: None,
) -> ChatMetrics:
    """Ask every question on its own conversation (no carry-over), then score."""
    slots = practice_slots(dataset)
    results = []
    for number, raw in enumerate(questions or load_questions()):
        question = Question.model_validate(fill(raw.model_dump(), slots))
        result = run_question(runtime, question, dataset, conversation=f"eval-{number}")
        results.append(result)
        on_question(result)
    total = len(results) or 1
    reads = [r.answer_ms for r in results if r.expected_tool not in ACTION_TOOLS]
    return ChatMetrics(
        questions=len(results),
        routing_accuracy=sum(r.routed for r in results) / total,
        argument_accuracy=sum(r.args_ok for r in results) / total,
        fact_recall=sum(r.facts_ok for r in results) / total,
        first_event_p50_ms=statistics.median([r.first_event_ms for r in results]) if results else 0.0,
        first_event_p95_ms=_p([r.first_event_ms for r in results], 0.95),
        answer_p50_ms=statistics.median([r.answer_ms for r in results]) if results else 0.0,
        answer_p95_ms=_p([r.answer_ms for r in results], 0.95),
        read_answer_p95_ms=_p(reads, 0.95),
        failures=[r for r in results if not (r.routed and r.args_ok and r.facts_ok)],
    )
