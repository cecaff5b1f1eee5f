"""Frequency checks: a test billed more often than its coverage rule allows, counting the history."""

from billing.findings import Finding, Severity
from knowledge.rules.coverage import dx_supports
from knowledge.validation.context import (
    LCD_KINDS,
    MEDICAL_KINDS,
    ClaimContext,
    finding,
    proc_label,
    rule_source,
)


def check_frequency(ctx: ClaimContext) -> list[Finding]:
    if ctx.dos is None or ctx.kind not in MEDICAL_KINDS:
        return []
    findings: list[Finding] = []
    for line in ctx.lines:
        dx = ctx.known_dx(line)
        if not line.well_formed or not dx:
            continue
        rule = dx_supports(line.code, dx, ctx.dos)
        if rule is None or not rule.frequency_count:
            continue
        codes = set(rule.codes) or {line.code}
        earlier = sorted(
            visit.date
            for visit in ctx.prior_visits(rule.frequency_days)
            for code in visit.codes
            if code in codes
        )
        on_claim = sum(
            other.units for other in ctx.lines if other.code in codes and other.number <= line.number
        )
        if len(earlier) + on_claim <= rule.frequency_count:
            continue
        window = f"every {rule.frequency_days} days" if rule.frequency_days else "per lifetime"
        allowed = f"{rule.frequency_count} time{'s' if rule.frequency_count > 1 else ''} {window}"
        seen = f"; already billed on {', '.join(d.isoformat() for d in earlier)}" if earlier else ""
        severity = Severity.ERROR if ctx.kind in LCD_KINDS else Severity.WARNING
        if line.has("GA", "GZ"):
            severity = Severity.INFO
        findings.append(
            finding(
                "FREQUENCY_EXCEEDED",
                severity,
                [line.number],
                f"Line {line.number}: {proc_label(line)} is covered {allowed} for this diagnosis "
                f"{seen}. The payer will deny it as too frequent (CARC 119/151).",
                "Bill it only if the chart documents a change that justifies repeating it (then appeal with "
                "records); otherwise have the patient sign an ABN and add GA, or don't bill it.",
                rule_source(rule),
            )
        )
    return findings
