"""Realistic human billing mistakes seeded into a few historical charges so that payers deny them."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.charges import Charge, ChargeLine
from billing.practice import Coverage, PlanKind
from sandbox.generator.coding import ESTABLISHED_FOR_NEW

LATERAL = {"RT", "LT", "E1", "E2", "E3", "E4"}
NEW_FOR_ESTABLISHED = {established: new for new, established in ESTABLISHED_FOR_NEW.items()}
MEDICARE_KINDS = (PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE)


@dataclass
class BillingDraft:
    """A charge about to become a claim, and what the biller chose to send it with."""

    charge: Charge
    dos: date
    coverage: Coverage
    prior_auth_number: str
    scenario: str
    medical_coverages: list[Coverage]
    billed_before: set[str]
    fees: dict[str, Decimal]


def _find(draft: BillingDraft, test: Callable[[ChargeLine], bool]) -> ChargeLine | None:
    return next((line for line in draft.charge.lines if test(line)), None)


def _missing_laterality(draft: BillingDraft, rng: random.Random) -> bool:
    line = _find(draft, lambda line: bool(LATERAL & set(line.modifiers)))
    if line is None:
        return False
    line.modifiers = [m for m in line.modifiers if m not in LATERAL]
    return True


def _wrong_laterality_dx(draft: BillingDraft, rng: random.Random) -> bool:
    codes = draft.charge.diagnosis_codes
    for index, code in enumerate(codes):
        if code.startswith("T15") and code[5] in "12":
            codes[index] = code[:5] + ("2" if code[5] == "1" else "1") + code[6:]
            return True
    return False


def _oct_pair(draft: BillingDraft, rng: random.Random) -> bool:
    have = {line.code for line in draft.charge.lines}
    for present, missing in (("92133", "92134"), ("92134", "92133")):
        line = _find(draft, lambda line, code=present: line.code == code)
        if line is not None and missing not in have:
            extra = ChargeLine(
                code=missing, diagnosis_pointers=list(line.diagnosis_pointers), fee=draft.fees[missing]
            )
            draft.charge.lines.append(extra)
            return True
    return False


def _refraction_without_gy(draft: BillingDraft, rng: random.Random) -> bool:
    line = _find(draft, lambda line: line.code == "92015" and "GY" in line.modifiers)
    if line is None:
        return False
    line.modifiers = [m for m in line.modifiers if m != "GY"]
    return True


def _missing_25(draft: BillingDraft, rng: random.Random) -> bool:
    line = _find(draft, lambda line: "25" in line.modifiers)
    if line is None:
        return False
    line.modifiers = [m for m in line.modifiers if m != "25"]
    return True


def _new_for_established(draft: BillingDraft, rng: random.Random) -> bool:
    line = _find(draft, lambda line: line.code in NEW_FOR_ESTABLISHED)
    if line is None:
        return False
    line.code = NEW_FOR_ESTABLISHED[line.code]
    line.fee = draft.fees[line.code]
    return True


def _routine_to_medical(draft: BillingDraft, rng: random.Random) -> bool:
    if draft.coverage.plan_kind != PlanKind.VISION or draft.scenario != "routine_vision":
        return False
    medical = [c for c in draft.medical_coverages if c.plan_kind in (*MEDICARE_KINDS, PlanKind.COMMERCIAL)]
    if not medical:
        return False
    draft.coverage = medical[-1]
    return True


def _frequency_exceeded(draft: BillingDraft, rng: random.Random) -> bool:
    if draft.scenario not in ("poag", "glaucoma_suspect") or "76514" not in draft.billed_before:
        return False
    if _find(draft, lambda line: line.code == "76514") is not None:
        return False
    draft.charge.lines.append(ChargeLine(code="76514", diagnosis_pointers=[1], fee=draft.fees["76514"]))
    return True


def _missing_prior_auth(draft: BillingDraft, rng: random.Random) -> bool:
    if not draft.prior_auth_number:
        return False
    draft.prior_auth_number = ""
    return True


def _terminated_coverage(draft: BillingDraft, rng: random.Random) -> bool:
    ended = [c for c in draft.medical_coverages if c.termination and c.termination < draft.dos]
    if draft.coverage.plan_kind == PlanKind.VISION or not ended:
        return False
    draft.coverage = ended[-1]
    return True


# (name, chance when applicable): rare situations get a higher chance so every kind shows up.
ERRORS: tuple[tuple[str, float, Callable[[BillingDraft, random.Random], bool]], ...] = (
    ("terminated_coverage", 0.3, _terminated_coverage),
    ("missing_prior_auth", 0.35, _missing_prior_auth),
    ("wrong_laterality_dx", 0.08, _wrong_laterality_dx),
    ("missing_laterality_modifier", 0.12, _missing_laterality),
    ("missing_25", 0.15, _missing_25),
    ("refraction_without_gy", 0.06, _refraction_without_gy),
    ("oct_pair", 0.04, _oct_pair),
    ("frequency_exceeded", 0.06, _frequency_exceeded),
    ("routine_to_medical", 0.05, _routine_to_medical),
    ("new_for_established", 0.018, _new_for_established),
)


def seed_error(rng: random.Random, draft: BillingDraft) -> str:
    """Apply at most one mistake to the draft; returns its name or ''."""
    for name, chance, apply in ERRORS:
        if rng.random() < chance and apply(draft, rng):
            return name
    return ""
