"""The surgeon's global period: a co-managed routine post-op visit is 99024; an unrelated problem inside the global
takes its exam code with modifier 24 (evals/datasets/README.md, tune12 section; optometry-billing.md §2)."""

from datetime import date

from agents.coding.offline import OfflineCoder
from agents.coding.schemas import PriorVisit
from tests.support.coding_requests import coding_request

DOS = "2026-02-03"
SURGERY = [
    PriorVisit(date=date(2025, 12, 9), codes=["92014", "92136"]),
    PriorVisit(date=date(2026, 1, 27), codes=["66984"], specialty="ophthalmology"),
    PriorVisit(date=date(2026, 1, 28), codes=["99024"]),
]


def _lines(
    note: str, history: list[PriorVisit] = SURGERY, **overrides: object
) -> set[tuple[str, tuple[str, ...]]]:
    request = coding_request(note, date_of_service=DOS, history=history, payer_kind="medicare", **overrides)
    suggestion = OfflineCoder(opinion=None).suggest(request)
    return {(line.code, tuple(line.modifiers)) for line in suggestion.lines}


ROUTINE = """POST-OP VISIT - CO-MANAGEMENT. CE/PCIOL OD 01/27/2026. Post-op day 7.
VA sc OD 20/25, OS 20/30. IOP 17/15. Cornea clear, wound sealed. AC trace cell. IOL centered.
Assessment: Pseudophakia OD, routine post-op course.
Plan: prednisolone taper; 1-month post-op visit 2/24."""


def test_a_routine_post_op_visit_is_99024_without_an_exam_line() -> None:
    assert _lines(ROUTINE) == {("99024", ())}


def test_a_post_op_visit_with_glasses_adds_the_refraction() -> None:
    note = ROUTINE.replace(
        "IOL centered.",
        "IOL centered.\nMRx OD +0.25 -0.75 x 175 20/20, OS -0.25 DS 20/20, add +2.50. SRx given.",
    ).replace("routine post-op course.", "routine post-op course. Astigmatism OD, presbyopia.")
    assert _lines(note) == {("99024", ()), ("92015", ("GY",))}


def test_an_unrelated_problem_at_the_post_op_visit_takes_24_beside_99024() -> None:
    note = ROUTINE.replace(
        "Plan: prednisolone taper",
        "Also NEW: painful red bump left upper lid x 3 days; tender pustule at a lash base LUL.\n"
        "A2: hordeolum externum LUL, new, unrelated to the surgery.\nPlan: warm compresses; prednisolone taper",
    )
    lines = _lines(note)
    assert ("99024", ()) in lines
    assert any(code == "92012" and "24" in modifiers for code, modifiers in lines)


def test_a_problem_visit_inside_the_global_without_the_post_op_check_has_no_99024() -> None:
    note = (
        "She came in today outside her post-op schedule because her LEFT eye turned red and watery two days ago. "
        "Acuity 20/25 right, 20/40 left. Left eye: follicular conjunctivitis, tender preauricular node.\n"
        "Assessment: acute adenoviral conjunctivitis, left eye.\nPlan: cool compresses. Keep the February 10 "
        "post-op visit."
    )
    assert _lines(note) == {("92012", ("24",))}
    # the same visit after the 90-day global carries no 24
    late = [
        PriorVisit(date=date(2025, 9, 2), codes=["66984"]),
        PriorVisit(date=date(2025, 9, 3), codes=["99024"]),
    ]
    assert _lines(note, late) == {("92012", ())}


def test_post_op_care_completed_ends_the_global() -> None:
    note = (
        "Left eye cataract evaluation. CE/PCIOL OD 01/27/2026; post-op care OD completed by the surgeon's office.\n"
        "VA cc OS 20/60. Lens OS 3+ NS. Dilated: healthy fundi.\nAssessment: nuclear cataract OS, visually "
        "significant.\nPlan: refer for surgery OS."
    )
    assert _lines(note) == {("92012", ())}


def test_a_post_op_visit_counted_in_weeks_is_inside_the_global_without_history() -> None:
    note = (
        "POW1 s/p CE/PCIOL OS (Dr. Okafor). Comanaged.\nVA sc OS 20/25. IOP OS 15. SLE OS: wound sealed, IOL "
        "centered.\nA: Pseudophakia OS, routine postop course.\nP: Pred Forte taper. RTC 3-4 wks."
    )
    assert _lines(note, history=[]) == {("99024", ())}


def test_an_acute_problem_in_an_addendum_to_a_post_op_visit_is_a_new_problem_exam() -> None:
    note = (
        "Two-week check after cataract surgery on the right eye; we are co-managing her care. Acuity 20/25, "
        "pressure 15, wound sealed.\nAssessment: pseudophakia of the right eye, routine postoperative course.\n"
        "Plan: continue the prednisolone taper.\nAddendum, same visit: she asked about a painful swelling of her "
        "left upper eyelid for three days. Tender pustule at a lash base. This is an external hordeolum of the "
        "left upper eyelid, new and unrelated to the surgery. Warm compresses."
    )
    lines = _lines(note)
    assert ("99024", ()) in lines and ("92012", ("24",)) in lines


def test_one_month_after_cataract_surgery_is_a_post_op_visit() -> None:
    note = (
        "Mrs. Ray is here one month after cataract surgery on her right eye; we are co-managing her care.\n"
        "VA sc 20/20 OD. The lens implant is centered, the chamber quiet.\nImpression: normal one-month course "
        "after cataract surgery, right eye; pseudophakia.\nPlan: release at three months."
    )
    assert ("99024", ()) in _lines(note)
