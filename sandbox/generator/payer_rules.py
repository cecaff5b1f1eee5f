"""The simulated payers' own edit tables and denials (written apart from the copilot's knowledge)."""

from dataclasses import dataclass, field
from datetime import date

from billing.claims import Claim, ClaimLine
from billing.contracts import Contract
from billing.practice import Coverage, PlanKind

EXAM_CODES = frozenset({"92002", "92004", "92012", "92014", "S0620", "S0621"})
EM_CODES = frozenset({"99202", "99203", "99204", "99212", "99213", "99214"})
NEW_PATIENT_CODES = frozenset({"92002", "92004", "99202", "99203", "99204", "S0620"})
MINOR_PROCEDURES = frozenset({"65205", "65222", "68761"})
ROUTINE_ONLY_CODES = frozenset({"S0620", "S0621", "S0592", "92310"})
EYE_MODIFIER_CODES = frozenset({"65205", "65222", "92136"})
EYELID_MODIFIERS = {"E1": 2, "E2": 2, "E3": 1, "E4": 1}
BOTH_EYES_CODES = frozenset({"92020", "92083", "92133", "92134", "92250"})
MEDICARE_KINDS = frozenset({PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE})
# (column 1, column 2, modifier allowed): the pairs this payer edits; column 2 is denied.
PTP_PAIRS = (("92134", "92133", False), ("92134", "92250", True), ("92133", "92250", True))
# code -> (max services, look-back days; None means lifetime)
FREQUENCY_LIMITS: dict[str, tuple[int, int | None]] = {
    "76514": (1, None),
    "92133": (2, 365),
    "92083": (2, 365),
    "92250": (1, 300),
    "92136": (1, 300),
}
# Vision plans allow one routine exam per 12 months (a few days' grace for weekend rescheduling).
VISION_EXAM_LIMIT_DAYS = 360
# Tests are paid only for these diagnosis families (the sandbox's own short medical-necessity lists).
COVERED_DX: dict[str, tuple[str, ...]] = {
    "92133": ("H40", "H47"),
    "92134": ("H35", "E10.3", "E11.3", "Z79.899", "H43"),
    "92083": ("H40", "H47", "Z79.899"),
    "92250": ("H35", "E10.3", "E11.3", "H40"),
    "92020": ("H40",),
    "76514": ("H40", "H18"),
    "92025": ("H18",),
    "92072": ("H18.6",),
    "92136": ("H25", "H26"),
    "68761": ("H04.12", "H16.22"),
}


@dataclass(frozen=True)
class Denial:
    rule: str
    group: str
    carc: str
    rarcs: tuple[str, ...] = ()


@dataclass
class PatientRecord:
    """What the payers know of a patient: paid services by (payer, code), lines seen, group visits."""

    paid: dict[tuple[str, str], list[date]] = field(default_factory=dict, repr=False)
    processed: dict[tuple[str, date, tuple[str, ...]], str] = field(default_factory=dict)
    visits: list[tuple[date, str, str]] = field(default_factory=list)


@dataclass
class ClaimContext:
    claim: Claim
    contract: Contract
    coverage: Coverage
    payer_kind: PlanKind
    specialty: str
    record: PatientRecord


def dx_laterality(code: str) -> int | None:
    """1 right, 2 left, 3 both, None when the code carries no eye (injury codes: 5th character)."""
    if code.startswith("T15"):
        return int(code[5]) if code[5] in "12" else None
    if code.startswith(("H40.11", "H35.31", "H35.32")) and len(code) == 8:
        return int(code[6]) if code[6] in "123" else None
    if code.startswith("H") and code[-1] in "123":
        return int(code[-1])
    return None


def _line_dx(claim: Claim, line: ClaimLine) -> list[str]:
    return [
        claim.diagnosis_codes[p - 1] for p in line.diagnosis_pointers if 0 < p <= len(claim.diagnosis_codes)
    ]


def claim_denial(ctx: ClaimContext) -> Denial | None:
    """Edits that deny every line: eligibility and timely filing."""
    claim, coverage = ctx.claim, ctx.coverage
    dos = claim.date_of_service
    if (coverage.effective and coverage.effective > dos) or (
        coverage.termination and coverage.termination < dos
    ):
        return Denial("eligibility", "CO", "27", ("N30",))
    if claim.submitted_on and (claim.submitted_on - dos).days > ctx.contract.timely_filing_days:
        return Denial("timely_filing", "CO", "29")
    return None


def line_denial(ctx: ClaimContext, line: ClaimLine) -> Denial | None:
    """The first of this payer's line edits that fires, in the order a payer's editor runs them."""
    claim, kind = ctx.claim, ctx.payer_kind
    mods = set(line.modifiers)
    key = (line.code, claim.date_of_service, tuple(line.modifiers))
    if ctx.record.processed.get(key, claim.id) != claim.id:
        return Denial("duplicate", "CO", "18", ("N522",))
    if line.code == "92015":
        if kind in MEDICARE_KINDS:
            return (
                Denial("non_covered_refraction", "PR", "204", ("N425",))
                if "GY" in mods
                else Denial("refraction_missing_gy", "CO", "96", ("N425",))
            )
        if kind == PlanKind.COMMERCIAL:
            return Denial("non_covered_refraction", "PR", "96", ("N130",))
    medical_plan = kind in MEDICARE_KINDS or kind == PlanKind.COMMERCIAL
    if medical_plan and line.code in ROUTINE_ONLY_CODES:
        return Denial("routine_exam_medical_plan", "CO", "96", ("N130",))
    if medical_plan and line.code in EXAM_CODES and claim.diagnosis_codes[0].startswith("Z01.0"):
        return Denial("routine_exam_medical_plan", "CO", "49")
    if line.code in NEW_PATIENT_CODES and _seen_within_three_years(ctx):
        return Denial("new_patient_rule", "CO", "B16")
    if line.code in EYE_MODIFIER_CODES and not mods & {"RT", "LT"}:
        return Denial("missing_modifier", "CO", "4", ("N822",))
    if line.code == "68761" and not mods & set(EYELID_MODIFIERS):
        return Denial("missing_modifier", "CO", "4", ("N822",))
    if line.code in BOTH_EYES_CODES and mods & {"RT", "LT", "50"}:
        return Denial("wrong_modifier", "CO", "4", ("N823",))
    if _laterality_conflict(claim, line):
        return Denial("laterality_mismatch", "CO", "11", ("M76",))
    covered = COVERED_DX.get(line.code)
    if covered and not any(dx.startswith(covered) for dx in _line_dx(claim, line)):
        return Denial("diagnosis_inconsistent", "CO", "11", ("N115",))
    if line.code in ctx.contract.prior_auth_codes and not claim.prior_auth_number:
        return Denial("missing_prior_auth", "CO", "197", ("M62",))
    if _over_frequency(ctx, line):
        group_rarc = ("N362",) if kind in MEDICARE_KINDS else ("N130",)
        carc = "119" if kind == PlanKind.VISION else "151"
        return Denial("frequency_limit", "CO", carc, group_rarc)
    return None


def bundling_denials(ctx: ClaimContext, open_lines: list[ClaimLine]) -> dict[int, Denial]:
    """Pair edits on the lines still payable: PTP pairs; an E/M beside a minor procedure without 25."""
    codes = {line.code: line for line in open_lines}
    found: dict[int, Denial] = {}
    for first, second, modifier_ok in PTP_PAIRS:
        if first in codes and second in codes:
            column2 = codes[second]
            if modifier_ok and set(column2.modifiers) & {"59", "XS"}:
                continue
            found[column2.line_number] = (
                Denial("ncci_conflict", "CO", "97", ("M80",))
                if modifier_ok
                else Denial("ncci_conflict", "CO", "236", ("N20",))
            )
    if codes.keys() & MINOR_PROCEDURES:
        for line in open_lines:
            if (line.code in EM_CODES or line.code in EXAM_CODES) and "25" not in line.modifiers:
                found[line.line_number] = Denial("missing_modifier_25", "CO", "97", ("N20",))
    return found


def _seen_within_three_years(ctx: ClaimContext) -> bool:
    dos = ctx.claim.date_of_service
    try:
        cutoff = dos.replace(year=dos.year - 3)
    except ValueError:  # 29 February
        cutoff = dos.replace(year=dos.year - 3, day=28)
    return any(
        cutoff <= seen < dos and practice == ctx.claim.practice_id and specialty == ctx.specialty
        for seen, practice, specialty in ctx.record.visits
    )


def _laterality_conflict(claim: Claim, line: ClaimLine) -> bool:
    sides = {1 if m == "RT" else 2 for m in line.modifiers if m in ("RT", "LT")}
    sides |= {EYELID_MODIFIERS[m] for m in line.modifiers if m in EYELID_MODIFIERS}
    if len(sides) != 1:
        return False
    side = sides.pop()
    eyes = [dx_laterality(dx) for dx in _line_dx(claim, line)]
    eyes = [e for e in eyes if e is not None]
    return bool(eyes) and all(e not in (side, 3) for e in eyes)


def _over_frequency(ctx: ClaimContext, line: ClaimLine) -> bool:
    dos = ctx.claim.date_of_service
    if ctx.payer_kind == PlanKind.VISION and line.code in EXAM_CODES:
        limit: tuple[int, int | None] = (1, VISION_EXAM_LIMIT_DAYS)
    elif line.code in FREQUENCY_LIMITS:
        limit = FREQUENCY_LIMITS[line.code]
    else:
        return False
    count, days = limit
    codes = EXAM_CODES if ctx.payer_kind == PlanKind.VISION and line.code in EXAM_CODES else {line.code}
    payer = ctx.claim.payer_id
    earlier = [d for code in codes for d in ctx.record.paid.get((payer, code), []) if d < dos]
    if days is not None:
        earlier = [d for d in earlier if (dos - d).days < days]
    return len(earlier) >= count
