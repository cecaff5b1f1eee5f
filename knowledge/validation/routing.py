"""Payer-routing checks: medical plan vs vision plan, refraction and S-codes with Medicare."""

from billing.findings import Finding, Severity
from billing.practice import PlanKind
from knowledge.validation.context import (
    MEDICAL_KINDS,
    ClaimContext,
    LineView,
    finding,
    payer_label,
    policy_source,
    proc_label,
)

REFRACTION = "92015"
MEDICAL_FAMILIES_ON_VISION = {"em": Severity.ERROR, "procedure": Severity.ERROR, "testing": Severity.WARNING}


def is_routine_dx(code: str) -> bool:
    """A routine-vision diagnosis: the routine eye exam encounter (Z01.0-) or a refractive error (H52.-)."""
    return code.startswith(("Z01.0", "H52"))


def check_refraction(ctx: ClaimContext) -> list[Finding]:
    policy = ctx.policy
    needs_gy = policy.refraction == "non_covered_gy" if policy else ctx.kind is PlanKind.MEDICARE
    if not needs_gy:
        return []
    return [
        finding(
            "REFRACTION_MEDICARE_GY",
            Severity.ERROR,
            [line.number],
            f"Line {line.number}: refraction (92015) is never paid by {payer_label(ctx)} (Medicare "
            "excludes it by law); billed without modifier GY it is denied as an error instead of passing to "
            "the patient.",
            f"Add GY to line {line.number} so the patient pays, or bill 92015 to the patient's vision plan.",
            policy_source(policy) if policy else "",
        )
        for line in ctx.lines
        if line.code == REFRACTION and not line.has("GY")
    ]


def _routine_visit(ctx: ClaimContext, line: LineView) -> bool:
    dx = line.diagnoses
    return line.is_visit and bool(dx) and all(is_routine_dx(code) for code in dx)


def check_routine_to_medical(ctx: ClaimContext) -> list[Finding]:
    if ctx.kind not in MEDICAL_KINDS or (ctx.policy is not None and ctx.policy.routine_exam_covered):
        return []
    severity = Severity.ERROR if ctx.kind is PlanKind.MEDICARE else Severity.WARNING
    return [
        finding(
            "ROUTINE_TO_MEDICAL",
            severity,
            [line.number],
            f"Line {line.number}: the visit {line.code} has only routine-vision diagnoses "
            f"({', '.join(line.diagnoses)}: a routine exam or a glasses prescription), and "
            f"{payer_label(ctx)} "
            "does not pay routine eye exams (CARC 49).",
            "Bill the vision plan (or the patient) for this exam; if the visit was for a medical complaint, "
            f"link the medical diagnosis to line {line.number} first."
            + (
                " For Medicare, a routine exam billed on purpose carries GY."
                if ctx.kind is PlanKind.MEDICARE
                else ""
            ),
            policy_source(ctx.policy) if ctx.policy else "",
        )
        for line in ctx.lines
        if _routine_visit(ctx, line) and not line.has("GY")
    ]


def check_vision_plan_codes(ctx: ClaimContext) -> list[Finding]:
    if ctx.kind is not PlanKind.VISION:
        return []
    findings: list[Finding] = []
    for line in ctx.lines:
        severity = MEDICAL_FAMILIES_ON_VISION.get(line.family)
        if severity is None:
            continue
        findings.append(
            finding(
                "VISION_PLAN_MEDICAL_CODES",
                severity,
                [line.number],
                f"Line {line.number}: {proc_label(line)} is a medical service, but the claim goes to a "
                "vision plan, which pays routine exams, refraction and eyewear only (CARC 109).",
                f"Bill line {line.number} to the patient's medical plan (Medicare, Medicaid or the medical "
                "insurer) with the medical diagnosis.",
            )
        )
    return findings


def check_s_codes(ctx: ClaimContext) -> list[Finding]:
    if ctx.kind is not PlanKind.MEDICARE:
        return []
    return [
        finding(
            "S_CODE_MEDICARE",
            Severity.ERROR,
            [line.number],
            f"Line {line.number}: {proc_label(line)} is an S-code, which only private and vision plans "
            "accept; Medicare rejects it.",
            f"Bill {line.code} to the vision plan; for Medicare use the eye exam code (92004/92014) and bill "
            "refraction as 92015 with GY.",
        )
        for line in ctx.lines
        if line.well_formed and line.code.startswith("S")
    ]
