"""Diagnosis checks: lines without a diagnosis, diagnoses that don't justify the code, Excludes1 pairs."""

import re
from itertools import combinations

from billing.findings import Finding, Severity
from knowledge.codes.icd10 import icd10_excludes1
from knowledge.rules.coverage import coverage_rules_for, dx_supports
from knowledge.validation.context import (
    LCD_KINDS,
    MEDICAL_KINDS,
    ClaimContext,
    DxStatus,
    dx_label,
    finding,
    lines_text,
    proc_label,
    rule_source,
)

# Codes inside an Excludes1 note: "(H16.2-)", "(E08.36, E09.36)", "(E11.0-E11.8)", "(H65, H66)".
_NOTE_CODE = re.compile(r"[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{0,4})?-?")
_NOTE_RANGE = re.compile(
    r"([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{0,4})?)-?\s*-\s*([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{0,4})?)"
)
ABN_MODIFIERS = ("GA", "GZ", "GY")


def check_pointers(ctx: ClaimContext) -> list[Finding]:
    return [
        finding(
            "DX_POINTER_MISSING",
            Severity.ERROR,
            [line.number],
            f"Line {line.number}: {proc_label(line)} points to no diagnosis; every claim line needs at "
            "least one diagnosis that explains why the service was done.",
            f"Link the diagnosis that justifies {line.code} to line {line.number}.",
        )
        for line in ctx.lines
        if not line.diagnoses
    ]


def check_medical_necessity(ctx: ClaimContext) -> list[Finding]:
    if ctx.dos is None or ctx.kind not in MEDICAL_KINDS:
        return []
    findings: list[Finding] = []
    for line in ctx.lines:
        dx = ctx.known_dx(line)
        if not line.well_formed or not dx:
            continue
        rules = coverage_rules_for(line.code, ctx.dos)
        if not rules or dx_supports(line.code, dx, ctx.dos) is not None:
            continue
        covered = list(dict.fromkeys(prefix.rstrip(".") for rule in rules for prefix in rule.covered_dx))
        shown = ", ".join(covered[:8]) + (" ..." if len(covered) > 8 else "")
        lcds = list(dict.fromkeys(ref for rule in rules for ref in rule.lcd))
        per = f" (Medicare LCD {', '.join(lcds[:2])}{' and others' if len(lcds) > 2 else ''})" if lcds else ""
        if line.has(*ABN_MODIFIERS):
            severity = Severity.INFO
        else:
            severity = Severity.ERROR if ctx.kind in LCD_KINDS else Severity.WARNING
        findings.append(
            finding(
                "MEDICAL_NECESSITY",
                severity,
                [line.number],
                f"Line {line.number}: {proc_label(line)} is covered only for certain diagnoses{per}, and "
                f"the linked {', '.join(dx_label(c) for c in dx)} is not one of them, so it will be denied "
                "as not medically necessary (CARC 50/167).",
                f"If the chart documents a covered diagnosis (codes starting {shown}), link it to line "
                f"{line.number}; otherwise have the patient sign an ABN and add GA, or don't bill it.",
                "; ".join(rule_source(rule) for rule in rules),
            )
        )
    return findings


def _excluded_codes(code: str) -> list[tuple[str, str]]:
    """(first, last) code prefixes this code's Excludes1 notes name; a single code gives (c, c)."""
    spans: list[tuple[str, str]] = []
    for note in icd10_excludes1(code):
        if _NOTE_CODE.fullmatch(note.strip()):
            spans.append((note.strip().rstrip("-"), note.strip().rstrip("-")))
            continue
        for inside in re.findall(r"\(([^()]*)\)", note):
            for part in inside.split(","):
                part = part.strip()
                ranged = _NOTE_RANGE.fullmatch(part)
                if ranged:
                    spans.append((ranged.group(1), ranged.group(2)))
                elif _NOTE_CODE.fullmatch(part):
                    spans.append((part.rstrip("-"), part.rstrip("-")))
    return spans


def _within(code: str, span: tuple[str, str]) -> bool:
    first, last = (s.replace(".", "") for s in span)
    compact = code.replace(".", "")
    return first <= compact[: len(first)] and compact[: len(last)] <= last


def check_excludes1(ctx: ClaimContext) -> list[Finding]:
    codes = [code for code, status in ctx.dx_status.items() if status in (DxStatus.OK, DxStatus.NOT_BILLABLE)]
    findings: list[Finding] = []
    for a, b in combinations(codes, 2):
        if not (
            any(_within(b, span) for span in _excluded_codes(a))
            or any(_within(a, span) for span in _excluded_codes(b))
        ):
            continue
        numbers = [line.number for line in ctx.lines if a in line.diagnoses or b in line.diagnoses]
        findings.append(
            finding(
                "DX_EXCLUDES1",
                Severity.WARNING,
                numbers,
                f"{dx_label(a)} and {dx_label(b)} are both on the claim, but ICD-10-CM lists them as "
                "'Excludes1': the two are not coded together, because one rules out the other.",
                f"Keep the code that best describes the condition on {lines_text(numbers)}; use both only if "
                "the note documents two unrelated conditions.",
                "ICD-10-CM tabular, Excludes1",
            )
        )
    return findings
