"""Administrative checks: missing date, empty claim, timely filing, prior auth, coverage dates, duplicates."""

from billing.findings import Finding, Severity
from knowledge.validation.context import (
    ClaimContext,
    LineView,
    finding,
    lines_text,
    payer_label,
    policy_source,
)


def check_claim_shape(ctx: ClaimContext) -> list[Finding]:
    findings: list[Finding] = []
    if ctx.dos is None:
        findings.append(
            finding(
                "MISSING_DATE",
                Severity.ERROR,
                [],
                "The claim has no date of service; payers reject it, and the checks that depend on the date "
                "(NCCI, coverage rules, frequency, new patient, timely filing, eligibility) were skipped.",
                "Enter the date of service (YYYY-MM-DD) and check the claim again.",
            )
        )
    if not ctx.lines:
        findings.append(
            finding(
                "EMPTY_CLAIM",
                Severity.ERROR,
                [],
                "The claim has no service lines, so there is nothing to bill.",
                "Add the services performed (procedure code, modifiers, units and linked diagnoses).",
            )
        )
    return findings


def check_timely_filing(ctx: ClaimContext) -> list[Finding]:
    submitted, policy = ctx.claim.submitted_on, ctx.policy
    if ctx.dos is None or submitted is None or policy is None or policy.timely_filing_days is None:
        return []
    elapsed = (submitted - ctx.dos).days
    if elapsed <= policy.timely_filing_days:
        return []
    return [
        finding(
            "TIMELY_FILING",
            Severity.ERROR,
            [],
            f"The claim is submitted {elapsed} days after the date of service; {payer_label(ctx)} accepts "
            f"claims for {policy.timely_filing_days} days, so it will be denied (CARC 29).",
            "Send it only with proof that it was first filed on time (clearinghouse acceptance report); "
            "otherwise the balance is written off, not billed to the patient.",
            policy_source(policy),
        )
    ]


def check_prior_auth(ctx: ClaimContext) -> list[Finding]:
    policy, auth = ctx.policy, ctx.claim.prior_auth
    if not ctx.claim.prior_auth_known or policy is None:
        return []
    if auth is not None and auth.status == "approved":
        return []
    needing = [line for line in ctx.lines if line.code in policy.prior_auth_codes]
    if not needing:
        return []
    state = "no authorization is on file" if auth is None else f"the authorization is '{auth.status}'"
    numbers = [line.number for line in needing]
    return [
        finding(
            "PRIOR_AUTH_MISSING",
            Severity.ERROR,
            numbers,
            f"{', '.join(sorted({line.code for line in needing}))} on {lines_text(numbers)} needs prior "
            f"authorization from {payer_label(ctx)}, and {state}; it will be denied (CARC 197).",
            "Get the authorization approved (retro-authorization if the payer allows it) and put its "
            "number on the claim before sending.",
            policy_source(policy),
        )
    ]


def check_coverage_dates(ctx: ClaimContext) -> list[Finding]:
    coverage, dos = ctx.claim.coverage, ctx.dos
    if coverage is None or dos is None:
        return []
    if coverage.effective and dos < coverage.effective:
        problem = f"starts on {coverage.effective.isoformat()}"
    elif coverage.termination and dos > coverage.termination:
        problem = f"ended on {coverage.termination.isoformat()}"
    else:
        return []
    plan = f"'{coverage.plan}' " if coverage.plan else ""
    return [
        finding(
            "COVERAGE_INACTIVE",
            Severity.ERROR,
            [],
            f"The patient's coverage {plan}{problem}, so it was not active on the date of service "
            f"{dos.isoformat()} (CARC 27).",
            "Check eligibility and bill the plan that was active that day, or the patient.",
        )
    ]


def _signature(line: LineView) -> tuple[str, frozenset[str]]:
    return line.code, frozenset(line.modifiers)


def check_duplicates(ctx: ClaimContext) -> list[Finding]:
    groups: dict[tuple[str, frozenset[str]], list[LineView]] = {}
    for line in ctx.lines:
        groups.setdefault(_signature(line), []).append(line)
    findings: list[Finding] = []
    for (code, modifiers), lines in groups.items():
        if len(lines) < 2:
            continue
        numbers = [line.number for line in lines]
        with_modifiers = f" with modifiers {'/'.join(sorted(modifiers))}" if modifiers else ""
        findings.append(
            finding(
                "DUPLICATE_LINE",
                Severity.ERROR,
                numbers,
                f"{code}{with_modifiers} is billed on {lines_text(numbers)}; payers deny the repeat as a "
                "duplicate (CARC 18).",
                f"Remove {lines_text(numbers[1:])}; if the service was really done more than once, bill one "
                "line with more units or add the modifier that tells the services apart (e.g. RT/LT).",
            )
        )
    return findings
