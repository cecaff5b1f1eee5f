"""Look-up tools over Crystal PM: patients, claims, encounters and their notes, remittances, payers, appeals."""

import re

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from billing.claims import Claim, ClaimStatus
from billing.encounters import ClinicalNote
from billing.money import ZERO, money_str
from billing.practice import Patient, Payer
from billing.x12_835 import parse_835
from tools.chat.base import chat_tool
from tools.chat.context import ToolContext
from tools.chat.results import Source, ToolResult, not_found

OPEN_STATUSES = frozenset(
    {
        ClaimStatus.SUBMITTED,
        ClaimStatus.ACCEPTED,
        ClaimStatus.DENIED,
        ClaimStatus.PARTIALLY_PAID,
        ClaimStatus.APPEALED,
    }
)
NOTE_EXCERPT_CHARS = 600
_ASSESSMENT = re.compile(r"^\s*(assessment|impression|a/p)\b", re.IGNORECASE | re.MULTILINE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")


# shared helpers (other tool families use them too)


def payers(ctx: ToolContext) -> list[Payer]:
    return ctx.cached("payers", lambda: ctx.client().list_payers())


def payer_name(ctx: ToolContext, payer_id: str) -> str:
    return next((p.name for p in payers(ctx) if p.id == payer_id), payer_id)


def match_payer(ctx: ToolContext, text: str) -> Payer | None:
    """The payer whose id, name or a distinctive word of its name appears in the text."""
    lowered = text.casefold()
    for payer in payers(ctx):
        if (
            payer.id.casefold() == lowered
            or payer.name.casefold() in lowered
            or lowered in payer.name.casefold()
        ):
            return payer
    words = set(_WORD.findall(lowered))
    generic = {
        "health",
        "care",
        "plan",
        "insurance",
        "vision",
        "partners",
        "benefit",
        "mutual",
        "part",
        "the",
    }
    for payer in payers(ctx):
        distinctive = {w for w in _WORD.findall(payer.name.casefold()) if w not in generic and len(w) > 2}
        if distinctive & words:
            return payer
    return None


def visible_claim(ctx: ToolContext, claim_id: str) -> Claim | None:
    claim = ctx.client().get_claim(claim_id)
    return claim if ctx.caller.sees(claim.practice_id) else None


def patient_display(patient: Patient) -> str:
    return f"{patient.first_name} {patient.last_name}"


def match_patients(ctx: ToolContext, text: str) -> list[Patient]:
    """Patients whose last name is a word of the text; a matching first name narrows the list."""
    words = {w.casefold().strip("'") for w in _WORD.findall(text)}
    words |= {w.removesuffix("'s") for w in words}
    by_last = [p for p in ctx.patients() if p.last_name.casefold() in words]
    by_full = [p for p in by_last if p.first_name.casefold() in words]
    return by_full or by_last


def _assessment_span(note: ClinicalNote) -> tuple[int, int]:
    """Where the note's assessment and plan are (the part a biller reads first), at most an excerpt long."""
    section = next(
        (s for s in note.sections if s.name.lower().startswith(("assessment", "a/p", "impression"))), None
    )
    if section is not None:
        start = section.start
    else:
        found = _ASSESSMENT.search(note.text)
        start = found.start() if found else 0
    return start, min(len(note.text), start + NOTE_EXCERPT_CHARS)


def claim_facts(ctx: ToolContext, claim: Claim) -> dict:
    today = ctx.today()
    return {
        "claim_id": claim.id,
        "practice_id": claim.practice_id,
        "patient_id": claim.patient_id,
        "encounter_id": claim.encounter_id,
        "status": claim.status.value,
        "payer": payer_name(ctx, claim.payer_id),
        "date_of_service": claim.date_of_service.isoformat(),
        "submitted_on": claim.submitted_on.isoformat() if claim.submitted_on else None,
        "age_days": (today - (claim.submitted_on or claim.date_of_service)).days,
        "total_charge": money_str(claim.total_charge),
        "lines": [
            {
                "line": line.line_number,
                "code": line.code,
                "modifiers": line.modifiers,
                "charge": money_str(line.charge),
            }
            for line in claim.lines
        ],
        "diagnosis_codes": claim.diagnosis_codes,
    }


def claim_source(claim: Claim) -> Source:
    return Source(kind="claim", id=claim.id, label=f"claim {claim.id} ({claim.status.value})")


# argument schemas


class PatientName(BaseModel):
    name: str = Field(
        description="the patient's name as staff say it, e.g. 'Mrs. Testwood' or 'Avery Testwood'"
    )


class PatientRef(BaseModel):
    patient_id: str = Field(description="Crystal PM patient id")


class ClaimRef(BaseModel):
    claim_id: str = Field(description="Crystal PM claim id, e.g. clm-001042")


class EncounterRef(BaseModel):
    encounter_id: str = Field(description="Crystal PM encounter id, e.g. enc-000123")


class RemittanceRef(BaseModel):
    remittance_id: str = Field(description="the 835 remittance id")


class PayerRef(BaseModel):
    payer: str = Field(description="payer name or id, e.g. 'Summit Mutual' or 'pay-summit'")


class PracticeScope(BaseModel):
    practice_id: str | None = Field(
        None, description="one of the caller's practices; all of them when omitted"
    )


# tools


def find_patient(ctx: ToolContext, args: PatientName) -> ToolResult:
    found = match_patients(ctx, args.name)
    if not found:
        return ToolResult(
            tool="find_patient", status="not_found", message="No patient by that name in your practices."
        )
    return ToolResult(
        tool="find_patient",
        facts={
            "patients": [
                {
                    "patient_id": p.id,
                    "name": patient_display(p),
                    "birth_date": p.birth_date.isoformat(),
                    "practice_id": p.practice_id,
                }
                for p in found[:10]
            ],
            "patient_id": found[0].id if len(found) == 1 else "",
        },
        sources=[Source(kind="patient", id=p.id, label=p.id) for p in found[:10]],
    )


def patient_claims(ctx: ToolContext, args: PatientRef) -> ToolResult:
    patient = ctx.client().get_patient(args.patient_id)
    if not ctx.caller.sees(patient.practice_id):
        return not_found("patient_claims", "patient")
    claims = sorted(
        ctx.client().iter_claims(patient_id=patient.id), key=lambda c: c.date_of_service, reverse=True
    )
    return ToolResult(
        tool="patient_claims",
        facts={
            "patient_id": patient.id,
            "patient": patient_display(patient),
            "practice_id": patient.practice_id,
            "claims": [claim_facts(ctx, claim) for claim in claims[:15]],
            "count": len(claims),
        },
        sources=[Source(kind="patient", id=patient.id), *(claim_source(c) for c in claims[:15])],
    )


def claim_status(ctx: ToolContext, args: ClaimRef) -> ToolResult:
    claim = visible_claim(ctx, args.claim_id)
    if claim is None:
        return not_found("claim_status", "claim")
    facts = claim_facts(ctx, claim)
    outcomes = (
        ctx.client().get_claim_outcome(claim.id)
        if claim.status not in (ClaimStatus.READY, ClaimStatus.SUBMITTED)
        else []
    )
    facts["outcomes"] = [
        {
            "line": o.line_number,
            "status": o.status,
            "adjustment": f"{o.group}-{o.carc}" if o.carc else "",
            "paid": money_str(o.paid) if o.paid is not None else None,
        }
        for o in outcomes
    ]
    facts["paid"] = money_str(sum((o.paid or ZERO for o in outcomes), ZERO))
    return ToolResult(tool="claim_status", facts=facts, sources=[claim_source(claim)])


def encounter_summary(ctx: ToolContext, args: EncounterRef) -> ToolResult:
    encounter = ctx.client().get_encounter(args.encounter_id)
    if not ctx.caller.sees(encounter.practice_id):
        return not_found("encounter_summary", "encounter")
    note = ctx.client().get_note(encounter.id)
    start, end = _assessment_span(note)
    charges = list(ctx.client().iter_charges(encounter_id=encounter.id))
    billed = [c for c in charges if c.status.value != "void"]
    return ToolResult(
        tool="encounter_summary",
        facts={
            "encounter_id": encounter.id,
            "practice_id": encounter.practice_id,
            "patient_id": encounter.patient_id,
            "date_of_service": encounter.date_of_service.isoformat(),
            "visit_reason": encounter.visit_reason,
            "appointment_type": encounter.appointment_type,
            "note_finalized": note.finalized,
            "note_excerpt": note.text[start:end],
            "charges": [
                {"charge_id": c.id, "status": c.status.value, "codes": [line.code for line in c.lines]}
                for c in billed
            ],
            "billed": bool(billed),
        },
        sources=[
            Source(kind="encounter", id=encounter.id),
            Source(
                kind="note", id=note.id, label=f"note {note.id} characters {start}-{end}", span=(start, end)
            ),
        ],
    )


def remittance_summary(ctx: ToolContext, args: RemittanceRef) -> ToolResult:
    info = ctx.client().get_remittance(args.remittance_id)
    if not ctx.caller.sees(info.practice_id):
        return not_found("remittance_summary", "remittance")
    parsed = parse_835(info.x12 or "", validate=False) if info.x12 else None
    transactions = parsed.remittance.transactions if parsed else []
    claims = [claim for t in transactions for claim in t.claims]
    return ToolResult(
        tool="remittance_summary",
        facts={
            "remittance_id": info.id,
            "practice_id": info.practice_id,
            "payer": payer_name(ctx, info.payer_id),
            "received_on": info.received_on.isoformat(),
            "payment": money_str(sum((t.payment.amount for t in transactions), ZERO)),
            "trace": transactions[0].payment.trace if transactions else "",
            "claims": [
                {
                    "claim_id": c.patient_control_number,
                    "charge": money_str(c.charge),
                    "paid": money_str(c.paid),
                    "status": c.status,
                }
                for c in claims
            ],
            "denied_claims": [c.patient_control_number for c in claims if c.status == "4"],
        },
        sources=[Source(kind="remittance", id=info.id, label=info.filename, href=f"/remittances/{info.id}")],
    )


def patient_coverage(ctx: ToolContext, args: PatientRef) -> ToolResult:
    patient = ctx.client().get_patient(args.patient_id)
    if not ctx.caller.sees(patient.practice_id):
        return not_found("patient_coverage", "patient")
    today = ctx.today()
    plans = sorted(ctx.client().get_coverage(patient.id), key=lambda c: c.priority)
    return ToolResult(
        tool="patient_coverage",
        facts={
            "patient_id": patient.id,
            "patient": patient_display(patient),
            "practice_id": patient.practice_id,
            "plans": [
                {
                    "priority": c.priority,
                    "plan": c.plan_name,
                    "kind": c.plan_kind.value,
                    "payer": payer_name(ctx, c.payer_id),
                    "active": (c.effective is None or c.effective <= today)
                    and (c.termination is None or today <= c.termination),
                    "copay": money_str(c.copay),
                    "deductible_left": money_str(max(c.deductible - c.deductible_met, ZERO)),
                }
                for c in plans
            ],
        },
        sources=[Source(kind="patient", id=patient.id)],
    )


def payer_info(ctx: ToolContext, args: PayerRef) -> ToolResult:
    payer = match_payer(ctx, args.payer)
    if payer is None:
        return ToolResult(tool="payer_info", status="not_found", message="I do not know that payer.")
    return ToolResult(
        tool="payer_info",
        facts={
            "payer_id": payer.id,
            "payer": payer.name,
            "kind": payer.kind.value,
            "timely_filing_days": payer.timely_filing_days,
        },
        sources=[Source(kind="payer", id=payer.id, label=payer.name)],
    )


def unbilled_encounters(ctx: ToolContext, args: PracticeScope) -> ToolResult:
    if args.practice_id and not ctx.caller.sees(args.practice_id):
        return not_found("unbilled_encounters", "practice")
    found = [
        e
        for e in ctx.client().iter_encounters(args.practice_id, unbilled=True)
        if ctx.caller.sees(e.practice_id)
    ]
    found.sort(key=lambda e: e.date_of_service)
    today = ctx.today()
    return ToolResult(
        tool="unbilled_encounters",
        facts={
            "count": len(found),
            "encounters": [
                {
                    "encounter_id": e.id,
                    "date_of_service": e.date_of_service.isoformat(),
                    "days": (today - e.date_of_service).days,
                    "reason": e.visit_reason,
                }
                for e in found[:15]
            ],
        },
        sources=[Source(kind="encounter", id=e.id) for e in found[:15]],
    )


def appeal_status(ctx: ToolContext, args: ClaimRef) -> ToolResult:
    claim = visible_claim(ctx, args.claim_id)
    if claim is None:
        return not_found("appeal_status", "claim")
    appeals = list(ctx.client().iter_appeals(claim_id=claim.id))
    return ToolResult(
        tool="appeal_status",
        facts={
            "claim_id": claim.id,
            "practice_id": claim.practice_id,
            "appeals": [
                {
                    "appeal_id": a.id,
                    "filed_on": a.filed_on.isoformat(),
                    "outcome": a.outcome,
                    "reason": a.reason,
                    "decided_on": a.decided_on.isoformat() if a.decided_on else None,
                }
                for a in appeals
            ],
        },
        sources=[claim_source(claim)],
    )


def lookup_tools(ctx: ToolContext) -> list[BaseTool]:
    return [
        chat_tool(
            ctx,
            name="find_patient",
            description="Find a patient of your practices by name.",
            args_schema=PatientName,
            run=find_patient,
        ),
        chat_tool(
            ctx,
            name="patient_claims",
            description="List a patient's claims with status, payer and amounts.",
            args_schema=PatientRef,
            run=patient_claims,
        ),
        chat_tool(
            ctx,
            name="claim_status",
            description="Status, payer, lines and payment of one claim.",
            args_schema=ClaimRef,
            run=claim_status,
        ),
        chat_tool(
            ctx,
            name="encounter_summary",
            description="A visit: date, reason, note excerpt and whether it was billed.",
            args_schema=EncounterRef,
            run=encounter_summary,
        ),
        chat_tool(
            ctx,
            name="remittance_summary",
            description="An 835 remittance: payer, payment, claims paid and denied.",
            args_schema=RemittanceRef,
            run=remittance_summary,
        ),
        chat_tool(
            ctx,
            name="patient_coverage",
            description="A patient's insurance plans in order, copay and deductible left.",
            args_schema=PatientRef,
            run=patient_coverage,
        ),
        chat_tool(
            ctx,
            name="payer_info",
            description="A payer's kind and timely filing limit.",
            args_schema=PayerRef,
            run=payer_info,
        ),
        chat_tool(
            ctx,
            name="unbilled_encounters",
            description="Visits with no charge yet (oldest first).",
            args_schema=PracticeScope,
            run=unbilled_encounters,
        ),
        chat_tool(
            ctx,
            name="appeal_status",
            description="Appeals filed on a claim and their outcome.",
            args_schema=ClaimRef,
            run=appeal_status,
        ),
    ]
