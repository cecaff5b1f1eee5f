"""Visit-code rules of the offline coder (README "Exam family" and "MDM"): minor-procedure days, the MDM level
of follow-ups, surgery decisions and plan-stated progression."""

from datetime import date

from agents.coding.offline import OfflineCoder
from agents.coding.schemas import CodeSuggestion, CodingRequest, PriorVisit

DOS = date(2026, 3, 10)
ESTABLISHED = [PriorVisit(date=date(2025, 3, 11), codes=["92014"])]
VISIT_CODES = {"92002", "92004", "92012", "92014", "99212", "99213", "99214", "99215"}


def _visit(
    coder: OfflineCoder, note: str, history: list[PriorVisit] = ESTABLISHED, age: int = 70
) -> list[tuple[str, tuple[str, ...]]]:
    request = CodingRequest(
        note=note,
        patient_age=age,
        payer_name="Aetna",
        payer_kind="commercial",
        date_of_service=DOS,
        history=history,
    )
    suggestion: CodeSuggestion = coder.suggest(request)
    return [(line.code, tuple(line.modifiers)) for line in suggestion.lines if line.code in VISIT_CODES]


PLUG_DAY = (
    "Here for the planned plug in the right lower punctum for dry eye of both eyes. {extra}"
    "Silicone plug inserted in the right lower punctum without difficulty.\n"
    "Assessment: dry eye syndrome, both eyes. {assessed}\nPlan: {plan}return in 6 weeks."
)


def test_a_plug_day_with_nothing_else_has_no_visit_line(coder: OfflineCoder) -> None:
    assert _visit(coder, PLUG_DAY.format(extra="", assessed="", plan="")) == []


def test_a_new_problem_brought_up_on_a_plug_day_is_an_intermediate_exam_with_25(coder: OfflineCoder) -> None:
    note = PLUG_DAY.format(
        extra="She also mentioned new floaters in the left eye for three days; dilated, a Weiss ring, no tear. ",
        assessed="Acute posterior vitreous detachment, left eye.",
        plan="RD warning signs reviewed; ",
    )
    assert _visit(coder, note) == [("92012", ("25",))]


def test_a_known_chronic_problem_checked_on_a_plug_day_is_an_em_with_25(coder: OfflineCoder) -> None:
    note = PLUG_DAY.format(
        extra="His scheduled ocular hypertension check: uses latanoprost qhs both eyes, pressures 17 and 16. ",
        assessed="Ocular hypertension both eyes, stable on latanoprost.",
        plan="continue latanoprost; ",
    )
    assert _visit(coder, note) == [("99213", ("25",))]


GLAUCOMA_CHECK = (
    "CC: Glaucoma follow-up\nHPI: POAG on latanoprost qhs OU, good compliance. No new complaints.\n"
    "VA cc 20/25 OD, 20/25 OS. IOP 16/15. SLE quiet OU.\nA/P:\n1. POAG OU mild stage\n- {plan}\n- RTC 4 mo"
)


def test_stable_glaucoma_on_rx_drops_is_99213(coder: OfflineCoder) -> None:
    assert _visit(coder, GLAUCOMA_CHECK.format(plan="Continue latanoprost qhs OU")) == [("99213", ())]


def test_progression_stated_in_the_plan_with_rx_management_is_99214(coder: OfflineCoder) -> None:
    plan = "IOP above target OD; add brimonidine bid OD"
    assert _visit(coder, GLAUCOMA_CHECK.format(plan=plan)) == [("99214", ())]


def test_monitoring_for_progression_is_not_progression(coder: OfflineCoder) -> None:
    plan = "Continue latanoprost qhs OU; monitor for progression"
    assert _visit(coder, GLAUCOMA_CHECK.format(plan=plan)) == [("99213", ())]


KERATOCONUS = (
    "CC: Keratoconus follow-up\nHPI: Fluctuating vision.\nVA cc 20/40 OD, 20/30 OS. SLE: inferior steepening "
    "OU.\nA/P:\n1. {dx} keratoconus OU\n- {plan}\n- RTC 6 mo"
)


def test_a_decision_for_surgery_is_moderate_risk(coder: OfflineCoder) -> None:
    referred = KERATOCONUS.format(dx="progressing", plan="Progression documented: refer for CXL")
    contingent = KERATOCONUS.format(dx="stable", plan="CXL referral if progressing")
    assert _visit(coder, referred) == [("99214", ())]
    assert _visit(coder, contingent) == [("99212", ())]


def test_a_cataract_surgery_planning_visit_is_a_follow_up_em(coder: OfflineCoder) -> None:
    note = (
        "CC: Cataract surgery planning\nHPI: Ready to proceed with surgery.\nVA sc 20/50 OD, 20/30 OS. IOP 14/15."
        "\nSLE: 3+ nuclear cataract OD.\nA/P:\n1. nuclear cataract OD\n- Plan CE/IOL OD\n- Pre-op instructions given"
    )
    assert _visit(coder, note) == [("99213", ())]


def test_a_child_comprehensive_exam_may_use_a_sensorimotor_evaluation_for_the_fields(
    coder: OfflineCoder,
) -> None:
    note = (
        "New patient, age 4, referred because the left eye turns in. Acuity with Allen figures 20/30 right, 20/80 "
        "left. {motility} Anterior segments and dilated fundi are normal.\n"
        "Assessment: constant left esotropia; hyperopia both eyes.\nPlan: full-time glasses; recheck in 6 weeks."
    )
    sensorimotor = "Sensorimotor evaluation with alternate cover shows a left esotropia of 30 prism diopters."
    cover_only = "Cover test shows a left esotropia."
    assert _visit(coder, note.format(motility=sensorimotor), [], age=4) == [("92004", ())]
    assert _visit(coder, note.format(motility=cover_only), [], age=4) == [("92002", ())]
