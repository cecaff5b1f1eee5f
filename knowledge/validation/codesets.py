"""Code-set checks: procedure, modifier and diagnosis codes that are malformed, unknown or incomplete."""

from billing.findings import Finding, Severity
from knowledge.codes.icd10 import icd10_billable, icd10_children, icd10_laterality, icd10_seventh_characters
from knowledge.codes.procedures import is_known_procedure
from knowledge.validation.context import (
    MODIFIER_SHAPE,
    ClaimContext,
    DxStatus,
    finding,
    lines_text,
)


def check_procedure_codes(ctx: ClaimContext) -> list[Finding]:
    findings: list[Finding] = []
    for line in ctx.lines:
        if not line.well_formed:
            findings.append(
                finding(
                    "CODE_MALFORMED",
                    Severity.ERROR,
                    [line.number],
                    f"Line {line.number}: '{line.code}' is not a procedure code. A CPT code is 5 digits "
                    "(92014) or 4 digits and a letter (0330T); a HCPCS code is a letter and 4 digits "
                    "(V2020).",
                    f"Correct the procedure code on line {line.number}.",
                )
            )
        elif line.procedure is None and not is_known_procedure(line.code, ctx.kb.pfs):
            findings.append(
                finding(
                    "CPT_UNKNOWN",
                    Severity.ERROR,
                    [line.number],
                    f"Line {line.number}: {line.code} is not in our eye-care code catalog nor in the "
                    "imported Medicare fee schedule, so it may be a typo, a deleted code or an invented one.",
                    f"Check {line.code} against the current CPT/HCPCS book and correct line {line.number}.",
                )
            )
        elif ctx.fee_schedule_codes is not None and line.code not in ctx.fee_schedule_codes:
            findings.append(
                finding(
                    "NOT_IN_FEE_SCHEDULE",
                    Severity.WARNING,
                    [line.number],
                    f"Line {line.number}: {line.code} is not in the practice's fee schedule, so it has no "
                    "price set.",
                    f"Add {line.code} to the fee schedule, or correct the code on line {line.number}.",
                )
            )
        for modifier in line.modifiers:
            if not MODIFIER_SHAPE.match(modifier):
                findings.append(
                    finding(
                        "CODE_MALFORMED",
                        Severity.ERROR,
                        [line.number],
                        f"Line {line.number}: '{modifier}' is not a modifier (a modifier is 2 letters or "
                        "digits, e.g. RT, 25, GY).",
                        f"Correct or remove modifier '{modifier}' on line {line.number}.",
                    )
                )
    return findings


def _complete_examples(code: str, limit: int = 3) -> list[str]:
    """A few complete codes under an incomplete one, nearest first, to show what is expected."""
    examples: list[str] = []
    queue = list(icd10_children(code))
    while queue and len(examples) < limit:
        child = queue.pop(0)
        if icd10_billable(child):
            examples.append(child)
        else:
            queue.extend(icd10_children(child))
    return examples


def _missing_piece(code: str) -> str:
    """What an incomplete code lacks, in the words a biller uses."""
    children = icd10_children(code)
    if icd10_laterality(code) is None and any(icd10_laterality(c) in ("right", "left") for c in children):
        return "which eye (right, left or both)"
    if icd10_seventh_characters(code):
        compact = code.replace(".", "")
        if len(compact) == 6:
            return "a 7th character (the stage, or for an injury the episode A, D or S)"
        if children and all(c.replace(".", "")[len(compact) :].startswith("X") for c in children):
            return "the placeholder X and a 7th character (for example T15.01XA)"
    return "more characters (the type or the detail of the condition)"


def check_diagnosis_codes(ctx: ClaimContext) -> list[Finding]:
    findings: list[Finding] = []
    for code, status in ctx.dx_status.items():
        numbers = [line.number for line in ctx.lines if code in line.diagnoses]
        where = lines_text(numbers)
        if status is DxStatus.MALFORMED:
            findings.append(
                finding(
                    "CODE_MALFORMED",
                    Severity.ERROR,
                    numbers,
                    f"'{code}' on {where} is not a diagnosis code (ICD-10-CM codes look like H40.1131: a "
                    "letter, two characters, a dot, then up to 4 more).",
                    f"Correct the diagnosis code '{code}' on {where}.",
                )
            )
        elif status is DxStatus.INVALID:
            findings.append(
                finding(
                    "ICD_INVALID",
                    Severity.ERROR,
                    numbers,
                    f"{code} on {where} does not exist in ICD-10-CM (typo, or a code deleted in a yearly "
                    "update); the claim would be rejected.",
                    f"Replace {code} on {where} with the valid code the chart supports.",
                )
            )
        elif status is DxStatus.NOT_BILLABLE:
            examples = _complete_examples(code)
            such_as = f", such as {', '.join(examples)}" if examples else ""
            findings.append(
                finding(
                    "ICD_NOT_BILLABLE",
                    Severity.ERROR,
                    numbers,
                    f"{code} on {where} is a heading, not a complete diagnosis code: it still needs "
                    f"{_missing_piece(code)}.",
                    f"Replace {code} on {where} with the complete code the chart supports{such_as}.",
                )
            )
    return findings
