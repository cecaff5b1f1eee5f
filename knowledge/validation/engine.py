"""The validator: runs every check on a claim and returns its findings in a stable order."""

from collections.abc import Callable, Iterable
from datetime import date

from billing.charges import Charge
from billing.claim_input import (
    ClaimCoverage,
    ClaimInput,
    ClaimInputLine,
    ClaimPatient,
    ClaimPayer,
    HistoryVisit,
)
from billing.findings import Finding
from knowledge.base import KnowledgeBase
from knowledge.validation import admin, codesets, frequency, laterality, ncci, necessity, routing, visits
from knowledge.validation.context import ClaimContext, build_context

Check = Callable[[ClaimContext], list[Finding]]

CHECKS: tuple[Check, ...] = (
    admin.check_claim_shape,
    codesets.check_procedure_codes,
    codesets.check_diagnosis_codes,
    ncci.check_ptp,
    ncci.check_mue,
    laterality.check_modifiers,
    laterality.check_diagnosis_sides,
    visits.check_exam_and_em,
    visits.check_modifier_25,
    visits.check_patient_status,
    visits.check_g2211,
    necessity.check_pointers,
    necessity.check_medical_necessity,
    necessity.check_excludes1,
    frequency.check_frequency,
    routing.check_refraction,
    routing.check_routine_to_medical,
    routing.check_vision_plan_codes,
    routing.check_s_codes,
    admin.check_timely_filing,
    admin.check_prior_auth,
    admin.check_coverage_dates,
    admin.check_duplicates,
)

# A finding that already explains the same lines makes these ones noise (e.g. 92015 without GY to
# Medicare is one problem, not also an MUE-of-0 problem; two identical 92133 lines are one duplicate).
SUPERSEDES: dict[str, frozenset[str]] = {
    "REFRACTION_MEDICARE_GY": frozenset({"MUE_EXCEEDED"}),
    "S_CODE_MEDICARE": frozenset({"MUE_EXCEEDED"}),
    "DUPLICATE_LINE": frozenset({"MUE_EXCEEDED"}),
}


def _drop_superseded(findings: list[Finding]) -> list[Finding]:
    kept = []
    for candidate in findings:
        covered = any(
            candidate.code in SUPERSEDES.get(other.code, ())
            and candidate.lines
            and set(candidate.lines) <= set(other.lines)
            for other in findings
        )
        if not covered:
            kept.append(candidate)
    return kept


def _order_key(item: Finding) -> tuple[int, str, tuple[int, ...], str]:
    return (item.lines[0] if item.lines else 0, item.code, tuple(item.lines), item.message)


def validate(
    claim: ClaimInput, kb: KnowledgeBase, *, fee_schedule_codes: set[str] | None = None
) -> list[Finding]:
    """Every finding on the claim, ordered by first line (claim-level first), then code."""
    ctx = build_context(claim, kb, fee_schedule_codes)
    findings = [item for check in CHECKS for item in check(ctx)]
    unique = {item.model_dump_json(): item for item in _drop_superseded(findings)}
    return sorted(unique.values(), key=_order_key)


def claim_input_from_charge(
    charge: Charge,
    *,
    date_of_service: date | None,
    patient: ClaimPatient,
    payer: ClaimPayer,
    established: bool,
    history: Iterable[HistoryVisit] = (),
    coverage: ClaimCoverage | None = None,
) -> ClaimInput:
    """A charge seen as a claim: each line keeps its position and takes the diagnoses it points to."""
    return ClaimInput(
        date_of_service=date_of_service,
        patient=patient,
        payer=payer,
        established=established,
        history=list(history),
        coverage=coverage,
        lines=[
            ClaimInputLine(
                code=line.code,
                modifiers=line.modifiers,
                units=max(line.units, 1),  # a draft line may still say 0; a claim line bills at least 1
                diagnosis_codes=charge.line_diagnoses(line),
                charge=line.fee,
            )
            for line in charge.lines
        ],
    )


def validate_charge(
    charge: Charge,
    kb: KnowledgeBase,
    *,
    date_of_service: date | None,
    patient: ClaimPatient,
    payer: ClaimPayer,
    established: bool,
    history: Iterable[HistoryVisit] = (),
    coverage: ClaimCoverage | None = None,
    fee_schedule_codes: set[str] | None = None,
) -> list[Finding]:
    """Validate a draft charge (e.g. a coding suggestion) in its visit context; lines follow charge.lines."""
    claim = claim_input_from_charge(
        charge,
        date_of_service=date_of_service,
        patient=patient,
        payer=payer,
        established=established,
        history=history,
        coverage=coverage,
    )
    return validate(claim, kb, fee_schedule_codes=fee_schedule_codes)
