"""Round-9 reading rules of the offline coder, found on the retired check splits (check3..check12)."""

from agents.coding.offline import OfflineCoder
from agents.coding.sections import SectionKind, parse_note
from tests.agents.test_coding_rules8 import _visit
from tests.support.coding_requests import coding_request


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


def _codes(note: str, **overrides: object) -> list[str]:
    return [line.code for line in _suggest(note, **overrides).lines]


DIABETIC = """CC: diabetic eye exam. Type 2 DM on metformin.
VA cc 20/20 OD, 20/20 OS. IOP 15/16.
DFE: scattered dot-blot hemes OU, no NV, maculae flat and dry.
{photos}
A: mild NPDR OU without macular edema; type 2 DM.
P: letter to PCP; recheck 6 months."""


def test_photos_crossed_off_are_not_billed() -> None:
    assert "92250" not in _codes(DIABETIC.format(photos="Fundus photos ✗ (exam sufficient today)"))
    assert "92250" in _codes(DIABETIC.format(photos="Fundus photos ✓ today: dot-blot hemes OU, no NV."))


def test_photos_taken_in_the_referring_office_are_not_todays() -> None:
    note = DIABETIC.format(photos="The retinal photos taken in your office show the same hemorrhages.")
    assert "92250" not in _codes(note)


def test_a_finding_compared_with_earlier_photos_bills_no_photos() -> None:
    note = (
        "Progress note, 4-month follow-up. Latanoprost nightly OU.\nExam: IOP 15 OD / 14 OS. Undilated 90D view: "
        "c/d 0.6 OD, 0.55 OS, rims {words} disc photos, no hemorrhage.\nImpression: POAG OU mild stage, stable.\n"
        "Plan: continue latanoprost, refill sent. RTC 4 mo."
    )
    assert "92250" not in _codes(note.format(words="unchanged from baseline"))
    assert "92250" in _codes(note.format(words="healthy on today's"))


def test_a_patient_paid_screening_image_is_not_billed() -> None:
    assert "92250" not in _codes(
        DIABETIC.format(photos="Optomap: pt elected screening image ($39 paid) - wnl.")
    )
    assert "92250" not in _codes(
        DIABETIC.format(photos="Optomap screening image taken, no medical indication.")
    )
    # the same camera ordered for the retinopathy is billed
    assert "92250" in _codes(
        DIABETIC.format(photos="I ordered the Optomap today and interpreted it: MAs OU.")
    )


def test_a_bare_no_after_a_tests_label_means_not_done() -> None:
    assert "92250" not in _codes(DIABETIC.format(photos="Fundus photos: no."))


GLAUCOMA = """Reason for visit: POAG follow-up.
Exam: IOP 16 OD, 23 OS on latanoprost OU. C/D 0.75 OD, 0.9 OS.
Tests today: {test}
Impression/Plan: POAG OU, left eye above target. Add netarsudil OS (Rx sent). Return 6 weeks."""


def test_a_test_done_before_a_referral_is_todays() -> None:
    note = GLAUCOMA.format(test="Gonioscopy both eyes before laser referral - open to CBB 360 OU.")
    assert "92020" in _codes(note)
    # a test put off to the next visit is still not billed
    assert "92020" not in _codes(GLAUCOMA.format(test="Gonioscopy at the next visit."))


def test_a_ticked_box_under_a_testing_performed_today_heading_is_billed() -> None:
    note = """VISIT TYPE: new problem
CC: PCP referral for hypertensive eye changes.
VA cc 20/25 OD, 20/25 OS. [x] Dilated.
Vessels: A/V nicking OU. 1 flame heme OD.
TESTING PERFORMED TODAY
[x] Fundus photography OU - baseline for comparison at follow-up. A/V nicking OU, flame heme OD.
ASSESSMENT
1. Hypertensive retinopathy OU
PLAN: report to PCP."""
    assert "92250" in _codes(note)
    # under a heading that lists orders, a ticked box is an order
    ordered = note.replace("TESTING PERFORMED TODAY", "Tests ordered this visit").replace(
        " A/V nicking OU, flame heme OD.\nASSESSMENT", "\nASSESSMENT"
    )
    assert "92250" not in _codes(ordered)


def test_testing_performed_today_is_a_tests_heading() -> None:
    note = parse_note("CC: f/u\nTESTING PERFORMED TODAY\nOCT mac OU: dry.\nA: AMD.")
    assert SectionKind.TESTS in {section.kind for section in note.sections}


def test_a_p_line_of_pupil_findings_is_not_the_plan() -> None:
    note = "CC: CRVO OD f/u\nVAcc OD 20/200, OS 20/25\nP: OD 2+ APD\ngonio OU: open to CBB 360, no NVA\nA: CRVO OD."
    parsed = parse_note(note)
    kinds = [section.kind for section in parsed.sections]
    assert SectionKind.PLAN not in kinds
    assert "92020" in _codes(note)


def test_a_test_dated_by_an_earlier_year_before_its_name_is_not_todays() -> None:
    note = (
        "OHT OU f/u. Observation, no drops (low risk: CCT 598/602 on 2024 pachy).\nIOP 25/24.\n"
        "OCT RNFL OU today: avg 94/96, stable.\nA: OHT OU stable.\nP: RTC 6 mo."
    )
    codes = _codes(note, date_of_service="2026-03-10")
    assert "76514" not in codes and "92133" in codes
    # a test repeated today is still named by the year of the last one
    repeated = "OHT OU. IOP 25/24. We repeated her 2024 Humphrey field today: full OU.\nA: OHT OU stable."
    assert "92083" in _codes(repeated, date_of_service="2026-03-10")


def test_no_imaging_today_drops_results_that_do_not_say_today() -> None:
    note = (
        "IOP check. OHT OD, untreated. No imaging today.\nMD: C/D 0.35 OU. Sept OCT RNFL reviewed - wnl OU; "
        "HVF full OU. Pachy 590 OD.\nA/P: OHT OD stable. RTC 6 mo w/ OCT RNFL."
    )
    codes = _codes(note)
    assert "92083" not in codes and "76514" not in codes
    assert "76514" in _codes(note.replace("No imaging today.", "Pachymetry today."))


def test_corneal_thickness_measured_today_is_pachymetry() -> None:
    note = (
        "Glaucoma suspect evaluation, new patient. Pressures 19 and 20. Nerves 0.6 OU.\n"
        "We measured her corneal thickness today: 598 right and 604 left.\nImpression: glaucoma suspect OU."
    )
    assert "76514" in _codes(note, established=False)


def test_the_exams_a_patient_usually_has_do_not_make_todays_comprehensive() -> None:
    note = (
        "Mrs. Ames, established with us for her {words}, was worked in today because her right eye has been red "
        "and light sensitive for two days. Acuity 20/40 right, 20/20 left. Pupils round. Slit lamp: right eye "
        "ciliary flush, 2+ cells. Pressures 12 and 15. Dilated both eyes: no vitritis, flat retinas.\n"
        "Impression: acute anterior uveitis, right eye. Plan: prednisolone acetate 1% q2h right eye."
    )
    assert _visit(note.format(words="yearly eye exams")) == "92012"
    assert _visit(note.format(words="yearly eye exam, which she has today")) == "92014"


def test_a_focused_exam_with_fields_and_motility_crossed_off_is_intermediate() -> None:
    note = """CC: new distortion OD x 5 d
VA cc 20/70 OD, 20/30 OS. IOP 13/14. Ant seg quiet OU.
DFE ✓ OD subretinal heme; OS drusen.
Exam: focused (✗ CF, ✗ EOM)
IMP: exudative AMD OD, new; nonexudative AMD OS intermediate.
PLAN: retina this week."""
    assert _visit(note) == "92012"
    assert _visit(note.replace("Exam: focused (✗ CF, ✗ EOM)", "CF full OU, EOM full OU")) == "92014"


def test_an_adults_sensorimotor_work_up_is_not_a_comprehensive_exam() -> None:
    note = """CC: double vision x 3 days
VA cc OD 20/20 OS 20/20. Pupils PERRL. Ductions: OD abduction -3.
SENSORIMOTOR EXAM: prism alternate cover 18 PD ET distance, 25 PD right gaze; interpreted today.
IOP 15/15. SLE normal OU. DFE: discs sharp OU.
ASSESSMENT: Right sixth nerve (abducens) palsy, acute.
PLAN: MRI brain and orbits ordered."""
    suggestion = _suggest(note, patient_age=70)
    codes = [line.code for line in suggestion.lines]
    assert codes[0] == "92012" and "92060" in codes
    assert [d.code for d in suggestion.diagnoses] == ["H49.21"]
    # a young child's sensorimotor evaluation stands in for the fields they cannot do
    assert _visit(note, patient_age=4) == "92014"


def test_cranial_nerve_palsies_take_their_eye() -> None:
    note = "CC: vertical diplopia x5d.\nEOM: L hyper.\nIMP: acute {side} 4th nerve palsy, presumed microvascular.\nP: MRI."
    assert [d.code for d in _suggest(note.format(side="L")).diagnoses] == ["H49.12"]
    assert [d.code for d in _suggest(note.format(side="R")).diagnoses] == ["H49.11"]


def test_diplopia_is_coded_when_no_cause_is_named() -> None:
    note = (
        "CC: binocular double vision x 8 days.\nMotility full. Cover test: small esodeviation at distance.\n"
        "ASSESSMENT\n1. Binocular horizontal diplopia, new onset, cause undetermined. R/O sixth nerve palsy.\n"
        "PLAN: MRI brain; RTC 2 wk."
    )
    assert [d.code for d in _suggest(note).diagnoses] == ["H53.2"]


def test_papilledema_from_iih_codes_both_and_not_hypertension() -> None:
    note = (
        "IIH follow-up on acetazolamide. Discs markedly elevated OU.\nImpression: papilledema from idiopathic "
        "intracranial hypertension, worsened, both eyes.\nPlan: call neurology today."
    )
    assert {d.code for d in _suggest(note).diagnoses} == {"H47.11", "G93.2"}
    plain = "Disc elevation OU.\nImpression: papilledema both eyes, cause unknown.\nPlan: MRI and LP today."
    assert [d.code for d in _suggest(plain).diagnoses] == ["H47.10"]


def test_a_sensorimotor_line_of_prism_measurements_is_billed() -> None:
    note = (
        "CC: vertical double vision.\nVA cc 20/20 OD, 20/25 OS.\n"
        "Sensorimotor (prism alt cover, 9 gazes + head tilt): LHT 4 pd primary, 10 pd R gaze. Interpreted.\n"
        "IMP: acute L 4th nerve palsy.\nP: MRI ordered."
    )
    assert "92060" in _codes(note)
