"""Payer-specific checks beyond the validator: payer, eligibility and COB, routing, timely filing, NPIs ..."""

from collections.abc import Callable
from datetime import date

from agents.scrub.facts import ClaimFacts, sent_before
from billing.claim_input import ClaimInput
from billing.findings import Finding, Severity
from billing.practice import Coverage, PlanKind
from knowledge.base import KnowledgeBase
from knowledge.rules.policies import policies_for
from knowledge.validation.engine import validate

SOURCE = "fovea claim scrub"
ROUTINE_ONLY_CODES = frozenset({"S0620", "S0621", "S0592", "92310"})
MEDICAL_KINDS = frozenset(
    {PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE, PlanKind.MEDICAID, PlanKind.COMMERCIAL}
)
# Kinds whose rules differ by payer in our policies: an unnamed payer there gets the generic policy.
PAYER_SPECIFIC_KINDS = frozenset({PlanKind.COMMERCIAL, PlanKind.VISION})
# CMS place-of-service codes an eye-care claim plausibly carries.
PLACES_OF_SERVICE = {
    "02": "telehealth (not in the patient's home)",
    "10": "telehealth in the patient's home",
    "11": "office",
    "12": "home",
    "13": "assisted living facility",
    "19": "off-campus outpatient hospital",
    "21": "inpatient hospital",
    "22": "on-campus outpatient hospital",
    "24": "ambulatory surgical center",
    "31": "skilled nursing facility",
    "32": "nursing facility",
}
TIMELY_FILING_WARNING_DAYS = 14

Check = Callable[[ClaimInput, ClaimFacts | None, list[Finding]], list[Finding]]


def _finding(code: str, severity: Severity, lines: list[int], message: str, fix: str) -> Finding:
    return Finding(code=code, severity=severity, lines=lines, message=message, fix=fix, source=SOURCE)


def in_force(coverage: Coverage, on: date) -> bool:
    return (coverage.effective is None or coverage.effective <= on) and (
        coverage.termination is None or on <= coverage.termination
    )


def active_coverages(facts: ClaimFacts, *, vision: bool) -> list[Coverage]:
    """The patient's coverages in force on the date of service, vision plans or medical plans, by priority."""
    dos = facts.claim.date_of_service
    found = [c for c in facts.coverages if in_force(c, dos) and (c.plan_kind is PlanKind.VISION) == vision]
    return sorted(found, key=lambda c: c.priority)


def check_payer(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    if facts is not None and facts.payer is None:
        return [
            _finding(
                "PAYER_UNKNOWN",
                Severity.ERROR,
                [],
                f"Crystal PM has no payer '{facts.claim.payer_id}' for this claim, so it cannot be sent "
                "and its payer's rules were not checked.",
                "Pick the patient's plan on the claim (or add the payer to Crystal PM) and scrub it again.",
            )
        ]
    name = claim.payer.name.strip()
    if not name:
        return [
            _finding(
                "PAYER_UNKNOWN",
                Severity.WARNING,
                [],
                f"The claim names no payer, only the plan kind '{claim.payer.kind.value}'; the generic rules "
                "for that kind were used.",
                "Enter the payer's name so its own filing limits and authorization rules are checked.",
            )
        ]
    dos = claim.date_of_service
    if dos is None or claim.payer.kind not in PAYER_SPECIFIC_KINDS:
        return []
    if any(policy.names_payer(name) for policy in policies_for(name, claim.payer.kind.value, dos)):
        return []
    return [
        _finding(
            "PAYER_POLICY_GENERIC",
            Severity.INFO,
            [],
            f"No payer policy on file names '{name}'; the generic {claim.payer.kind.value} policy was used "
            "for filing limits, refraction and prior authorization.",
            "Check the payer's own rules, or add its policy under knowledge/data/policies.",
        )
    ]


def check_coverage(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    if facts is None:
        if claim.coverage is not None:
            return []
        return [
            _finding(
                "COVERAGE_NOT_VERIFIED",
                Severity.WARNING,
                [],
                "The claim carries no coverage dates, so eligibility on the date of service was not checked.",
                'Verify eligibility for the date of service (or add "coverage" to the claim) before sending.',
            )
        ]
    if facts.coverage is not None:
        return []
    return [
        _finding(
            "COVERAGE_MISSING",
            Severity.ERROR,
            [],
            f"The claim points to coverage '{facts.claim.coverage_id}', which the patient's record does not "
            "hold; the payer cannot match the member and rejects it.",
            "Attach the plan that was active on the date of service, or bill the patient.",
        )
    ]


def check_coordination(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    """Secondary payer data: a claim billed to a secondary plan while the primary one is in force."""
    if facts is None or facts.coverage is None:
        return []
    vision = facts.coverage.plan_kind is PlanKind.VISION
    active = active_coverages(facts, vision=vision)
    primary = active[0] if active else None
    if primary is None or primary.id == facts.coverage.id or primary.priority >= facts.coverage.priority:
        return []
    return [
        _finding(
            "COB_SECONDARY_FIRST",
            Severity.WARNING,
            [],
            f"The claim goes to the patient's secondary plan '{facts.coverage.plan_name}' while the primary "
            f"plan '{primary.plan_name}' was in force on the date of service; the secondary pays only after "
            "the primary's remittance (coordination of benefits).",
            f"Bill the primary plan '{primary.plan_name}' first, then send the secondary with its remittance.",
        )
    ]


def check_routine_codes(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    """Routine-vision-only codes (S0620/S0621 exams, 92310 contact lens fitting) sent to a medical plan."""
    kind = claim.payer.kind
    if kind not in MEDICAL_KINDS:
        return []
    explained = {
        line for item in found if item.code in ("S_CODE_MEDICARE", "MUE_EXCEEDED") for line in item.lines
    }
    return [
        _finding(
            "ROUTINE_CODE_MEDICAL_PLAN",
            Severity.ERROR,
            [number],
            f"Line {number}: {line.code} is a routine vision service that medical plans do not pay "
            "(CARC 96); it belongs on the patient's vision plan.",
            f"Bill line {number} to the vision plan, or to the patient.",
        )
        for number, line in enumerate(claim.lines, start=1)
        if line.code.upper() in ROUTINE_ONLY_CODES and number not in explained
    ]


def check_timely_filing(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    """The payer record's own filing limit (Crystal PM's) when stricter than the policy, and a near miss."""
    if facts is None or facts.payer is None or any(item.code == "TIMELY_FILING" for item in found):
        return []
    limit, elapsed = facts.payer.timely_filing_days, facts.days_to_submission
    if elapsed > limit:
        return [
            _finding(
                "TIMELY_FILING",
                Severity.ERROR,
                [],
                f"The claim goes out {elapsed} days after the date of service; {facts.payer.name} accepts "
                f"claims for {limit} days (its payer record), so it will be denied (CARC 29).",
                "Send it only with proof that it was first filed on time (clearinghouse acceptance report); "
                "otherwise the balance is written off, not billed to the patient.",
            )
        ]
    if facts.claim.submitted_on is None and limit - elapsed <= TIMELY_FILING_WARNING_DAYS:
        return [
            _finding(
                "TIMELY_FILING_SOON",
                Severity.WARNING,
                [],
                f"{limit - elapsed} day(s) are left in {facts.payer.name}'s {limit}-day filing window.",
                "Send this claim today.",
            )
        ]
    return []


def check_demographics(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    if facts is None:
        return []
    missing = list(facts.missing_demographics) + (
        [] if facts.member_id or facts.coverage is None else ["member_id"]
    )
    if not missing:
        return []
    return [
        _finding(
            "DEMOGRAPHICS_INCOMPLETE",
            Severity.ERROR,
            [],
            f"The patient record lacks {', '.join(missing)}; the clearinghouse rejects an 837P without them.",
            "Complete the patient's demographics and subscriber id in Crystal PM, then send the claim.",
        )
    ]


def npi_valid(npi: str) -> bool:
    """10 digits, starting 1 or 2, with the Luhn check digit over the 80840 prefix."""
    if len(npi) != 10 or not npi.isdigit() or npi[0] not in "12":
        return False
    total = 24  # the constant the 80840 prefix adds to the Luhn sum
    for index, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def check_npis(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    if facts is None:
        return []
    findings = []
    for role, npi in (("rendering", facts.provider_npi), ("billing", facts.practice_npi)):
        if npi is None or not npi.strip():
            problem = "is missing"
        elif not npi_valid(npi.strip()):
            problem = f"'{npi}' is not a valid NPI (10 digits with a check digit)"
        else:
            continue
        findings.append(
            _finding(
                "NPI_INVALID",
                Severity.ERROR,
                [],
                f"The {role} provider's NPI {problem}; the payer rejects the claim.",
                f"Correct the {role} NPI in Crystal PM (look it up in NPPES) and send the claim.",
            )
        )
    return findings


def check_place_of_service(
    claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]
) -> list[Finding]:
    if facts is None:
        return []
    place = facts.claim.place_of_service
    if place not in PLACES_OF_SERVICE:
        return [
            _finding(
                "POS_INVALID",
                Severity.ERROR,
                [],
                f"Place of service '{place}' is not a CMS place-of-service code an eye-care claim uses.",
                "Set the place of service where the visit happened (11 = office).",
            )
        ]
    seen = facts.encounter_place_of_service
    if seen and seen != place:
        return [
            _finding(
                "POS_MISMATCH",
                Severity.WARNING,
                [],
                f"The claim says place of service {place} ({PLACES_OF_SERVICE[place]}) but the encounter was "
                f"recorded at {seen} ({PLACES_OF_SERVICE.get(seen, 'unknown code')}); payment rates differ.",
                f"Use the encounter's place of service {seen} unless the encounter record is wrong.",
            )
        ]
    return []


def check_duplicate_claim(claim: ClaimInput, facts: ClaimFacts | None, found: list[Finding]) -> list[Finding]:
    """Another claim already sent for the same patient, day and service: the payer denies it (CARC 18)."""
    if facts is None:
        return []
    this = facts.claim
    sent = {}
    for other in facts.other_claims:
        if other.date_of_service == this.date_of_service and sent_before(other, this, facts.as_of):
            for line in other.lines:
                sent.setdefault((line.code, frozenset(line.modifiers)), other.id)
    repeats = [
        (number, line.code, sent[(line.code, frozenset(line.modifiers))])
        for number, line in enumerate(this.lines, start=1)
        if (line.code, frozenset(line.modifiers)) in sent
    ]
    if not repeats:
        return []
    others = sorted({claim_id for _, _, claim_id in repeats})
    return [
        _finding(
            "DUPLICATE_CLAIM",
            Severity.ERROR,
            [number for number, _, _ in repeats],
            f"{', '.join(code for _, code, _ in repeats)} for {this.date_of_service.isoformat()} was already "
            f"sent on claim {', '.join(others)}; the payer denies the repeat as a duplicate (CARC 18).",
            "Do not send this claim: follow up on the first one (claim status inquiry) instead.",
        )
    ]


CHECKS: tuple[Check, ...] = (
    check_payer,
    check_coverage,
    check_coordination,
    check_routine_codes,
    check_timely_filing,
    check_demographics,
    check_npis,
    check_place_of_service,
    check_duplicate_claim,
)


def find_problems(
    claim: ClaimInput,
    kb: KnowledgeBase,
    facts: ClaimFacts | None = None,
    *,
    fee_schedule_codes: set[str] | None = None,
) -> list[Finding]:
    """The validator's findings and the scrub checks', claim-level first, then by line and code."""
    found = validate(claim, kb, fee_schedule_codes=fee_schedule_codes)
    extra = [item for check in CHECKS for item in check(claim, facts, found)]
    merged = {item.model_dump_json(): item for item in found + extra}
    return sorted(
        merged.values(), key=lambda item: (item.lines[0] if item.lines else 0, item.code, tuple(item.lines))
    )
