"""Appeal letters: the request a drafter reads, the letter it returns, and the offline template engine."""

import re
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from agents.appeals.facts import ClinicalFact, grounded
from agents.coding.schemas import Evidence
from agents.denials.schemas import DenialTriage
from agents.prompts import PROMPT_DIR, load_prompt
from billing.money import money_str
from knowledge.codes.adjustments import DenialCategory
from knowledge.codes.procedures import get_procedure

OFFLINE_VERSION = "template@1"
MAX_CLINICAL_STATEMENTS = 10
MAX_POLICY_CHARS = 600
FACT_ORDER = {"complaint": 0, "history": 1, "finding": 2, "diagnosis": 3, "service": 4, "plan": 5}
_CODE_IN_TEXT = re.compile(r"\b(?:[A-TV-Z]\d{2}(?:\.[0-9A-Z]{1,4})?|\d{4}[0-9TF]|[A-V]\d{4})\b")

ATTACHMENTS: dict[str, list[str]] = {
    "always": [
        "Finalized exam note for the date of service",
        "Copy of the remittance advice (ERA) showing the denial",
    ],
    DenialCategory.MEDICAL_NECESSITY: [
        "Test orders, interpretation and report",
        "Prior results for comparison",
    ],
    DenialCategory.CODING: ["Corrected claim form (if the reviewer asks for one)"],
    DenialCategory.BUNDLING: ["Documentation of the separately identifiable service"],
    DenialCategory.AUTHORIZATION: [
        "Retro-authorization request and the reason authorization was not obtained"
    ],
    DenialCategory.TIMELY_FILING: ["Clearinghouse acceptance report proving the original timely submission"],
    DenialCategory.COB: [
        "Primary payer's explanation of benefits",
        "Updated coordination-of-benefits questionnaire",
    ],
    DenialCategory.ELIGIBILITY: ["Copy of the member card and eligibility response from the date of service"],
}


class PolicyCitation(BaseModel):
    """A payer policy or LCD passage retrieved from the payer_policies collection."""

    policy_id: str
    title: str
    section: str = ""
    excerpt: str


class AppealRequest(BaseModel):
    """Everything a drafter may use: the triaged denial, claim facts, note facts with evidence, policies."""

    appeal_id: str
    triage: DenialTriage
    today: date
    payer_name: str
    payer_kind: str = ""
    member_id: str = ""
    patient_id: str = ""
    practice_name: str = ""
    practice_npi: str = ""
    claim_codes: list[str] = Field(
        default_factory=list, description="every code on the claim (CPT and ICD-10)"
    )
    note_text: str = Field(repr=False)
    facts: list[ClinicalFact] = Field(default_factory=list)
    policies: list[PolicyCitation] = Field(default_factory=list)


class LetterStatement(BaseModel):
    """One clinical statement of the letter and the note span that supports it."""

    text: str
    evidence: Evidence


class AppealLetter(BaseModel):
    """A drafted appeal: its clinical statements (each grounded), policy citations, attachments and text."""

    appeal_id: str
    claim_id: str
    line_number: int
    payer_name: str
    subject: str
    statements: list[LetterStatement] = Field(default_factory=list)
    policies: list[PolicyCitation] = Field(default_factory=list)
    attachments: list[str] = Field(default_factory=list)
    summary: str = ""
    request: str = ""
    text: str
    engine: Literal["offline", "llm"] = "offline"
    engine_version: str = OFFLINE_VERSION
    prompt_hash: str = ""
    dropped: list[str] = Field(
        default_factory=list, description="statements removed because no note span supports them"
    )
    edited_by: str = Field("", description="the user who last edited the text, when a person did")


class AppealDrafter(Protocol):
    name: str

    def draft(self, request: AppealRequest) -> AppealLetter: ...


def attachments_for(category: DenialCategory, has_policy: bool) -> list[str]:
    found = [*ATTACHMENTS["always"], *ATTACHMENTS.get(category, [])]
    if has_policy:
        found.append("Excerpt of the payer policy / LCD cited")
    return found


def service_label(code: str, modifiers: list[str]) -> str:
    info = get_procedure(code)
    billed = "-".join([code, *modifiers])
    return f"{billed} ({info.label})" if info else billed


def relevant_facts(request: AppealRequest) -> list[ClinicalFact]:
    """Facts that speak to the denied line first (its code, the claim's diagnoses), then the visit's story."""
    line = request.triage.line
    claim_dx = {code.replace(".", "")[:3] for code in request.claim_codes}

    def weight(fact: ClinicalFact) -> tuple[int, int, int]:
        on_point = fact.code == line.code or (
            fact.kind == "diagnosis" and fact.code.replace(".", "")[:3] in claim_dx
        )
        return (0 if on_point else 1, FACT_ORDER[fact.kind], fact.evidence.start)

    kept = [fact for fact in request.facts if grounded(fact, request.note_text)]
    chosen = sorted(kept, key=weight)[:MAX_CLINICAL_STATEMENTS]
    return sorted(chosen, key=lambda fact: (FACT_ORDER[fact.kind], fact.evidence.start))


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- (none)"


def _statement_line(statement: LetterStatement) -> str:
    quote = " ".join(statement.evidence.text.split())
    if " ".join(statement.text.split()) == quote:
        return f'"{quote}"'
    return f'{statement.text} (note: "{quote}")'


def policy_lines(policies: list[PolicyCitation]) -> list[str]:
    return [
        f"{policy.title}{' / ' + policy.section if policy.section else ''} [{policy.policy_id}]: "
        + " ".join(policy.excerpt.split())[:MAX_POLICY_CHARS]
        for policy in policies
    ]


def compose_text(
    request: AppealRequest,
    statements: list[LetterStatement],
    policies: list[PolicyCitation],
    attachments: list[str],
    *,
    request_sentence: str,
    summary: str = "",
    prompt_dir: Path = PROMPT_DIR,
) -> str:
    """Fill the structured letter template (agents/prompts/appeal_letter.md)."""
    triage = request.triage
    line = triage.line
    root_cause = triage.root_cause + (f" {summary}" if summary else "")
    return load_prompt("appeal_letter", prompt_dir).format(
        today=request.today.strftime("%B %d, %Y").replace(" 0", " "),
        payer_name=request.payer_name or line.payer or "Claims appeals",
        claim_id=line.claim_id,
        payer_claim_control_number=line.payer_claim_control_number or "not given",
        member_id=request.member_id or "on file",
        patient_id=request.patient_id or "on file",
        date_of_service=line.date_of_service.isoformat() if line.date_of_service else "see claim",
        service=f"line {line.line_number}: {service_label(line.code, line.modifiers)}",
        amount=money_str(triage.amount),
        denial_codes=_bullets([f"{code.kind} {code.code}: {code.description}" for code in triage.codes]),
        root_cause=root_cause,
        clinical_facts=_bullets([_statement_line(s) for s in statements]),
        policy_support=_bullets(policy_lines(policies))
        if policies
        else "- The enclosed record documents the medical reason for the service.",
        request=request_sentence,
        attachments=_bullets(attachments),
        practice_name=request.practice_name or "the practice",
        practice_npi=request.practice_npi or "on file",
    )


def default_request_sentence(request: AppealRequest) -> str:
    line = request.triage.line
    return (
        f"The record supports the service as billed. Please reprocess line {line.line_number} of claim "
        f"{line.claim_id} for payment."
    )


def codes_in(text: str) -> set[str]:
    """ICD-10-CM and CPT/HCPCS codes written in a statement."""
    return set(_CODE_IN_TEXT.findall(text.upper()))


class OfflineAppealDrafter:
    """The template engine: the letter states only facts the offline note readers found, each with its quote."""

    name = "offline"
    version = OFFLINE_VERSION

    def __init__(self, prompt_dir: Path = PROMPT_DIR) -> None:
        self.prompt_dir = prompt_dir
        self.prompt_hash = load_prompt("appeal_letter", prompt_dir).sha256

    def draft(self, request: AppealRequest) -> AppealLetter:
        statements = [
            LetterStatement(text=fact.statement, evidence=fact.evidence) for fact in relevant_facts(request)
        ]
        return build_letter(
            request,
            statements,
            request.policies,
            request_sentence=default_request_sentence(request),
            engine="offline",
            engine_version=self.version,
            prompt_hash=self.prompt_hash,
            prompt_dir=self.prompt_dir,
        )


def build_letter(
    request: AppealRequest,
    statements: list[LetterStatement],
    policies: list[PolicyCitation],
    *,
    request_sentence: str,
    engine: Literal["offline", "llm"],
    engine_version: str,
    prompt_hash: str,
    summary: str = "",
    dropped: list[str] = (),
    prompt_dir: Path = PROMPT_DIR,
) -> AppealLetter:
    triage = request.triage
    attachments = attachments_for(triage.category, bool(policies))
    return AppealLetter(
        appeal_id=request.appeal_id,
        claim_id=triage.line.claim_id,
        line_number=triage.line.line_number,
        payer_name=request.payer_name,
        subject=f"Appeal: claim {triage.line.claim_id} line {triage.line.line_number} ({triage.line.code})",
        statements=statements,
        policies=policies,
        attachments=attachments,
        summary=summary,
        request=request_sentence,
        text=compose_text(
            request,
            statements,
            policies,
            attachments,
            request_sentence=request_sentence,
            summary=summary,
            prompt_dir=prompt_dir,
        ),
        engine=engine,
        engine_version=engine_version,
        prompt_hash=prompt_hash,
        dropped=list(dropped),
    )
