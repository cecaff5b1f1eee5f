"""The intended (gold) coding of a visit: exam code by the 3-year rule, modifiers, units, pointers."""

from datetime import date
from decimal import Decimal

from billing.charges import ChargeLine
from billing.practice import PlanKind
from sandbox.dataset import IntendedCoding
from sandbox.generator.payers import EYEMED
from sandbox.generator.visits import Visit

EYE_EXAM = {True: "92004", False: "92014"}
# A new problem evaluated with an intermediate exam (evals/datasets/README.md, "Exam family").
INTERMEDIATE_EXAM = {True: "92002", False: "92012"}
VISION_S_CODE = {True: "S0620", False: "S0621"}
EM = {True: {2: "99202", 3: "99203", 4: "99204"}, False: {2: "99212", 3: "99213", 4: "99214"}}
# MDM element levels (2 straightforward .. 4 moderate); tests billed today never count as data.
PROBLEM_LEVEL = {"self_limited": 2, "stable_chronic": 3, "acute": 3, "two_chronic": 4, "progressing": 4}
RISK_LEVEL = {"none": 2, "otc": 3, "rx": 4, "surgery": 4}
DATA_LEVEL = {"minimal": 2, "limited": 3, "moderate": 4}
MINOR_PROCEDURES = frozenset({"65205", "65222", "68761"})
ESTABLISHED_FOR_NEW = {
    "92004": "92014",
    "92002": "92012",
    "99202": "99212",
    "99203": "99213",
    "99204": "99214",
    "S0620": "S0621",
}
MEDICARE_KINDS = frozenset({PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE})


def three_years_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 3)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 3, day=28)


def is_new_patient(dos: date, prior_visits: list[date]) -> bool:
    """New unless the same specialty in the group saw the patient within the past 3 years."""
    cutoff = three_years_before(dos)
    return not any(cutoff <= seen < dos for seen in prior_visits)


def mdm_level(visit: Visit) -> int:
    """E/M level met by 2 of the 3 MDM elements: the middle of the three element levels."""
    levels = sorted((PROBLEM_LEVEL[visit.problems], DATA_LEVEL[visit.data], RISK_LEVEL[visit.management]))
    return levels[1]


def exam_code(visit: Visit, *, new: bool, vision_payer: str | None) -> str:
    if visit.benefit == "vision" and vision_payer == EYEMED:
        return VISION_S_CODE[new]
    if visit.exam == "comprehensive":
        return EYE_EXAM[new]
    if visit.exam == "intermediate":
        return INTERMEDIATE_EXAM[new]
    return EM[new][mdm_level(visit)]


def code_visit(
    visit: Visit,
    *,
    encounter_id: str,
    new: bool,
    payer_kind: PlanKind,
    vision_payer: str | None,
    fees: dict[str, Decimal],
) -> IntendedCoding:
    """Claim lines for what was done: exam (25 beside a minor procedure), refraction, tests."""
    dx_codes = list(dict.fromkeys(d.code for d in visit.dx))
    position = {code: index for index, code in enumerate(dx_codes, start=1)}
    lines: list[ChargeLine] = []
    exam = ""
    if visit.exam != "none":
        exam = exam_code(visit, new=new, vision_payer=vision_payer)
        modifiers = ["25"] if any(s.code in MINOR_PROCEDURES for s in visit.services) else []
        # A medical exam points at the medical problems; the refractive dx belongs to 92015.
        medical = (
            [position[c] for c in dx_codes if not c.startswith("H52")] if visit.benefit == "medical" else []
        )
        lines.append(_line(exam, modifiers, (medical or list(position.values()))[:4], fees))
    if visit.refraction and not exam.startswith("S06"):
        refractive = [position[c] for c in dx_codes if c.startswith("H52")] or [1]
        modifiers = ["GY"] if payer_kind in MEDICARE_KINDS and visit.benefit == "medical" else []
        lines.append(_line("92015", modifiers, refractive[:4], fees))
    for service in visit.services:
        lines.append(
            _line(service.code, list(service.modifiers), [position[c] for c in service.dx][:4], fees)
        )
    return IntendedCoding(
        encounter_id=encounter_id,
        scenario=visit.scenario,
        diagnosis_codes=dx_codes,
        lines=lines,
        rationale=visit.rationale
        + (" New patient (no visit with this specialty in 3 years)." if new else ""),
    )


def _line(code: str, modifiers: list[str], pointers: list[int], fees: dict[str, Decimal]) -> ChargeLine:
    return ChargeLine(code=code, modifiers=modifiers, units=1, diagnosis_pointers=pointers, fee=fees[code])
