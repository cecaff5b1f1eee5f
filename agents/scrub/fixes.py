"""Fixes as concrete edits (add modifier 25 to line 1, link H40.1131 to line 2 ...) and how they are written.

A fix either changes the claim (one Crystal PM claim edit gathers them all) or, when no claim edit can
express it (get an authorization, correct an NPI), becomes a task for the biller.
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from agents.scrub.checks import active_coverages
from agents.scrub.facts import ClaimFacts
from billing.claim_input import ClaimInput
from billing.claims import Claim, ClaimLine
from billing.findings import Finding, Severity
from billing.practice import Coverage, PlanKind
from billing.tasks import Task
from knowledge.base import KnowledgeBase
from knowledge.codes.icd10 import icd10_laterality
from knowledge.codes.procedures import get_procedure
from knowledge.rules.coverage import dx_supports
from knowledge.validation.context import dx_code, procedure_code
from tools.crystalpm.models import ClaimEdit

EditOp = Literal[
    "add_modifier",
    "remove_modifier",
    "set_modifiers",
    "link_diagnosis",
    "set_units",
    "replace_code",
    "remove_line",
    "set_coverage",
    "move_line_to_payer",
    "task",
]
CLAIM_EDIT_OPS = frozenset(
    {
        "add_modifier",
        "remove_modifier",
        "set_modifiers",
        "link_diagnosis",
        "set_units",
        "replace_code",
        "remove_line",
        "set_coverage",
        "move_line_to_payer",
    }
)
ESTABLISHED_CODE = {
    "92002": "92012",
    "92004": "92014",
    "99202": "99212",
    "99203": "99213",
    "99204": "99214",
    "99205": "99215",
    "S0620": "S0621",
}
SIDE_MODIFIER = {"right": "RT", "left": "LT"}
ROUTING_CODES = frozenset(
    {"ROUTINE_TO_MEDICAL", "S_CODE_MEDICARE", "ROUTINE_CODE_MEDICAL_PLAN", "VISION_PLAN_MEDICAL_CODES"}
)
MAX_POINTERS = 4
MAX_DIAGNOSES = 12


class FixEdit(BaseModel):
    """One change: `line` is 1-based in claim order; `value` is the modifier, code, units or coverage id."""

    op: EditOp
    line: int | None = None
    value: str | int | list[str] | None = None


class Fix(BaseModel):
    description: str
    edit: FixEdit
    finding: str = Field("", description="The finding code this fix answers")


class ClaimChanges(BaseModel):
    """What approving a set of fixes writes: at most one claim edit, and tasks for the biller."""

    edit: ClaimEdit | None = None
    tasks: list[Task] = Field(default_factory=list)


def _fix(finding: Finding, description: str, op: EditOp, line: int | None = None, value=None) -> Fix:
    return Fix(description=description, edit=FixEdit(op=op, line=line, value=value), finding=finding.code)


def _task(finding: Finding) -> Fix:
    return _fix(finding, finding.fix or finding.message, "task", value=finding.fix or finding.message)


def _line_dx(claim: ClaimInput, number: int) -> list[str]:
    return [dx_code(code) for code in claim.lines[number - 1].diagnosis_codes]


def _claim_dx(claim: ClaimInput) -> list[str]:
    return list(dict.fromkeys(dx_code(code) for line in claim.lines for code in line.diagnosis_codes))


def _side_modifier(claim: ClaimInput, number: int) -> str | None:
    sides = {icd10_laterality(code) for code in _line_dx(claim, number)} - {None, "unspecified"}
    return SIDE_MODIFIER.get(sides.pop()) if len(sides) == 1 else None


def _other_plan(facts: ClaimFacts | None, *, vision: bool) -> Coverage | None:
    if facts is None:
        return None
    found = active_coverages(facts, vision=vision)
    return found[0] if found else None


def _fixes_for(finding: Finding, claim: ClaimInput, kb: KnowledgeBase, facts: ClaimFacts | None) -> list[Fix]:
    code, lines = finding.code, finding.lines
    line = lines[0] if lines else None
    if line is not None and not 0 < line <= len(claim.lines):
        return [_task(finding)]
    if code in ("EM_MISSING_25", "REFRACTION_MEDICARE_GY"):
        modifier = "25" if code == "EM_MISSING_25" else "GY"
        return [_fix(finding, f"Add modifier {modifier} to line {line}", "add_modifier", line, modifier)]
    if code == "LATERALITY_MISSING" and line is not None:
        side = _side_modifier(claim, line)
        if side:
            return [
                _fix(
                    finding,
                    f"Add modifier {side} to line {line} (the linked diagnosis' eye)",
                    "add_modifier",
                    line,
                    side,
                )
            ]
    if code == "LATERALITY_MISMATCH" and line is not None:
        side = _side_modifier(claim, line)
        current = claim.lines[line - 1].modifiers
        if side and {"RT", "LT"} & set(current):
            modifiers = [side if m in ("RT", "LT") else m for m in current]
            return [
                _fix(
                    finding,
                    f"Change the eye on line {line} to {side}, as its diagnosis says",
                    "set_modifiers",
                    line,
                    modifiers,
                )
            ]
    if code == "LATERALITY_NOT_ALLOWED" and line is not None:
        current = claim.lines[line - 1].modifiers
        procedure = get_procedure(procedure_code(claim.lines[line - 1].code))
        wrong = [m for m in current if m in ("RT", "LT", "50")]
        if wrong and not ("50" in wrong and procedure is not None and procedure.laterality == "unilateral"):
            return [
                _fix(finding, f"Remove modifier {m} from line {line}", "remove_modifier", line, m)
                for m in wrong
            ]
    if code in ("MEDICAL_NECESSITY", "DX_POINTER_MISSING") and line is not None and claim.date_of_service:
        fixes = _link_fix(finding, claim, line)
        if fixes:
            return fixes
    if code == "NEW_PATIENT_ESTABLISHED" and line is not None:
        current = procedure_code(claim.lines[line - 1].code)
        if current in ESTABLISHED_CODE:
            new = ESTABLISHED_CODE[current]
            return [
                _fix(
                    finding,
                    f"Bill {new} instead of {current} on line {line} (established patient)",
                    "replace_code",
                    line,
                    new,
                )
            ]
    if code == "DUPLICATE_LINE":
        return [
            _fix(finding, f"Remove line {n} (a repeat of line {lines[0]})", "remove_line", n)
            for n in lines[1:]
        ]
    if code == "NCCI_PTP" and len(lines) == 2 and claim.date_of_service:
        fix = _ncci_fix(finding, claim, kb)
        if fix:
            return [fix]
    if code == "MUE_EXCEEDED" and len(lines) == 1 and claim.date_of_service:
        mue = kb.ncci.mue(procedure_code(claim.lines[line - 1].code), claim.date_of_service)
        if mue is not None and mue.units >= 1:
            return [_fix(finding, f"Bill {mue.units} unit(s) on line {line}", "set_units", line, mue.units)]
    if code in ROUTING_CODES and line is not None:
        fix = _routing_fix(finding, claim, facts, vision=code != "VISION_PLAN_MEDICAL_CODES")
        if fix:
            return [fix]
    if code in ("COVERAGE_INACTIVE", "COVERAGE_MISSING", "COB_SECONDARY_FIRST") and facts is not None:
        vision = facts.plan_kind is PlanKind.VISION
        plan = _other_plan(facts, vision=vision)
        if plan is not None and plan.id != facts.claim.coverage_id:
            return [
                _fix(
                    finding,
                    f"Bill the plan in force on the date of service: {plan.plan_name}",
                    "set_coverage",
                    None,
                    plan.id,
                )
            ]
    return [_task(finding)]


def _link_fix(finding: Finding, claim: ClaimInput, line: int) -> list[Fix]:
    code = procedure_code(claim.lines[line - 1].code)
    on: date = claim.date_of_service  # type: ignore[assignment]
    present = _line_dx(claim, line)
    candidates = [dx for dx in _claim_dx(claim) if dx not in present]
    supporting = next((dx for dx in candidates if dx_supports(code, [dx], on)), None)
    if supporting is None and finding.code == "DX_POINTER_MISSING" and candidates:
        supporting = candidates[0]
    if supporting is None:
        return []
    return [_fix(finding, f"Link {supporting} to line {line} ({code})", "link_diagnosis", line, supporting)]


def _ncci_fix(finding: Finding, claim: ClaimInput, kb: KnowledgeBase) -> Fix | None:
    a, b = finding.lines
    code_a, code_b = (procedure_code(claim.lines[n - 1].code) for n in (a, b))
    edit = kb.ncci.ptp(code_a, code_b, claim.date_of_service)  # type: ignore[arg-type]
    if edit is None:
        return None
    column_2 = b if code_a == edit.column_1 else a
    code = code_b if column_2 == b else code_a
    return _fix(
        finding,
        f"Remove line {column_2} ({code}), bundled into the other service (or add XS if the chart documents "
        "a separate eye or encounter)",
        "remove_line",
        column_2,
    )


def _routing_fix(
    finding: Finding, claim: ClaimInput, facts: ClaimFacts | None, *, vision: bool
) -> Fix | None:
    plan = _other_plan(facts, vision=vision)
    if plan is None or facts is None or plan.id == facts.claim.coverage_id:
        return None
    line = finding.lines[0]
    code = procedure_code(claim.lines[line - 1].code)
    if len(claim.lines) == 1:
        return _fix(finding, f"Bill the claim to {plan.plan_name} instead", "set_coverage", None, plan.id)
    return _fix(
        finding, f"Move {code} (line {line}) to {plan.plan_name}", "move_line_to_payer", line, plan.id
    )


def propose_fixes(
    claim: ClaimInput, findings: list[Finding], kb: KnowledgeBase, facts: ClaimFacts | None = None
) -> list[Fix]:
    """Concrete fixes for the errors and warnings, one or more per finding, without repeats."""
    fixes: dict[str, Fix] = {}
    for finding in findings:
        if finding.severity is Severity.INFO:
            continue
        for fix in _fixes_for(finding, claim, kb, facts):
            fixes.setdefault(fix.edit.model_dump_json(), fix)
    # One claim can move to one plan only; every move to the same plan as the whole claim is then moot.
    whole = {fix.edit.value for fix in fixes.values() if fix.edit.op == "set_coverage"}
    return [f for f in fixes.values() if not (f.edit.op == "move_line_to_payer" and f.edit.value in whole)]


def _apply(lines: list[ClaimLine], diagnoses: list[str], fix: Fix) -> bool:
    """Apply one line edit in place; False when it no longer fits the claim (the line is gone)."""
    edit = fix.edit
    if edit.line is None or not 0 < edit.line <= len(lines):
        return False
    line = lines[edit.line - 1]
    value = edit.value
    if edit.op == "add_modifier" and isinstance(value, str):
        if value not in line.modifiers and len(line.modifiers) < 4:
            line.modifiers.append(value)
    elif edit.op == "remove_modifier" and isinstance(value, str):
        line.modifiers = [m for m in line.modifiers if m != value]
    elif edit.op == "set_modifiers" and isinstance(value, list):
        line.modifiers = list(value)[:4]
    elif edit.op == "link_diagnosis" and isinstance(value, str):
        if value not in diagnoses:
            if len(diagnoses) >= MAX_DIAGNOSES:
                return False
            diagnoses.append(value)
        pointer = diagnoses.index(value) + 1
        if pointer not in line.diagnosis_pointers:
            line.diagnosis_pointers = [pointer, *line.diagnosis_pointers][:MAX_POINTERS]
    elif edit.op == "set_units" and isinstance(value, int):
        line.units = value
    elif edit.op == "replace_code" and isinstance(value, str):
        line.code = value
    return True


def claim_changes(
    claim: Claim, fixes: list[Fix], *, note: str, plan_names: dict[str, str] | None = None
) -> ClaimChanges:
    """The claim edit and biller tasks that approving `fixes` on `claim` means."""
    lines = [line.model_copy(deep=True) for line in claim.lines]
    diagnoses = list(claim.diagnosis_codes)
    tasks: list[Task] = []
    changed, coverage_id = False, None
    removed: set[int] = set()
    for fix in fixes:
        op = fix.edit.op
        if op == "task" or not _known_line(fix, len(lines)):
            tasks.append(_biller_task(claim, fix.description, str(fix.edit.value or fix.description)))
        elif op == "set_coverage":
            coverage_id, changed = str(fix.edit.value), True
        elif op in ("remove_line", "move_line_to_payer"):
            removed.add(fix.edit.line)  # type: ignore[arg-type]
            changed = True
            if op == "move_line_to_payer":
                line = lines[fix.edit.line - 1]  # type: ignore[operator]
                plan = (plan_names or {}).get(str(fix.edit.value), str(fix.edit.value))
                tasks.append(
                    _biller_task(
                        claim, fix.description, f"Bill {line.code} for {claim.date_of_service} to {plan}."
                    )
                )
        else:
            changed = _apply(lines, diagnoses, fix) or changed
    kept = [line for number, line in enumerate(lines, start=1) if number not in removed]
    for number, line in enumerate(kept, start=1):
        line.line_number = number
    if not changed:
        return ClaimChanges(tasks=tasks)
    edit = ClaimEdit(
        lines=kept if kept != claim.lines else None,
        diagnosis_codes=diagnoses if diagnoses != claim.diagnosis_codes else None,
        coverage_id=coverage_id,
        note=note,
    )
    return ClaimChanges(edit=edit, tasks=tasks)


def _known_line(fix: Fix, count: int) -> bool:
    return fix.edit.op == "set_coverage" or (fix.edit.line is not None and 0 < fix.edit.line <= count)


def _biller_task(claim: Claim, title: str, body: str) -> Task:
    return Task(
        practice_id=claim.practice_id,
        kind="claim_fix",
        title=f"Claim {claim.id}: {title}"[:200],
        body=body,
        claim_id=claim.id,
        patient_id=claim.patient_id,
        amount=claim.total_charge,
    )
