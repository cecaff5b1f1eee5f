"""NCCI checks: procedure-to-procedure pairs billed together and units over the MUE."""

from itertools import combinations

from billing.findings import Finding, Severity
from billing.practice import PlanKind
from knowledge.codes.modifiers import NCCI_BYPASS_MODIFIERS
from knowledge.validation.context import MEDICAL_KINDS, ClaimContext, LineView, finding, lines_text

EYELID_MODIFIERS = frozenset({"E1", "E2", "E3", "E4"})


def _handled_elsewhere(a: LineView, b: LineView) -> bool:
    """Pairs whose clearer finding comes from another check (EXAM_AND_EM_SAME_DAY, EM_MISSING_25)."""
    if (a.is_eye_exam and b.is_office_em) or (a.is_office_em and b.is_eye_exam):
        return True
    return (a.is_visit and b.is_minor_procedure) or (b.is_visit and a.is_minor_procedure)


def _bypass(a: LineView, b: LineView) -> str | None:
    """The NCCI-associated modifier that lets an indicator-1 pair through, if either line carries one."""
    for line in (a, b):
        if line.is_visit:
            # NCCI ignores 59/X{EPSU} on visit codes; the modifier that separates a visit is 25.
            if line.has("25"):
                return "25"
        else:
            used = sorted(NCCI_BYPASS_MODIFIERS.intersection(line.modifiers))
            if used:
                return used[0]
    if a.eye in ("right", "left") and b.eye in ("right", "left") and a.eye != b.eye:
        return "RT/LT (different eyes)"
    lids_a, lids_b = EYELID_MODIFIERS.intersection(a.modifiers), EYELID_MODIFIERS.intersection(b.modifiers)
    if lids_a and lids_b and not lids_a & lids_b:
        return "E1-E4 (different eyelids)"
    return None


def check_ptp(ctx: ClaimContext) -> list[Finding]:
    if ctx.dos is None or ctx.kind not in MEDICAL_KINDS:
        return []
    findings: list[Finding] = []
    candidates = [line for line in ctx.lines if line.well_formed]
    for a, b in combinations(candidates, 2):
        if a.code == b.code or _handled_elsewhere(a, b):
            continue
        edit = ctx.kb.ncci.ptp(a.code, b.code, ctx.dos)
        if edit is None or edit.modifier_indicator not in (0, 1):
            continue
        col1, col2 = (a, b) if a.code == edit.column_1 else (b, a)
        pair = f"{col2.code} (line {col2.number}) is bundled into {col1.code} (line {col1.number})"
        why = f" ({edit.rationale})" if edit.rationale else ""
        source = edit.source or ctx.kb.ncci.source
        numbers = [a.number, b.number]
        if edit.modifier_indicator == 0:
            findings.append(
                finding(
                    "NCCI_PTP",
                    Severity.ERROR,
                    numbers,
                    f"{pair}: Medicare's NCCI edits never pay these two codes on the same day for the same "
                    f"patient, and no modifier can override this edit{why}.",
                    f"Remove line {col2.number} ({col2.code}), or keep the one code the documentation best "
                    "supports.",
                    source,
                )
            )
            continue
        used = _bypass(a, b)
        if used:
            findings.append(
                finding(
                    "NCCI_PTP_BYPASSED",
                    Severity.INFO,
                    numbers,
                    f"{pair} under NCCI, and modifier {used} is there to say the services were separate. "
                    "Payers audit this: it is correct only if the chart documents a separate eye, "
                    "encounter or structure.",
                    "Keep the modifier only if the note documents the separate service; otherwise remove "
                    f"line {col2.number}.",
                    source,
                )
            )
            continue
        modifier = "25" if col1.is_visit or col2.is_visit else "XS or 59"
        target = col1 if col1.is_visit else col2
        findings.append(
            finding(
                "NCCI_PTP",
                Severity.ERROR,
                numbers,
                f"{pair}: Medicare's NCCI edits pay only one of them on the same day unless a modifier "
                f"shows the services were separate{why}.",
                f"If the services were truly separate (other eye, other encounter) and documented, add "
                f"modifier {modifier} to line {target.number} ({target.code}); otherwise remove line "
                f"{col2.number}.",
                source,
            )
        )
    return findings


def check_mue(ctx: ClaimContext) -> list[Finding]:
    """Units per code against the MUE: per line when the MUE is a line edit (MAI 1), else per day."""
    if ctx.dos is None or ctx.kind not in MEDICAL_KINDS:
        return []
    findings: list[Finding] = []
    by_code: dict[str, list[LineView]] = {}
    for line in ctx.lines:
        if line.well_formed:
            by_code.setdefault(line.code, []).append(line)
    for code, lines in by_code.items():
        limit = ctx.kb.ncci.mue(code, ctx.dos)
        if limit is None:
            continue
        source = limit.source or ctx.kb.ncci.source
        numbers = [line.number for line in lines]
        if limit.units == 0:
            # An MUE of 0 says Medicare never pays the code; other payers set their own rules.
            if ctx.kind is not PlanKind.MEDICARE:
                continue
            if all(line.has("GY") for line in lines):
                findings.append(
                    finding(
                        "MUE_EXCEEDED",
                        Severity.INFO,
                        numbers,
                        f"Medicare never pays {code} (its MUE is 0 units); with GY on {lines_text(numbers)} "
                        "it is billed only to get the denial, and the patient pays.",
                        "Nothing to change if the patient was told it is not covered; collect from the "
                        "patient.",
                        source,
                    )
                )
            else:
                findings.append(
                    finding(
                        "MUE_EXCEEDED",
                        Severity.ERROR,
                        numbers,
                        f"Medicare never pays {code} (its MUE, the most units allowed per day, is 0).",
                        f"If it is a service Medicare excludes and the patient chose it, add GY to "
                        f"{lines_text(numbers)} (the patient pays); otherwise remove it.",
                        source,
                    )
                )
            continue
        per_line = limit.mai == 1
        groups = [[line] for line in lines] if per_line else [lines]
        for group in groups:
            units = sum(line.units for line in group)
            if units <= limit.units:
                continue
            where = [line.number for line in group]
            scope = "on one line" if per_line else "on one day"
            findings.append(
                finding(
                    "MUE_EXCEEDED",
                    Severity.ERROR,
                    where,
                    f"{code} is billed for {units} units {scope}; Medicare's MUE allows at most "
                    f"{limit.units} (units above it are denied).",
                    f"Bill {limit.units} unit{'s' if limit.units > 1 else ''} of {code} on "
                    f"{lines_text(where)}, unless the chart documents more (then appeal with records).",
                    source,
                )
            )
    return findings
