"""Deterministic validation of a coding suggestion: the knowledge-layer validator, and invalid codes dropped."""

from datetime import date

from agents.coding.schemas import CodeSuggestion, CodingRequest
from agents.coding.sections import parse_note
from agents.coding.visit import is_established
from billing.claim_input import ClaimInput, ClaimInputLine, ClaimPatient, ClaimPayer, HistoryVisit
from billing.findings import Finding, Severity
from knowledge.base import KnowledgeBase
from knowledge.codes.icd10 import icd10_billable, normalize_icd10
from knowledge.codes.procedures import get_procedure, is_known_procedure
from knowledge.validation.context import MODIFIER_SHAPE, PROCEDURE_SHAPE
from knowledge.validation.engine import validate

# Findings that mean a code cannot go on a claim at all: the code is removed, the finding kept.
DROP_CODES = frozenset({"ICD_INVALID", "ICD_NOT_BILLABLE", "CPT_UNKNOWN", "CODE_MALFORMED"})


def _claim(suggestion: CodeSuggestion, request: CodingRequest) -> ClaimInput:
    sex = (request.patient_sex or "U").strip().upper()[:1]
    return ClaimInput(
        date_of_service=request.date_of_service,
        patient=ClaimPatient(
            age=request.patient_age if request.patient_age is not None else 0,
            sex=sex if sex in {"F", "M"} else "U",
        ),
        payer=ClaimPayer(name=request.payer_name, kind=request.payer_kind),
        established=is_established(request, parse_note(request.note)) if request.note.strip() else True,
        history=[HistoryVisit(date=v.date, codes=v.codes) for v in request.history],
        lines=[
            ClaimInputLine(
                code=line.code,
                modifiers=line.modifiers[:4],
                units=max(line.units, 1),
                diagnosis_codes=line.diagnosis_codes,
            )
            for line in suggestion.lines
        ],
    )


def _procedure_ok(code: str, kb: KnowledgeBase) -> bool:
    return bool(PROCEDURE_SHAPE.match(code)) and (
        get_procedure(code) is not None or is_known_procedure(code, kb.pfs)
    )


def _dropped(code: str, what: str, reason: str) -> Finding:
    return Finding(
        code=reason,
        severity=Severity.ERROR,
        message=f"{what} {code} was removed from the suggestion: it cannot be billed ({reason}).",
        fix=f"Code {what.lower()} by hand if the chart supports one.",
        source="agents.coding.validate",
    )


def validate_suggestion(
    suggestion: CodeSuggestion, request: CodingRequest, kb: KnowledgeBase
) -> CodeSuggestion:
    """Run every knowledge-layer check on the suggestion as a claim; drop codes that are malformed, unknown
    or not billable (one finding each) and attach the findings on what remains."""
    drops: list[Finding] = []
    bad_dx = {d.code for d in suggestion.diagnoses if not icd10_billable(d.code)}
    bad_dx |= {c for line in suggestion.lines for c in line.diagnosis_codes if not icd10_billable(c)}
    drops += [_dropped(code, "Diagnosis", "ICD_NOT_BILLABLE") for code in sorted(bad_dx)]
    lines = []
    for line in suggestion.lines:
        if not _procedure_ok(line.code, kb):
            drops.append(_dropped(line.code, "Procedure", "CPT_UNKNOWN"))
            continue
        modifiers = [m for m in line.modifiers if MODIFIER_SHAPE.match(m)]
        drops += [_dropped(m, "Modifier", "CODE_MALFORMED") for m in line.modifiers if m not in modifiers]
        pointers = [normalize_icd10(c) for c in line.diagnosis_codes if c not in bad_dx]
        lines.append(line.model_copy(update={"modifiers": modifiers, "diagnosis_codes": pointers}))
    cleaned = suggestion.model_copy(
        update={
            "lines": lines,
            "diagnoses": [d for d in suggestion.diagnoses if d.code not in bad_dx],
        }
    )
    if request.date_of_service is None:
        request = request.model_copy(update={"date_of_service": date.today()})
    findings = validate(_claim(cleaned, request), kb, fee_schedule_codes=request.fee_schedule_codes)
    kept = [f for f in findings if f.code not in DROP_CODES]
    return cleaned.model_copy(update={"findings": [*suggestion.findings, *drops, *kept]})
