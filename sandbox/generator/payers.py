"""The payer landscape and each patient's coverage: Medicare, MA, Medicaid, commercial and vision plans."""

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.practice import Coverage, Patient, Payer, PlanKind

MEDICARE = "pay-medicare"
MEDICARE_ADVANTAGE = "pay-ma"
MEDICAID = "pay-medicaid"
COMMERCIAL = ("pay-evergreen", "pay-summit", "pay-columbia")
VSP = "pay-vsp"
EYEMED = "pay-eyemed"

PAYERS = [
    Payer(id=MEDICARE, name="Medicare Part B (Noridian JF)", kind=PlanKind.MEDICARE, payer_id="02302"),
    Payer(
        id=MEDICARE_ADVANTAGE,
        name="Cascade Senior Advantage HMO",
        kind=PlanKind.MEDICARE_ADVANTAGE,
        payer_id="CSA01",
    ),
    Payer(id=MEDICAID, name="Oregon Health Plan (Medicaid)", kind=PlanKind.MEDICAID, payer_id="ORDHS"),
    Payer(
        id="pay-evergreen",
        name="Evergreen Health Partners PPO",
        kind=PlanKind.COMMERCIAL,
        payer_id="EHP01",
        timely_filing_days=90,
    ),
    Payer(
        id="pay-summit",
        name="Summit Mutual Insurance",
        kind=PlanKind.COMMERCIAL,
        payer_id="SMI22",
        timely_filing_days=180,
    ),
    Payer(
        id="pay-columbia",
        name="Columbia Benefit Plan",
        kind=PlanKind.COMMERCIAL,
        payer_id="CBP07",
        timely_filing_days=120,
    ),
    Payer(id=VSP, name="VSP Vision Care", kind=PlanKind.VISION, payer_id="VSP01"),
    Payer(
        id=EYEMED, name="EyeMed Vision Care", kind=PlanKind.VISION, payer_id="EYEMD", timely_filing_days=180
    ),
]
PAYER_BY_ID = {payer.id: payer for payer in PAYERS}
PLAN_NAMES = {
    MEDICARE: "Medicare Part B",
    MEDICARE_ADVANTAGE: "Senior Advantage HMO",
    MEDICAID: "OHP Plus",
    "pay-evergreen": "Evergreen PPO 40",
    "pay-summit": "Summit HDHP 2000",
    "pay-columbia": "Columbia Choice",
    VSP: "VSP Choice",
    EYEMED: "EyeMed Access",
}
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


@dataclass(frozen=True)
class CostShare:
    copay: Decimal = Decimal("0.00")
    coinsurance_pct: int = 0
    deductible: Decimal = Decimal("0.00")


COST_SHARE = {
    MEDICARE: CostShare(coinsurance_pct=20, deductible=Decimal("240.00")),
    MEDICARE_ADVANTAGE: CostShare(copay=Decimal("40.00")),
    MEDICAID: CostShare(),
    "pay-evergreen": CostShare(copay=Decimal("40.00")),
    "pay-summit": CostShare(coinsurance_pct=20, deductible=Decimal("2000.00")),
    "pay-columbia": CostShare(copay=Decimal("30.00"), coinsurance_pct=10, deductible=Decimal("500.00")),
    VSP: CostShare(copay=Decimal("10.00")),
    EYEMED: CostShare(copay=Decimal("15.00")),
}


def _mbi(rng: random.Random) -> str:
    """A Medicare Beneficiary Identifier shape (11 characters, no S L O I B Z)."""
    alnum = MBI_LETTERS + string.digits
    pattern = ["123456789", MBI_LETTERS, alnum, string.digits, MBI_LETTERS, alnum, string.digits]
    pattern += [MBI_LETTERS, MBI_LETTERS, string.digits, string.digits]
    return "".join(rng.choice(chars) for chars in pattern)


def _member_id(rng: random.Random, payer_id: str) -> str:
    if payer_id == MEDICARE:
        return _mbi(rng)
    prefix = {MEDICAID: "OR", VSP: "", EYEMED: "EM"}.get(payer_id, payer_id[4:7].upper())
    return prefix + "".join(rng.choice(string.digits) for _ in range(9))


class CoverageBuilder:
    """Hands out coverage ids in order and applies each payer's cost-share terms."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.coverages: list[Coverage] = []

    def add(
        self, patient: Patient, payer_id: str, effective: date, termination: date | None = None
    ) -> Coverage:
        terms = COST_SHARE[payer_id]
        coverage = Coverage(
            id=f"cov-{len(self.coverages) + 1:05d}",
            patient_id=patient.id,
            payer_id=payer_id,
            plan_name=PLAN_NAMES[payer_id],
            plan_kind=PAYER_BY_ID[payer_id].kind,
            member_id=_member_id(self.rng, payer_id),
            group_number="" if payer_id in (MEDICARE, MEDICAID) else f"G{self.rng.randrange(10000, 99999)}",
            effective=max(effective, patient.birth_date),
            termination=termination,
            copay=terms.copay,
            coinsurance_pct=terms.coinsurance_pct,
            deductible=terms.deductible,
        )
        self.coverages.append(coverage)
        return coverage


def _plan_start(rng: random.Random, before: date) -> date:
    return date(before.year - rng.randint(1, 6), rng.choice((1, 1, 1, 4, 7, 10)), 1)


def build_coverages(
    rng: random.Random, patients: list[Patient], window_start: date, through: date
) -> list[Coverage]:
    """Medical coverage for all (Medicare at 65), vision plans for many, some terminations and switches."""
    builder = CoverageBuilder(rng)
    # Coverage must reach back far enough for visits before the window (3-year new-patient history).
    history_start = window_start - timedelta(days=5 * 365)
    for patient in patients:
        age = patient.age_on(window_start)
        sixty_five = date(patient.birth_date.year + 65, patient.birth_date.month, 1)
        if age >= 65:
            payer = MEDICARE if rng.random() < 0.7 else MEDICARE_ADVANTAGE
            builder.add(patient, payer, max(sixty_five, _plan_start(rng, history_start)))
        elif sixty_five <= through:
            # Ages into Medicare during the window: the employer plan ends the month before.
            commercial = rng.choice(COMMERCIAL)
            builder.add(patient, commercial, _plan_start(rng, history_start), sixty_five - timedelta(days=1))
            builder.add(patient, MEDICARE, sixty_five)
        else:
            medicaid_share = 0.4 if age < 18 else 0.15
            if rng.random() < medicaid_share:
                builder.add(patient, MEDICAID, _plan_start(rng, history_start))
            else:
                first = rng.choice(COMMERCIAL)
                start = _plan_start(rng, history_start)
                if rng.random() < 0.06:
                    # Switched employers mid-window: the old plan terminates, a new one starts the next day.
                    switch = window_start + timedelta(days=rng.randint(60, 330))
                    builder.add(patient, first, start, switch)
                    second = rng.choice([payer for payer in COMMERCIAL if payer != first])
                    builder.add(patient, second, switch + timedelta(days=1))
                else:
                    builder.add(patient, first, start)
        vision_share = 0.25 if age >= 65 else (0.0 if builder.coverages[-1].payer_id == MEDICAID else 0.65)
        if rng.random() < vision_share:
            ends = window_start + timedelta(days=rng.randint(90, 360)) if rng.random() < 0.05 else None
            builder.add(
                patient, VSP if rng.random() < 0.55 else EYEMED, _plan_start(rng, history_start), ends
            )
    return builder.coverages


def active_coverage(coverages: list[Coverage], on: date, *, vision: bool) -> Coverage | None:
    """The coverage in force on a date for the medical or the vision benefit."""
    for coverage in coverages:
        if (coverage.plan_kind == PlanKind.VISION) != vision:
            continue
        if coverage.effective and coverage.effective > on:
            continue
        if coverage.termination and coverage.termination < on:
            continue
        return coverage
    return None
