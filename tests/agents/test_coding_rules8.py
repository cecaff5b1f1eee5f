"""Round-8 reading rules of the offline coder, found on the tune21 residuals and the tune22 rows."""

from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


def _codes(note: str, **overrides: object) -> list[str]:
    return [line.code for line in _suggest(note, **overrides).lines]


KERATOCONUS = """KCN OU annual. 24 y/o F, glasses wearer, OD blurrier over 6 mo.
MRx OD -2.75 -4.00 x 030 20/40, OS -1.00 -1.25 x 145 20/20.
IOP 13/13. SLE: OD inf steepening, Vogt striae; OS clear. DFE: wnl OU.
Topo today: OD Kmax 55.1 (was 52.9). Pachy today: OD thinnest 452.
A: KCN OD progressing; KCN OS stable.
P: refer cornea for CXL OD. {rx}"""


def test_a_spectacle_prescription_put_off_leaves_the_refraction_unbilled() -> None:
    assert "92015" not in _codes(KERATOCONUS.format(rx="Spec Rx not finalized - deferred until after CXL."))
    assert "92015" not in _codes(KERATOCONUS.format(rx="Glasses Rx deferred until after CXL."))
    # a prescription released, or one the patient merely did not fill, is a final endpoint
    assert "92015" in _codes(KERATOCONUS.format(rx="New spec Rx given."))
    assert "92015" in _codes(KERATOCONUS.format(rx="Final Rx given; pt will not fill it until after CXL."))


def _visit(note: str, **overrides: object) -> str:
    exams = ("92002", "92004", "92012", "92014", "992")
    codes = [code for code in _codes(note, **overrides) if code.startswith(exams)]
    return codes[0] if codes else "none"


def test_a_dx_label_above_the_tests_of_a_testing_visit_does_not_make_them_an_assessment() -> None:
    note = (
        "Testing visit only (ordered at 2/10 exam). No exam today.\nDx: RA on HCQ 400 mg daily x 7 yrs.\n"
        "HVF 10-2 SITA-Fast OU: reliable, full both eyes.\nSD-OCT mac OU: EZ intact, no parafoveal thinning.\n"
        "A: HCQ use >5 yrs, no toxicity.\nP: results to rheum; annual."
    )
    codes = _codes(note)
    assert "92083" in codes and "92134" in codes and _visit(note) == "none"


def test_puncta_fitted_with_plugs_in_prose_bill_per_punctum() -> None:
    note = (
        "Dry eye both eyes not controlled on tears and cyclosporine. TBUT 5 s OU, inferior SPK OU.\n"
        "With topical anesthetic the right lower and then the left lower punctum were sized and each fitted with "
        "a silicone plug, well seated.\nAssessment: dry eye syndrome both eyes.\nPlan: plug check 4 weeks."
    )
    lines = {(line.code, tuple(line.modifiers)) for line in _suggest(note).lines}
    assert lines == {("68761", ("E4",)), ("68761", ("E2",))}


def test_a_visit_after_an_earlier_lens_fitting_that_finds_keratitis_is_a_new_problem() -> None:
    note = (
        "Dana returns ten days after her first soft contact lens fitting. For three days both eyes sting within an "
        "hour of lens insertion and look red by evening.\nVA 20/20 OD, 20/20 OS. After removal, diffuse fine SPK "
        "OU with NaFl, no infiltrate.\nAssessment: punctate keratitis both eyes, likely solution sensitivity.\n"
        "Plan: lenses out 3 days, PF tears qid, switch to peroxide system. Recheck 1 week."
    )
    codes = _codes(note)
    assert "92310" not in codes and _visit(note) == "92012"


def test_a_lens_row_that_says_refit_is_a_fitting() -> None:
    note = (
        "Annual exam + CL refit. Blurry distance in CLs.\nMRx: OD -3.25 -1.00 x 180 20/20, OS -3.00 -0.75 x 005 "
        "20/20. Pupils/CF/EOM nl. IOP 15/15.\nSLE: clear OU. DFE: C/D .3/.3, mac/periph nl OU.\n"
        "CL: refit Biofinity toric OD -3.00 -0.75 x 180, OS -2.75 -0.75 x 010, good rotation.\n"
        "A: myopia OU, regular astigmatism OU.\nP: toric CLs ordered, SRx released."
    )
    assert "92310" in _codes(note, payer_kind="vision", payer_name="VSP")


def test_what_a_refraction_only_achieved_is_not_a_refraction_only_visit() -> None:
    note = (
        "Over the last months her right eye ghosts even with glasses. Right eye 20/40 with glasses, and refraction "
        "only improves it to 20/30 with a scissoring reflex, so no new prescription was written. Left eye 20/20.\n"
        "Slit lamp: Vogt striae right cornea. Pachymetry today: 490 right, 530 left.\n"
        "Impression: keratoconus, right eye.\nPlan: topography next week, then discuss cross-linking."
    )
    assert _visit(note) == "92012"


def test_sentences_on_a_reviewed_label_line_all_count_as_data() -> None:
    note = (
        "CC: 4-month diabetic retinopathy check\nHPI: T2DM on metformin. No change in vision.\n"
        "Reviewed today: endocrinology note 2/17/2026 - metformin increased. HbA1c 7.2% (PCP lab report).\n"
        "Dilated exam: dot-blot hemes OU, no thickening OU.\n"
        "Impression: moderate nonproliferative diabetic retinopathy without macular edema, both eyes, unchanged.\n"
        "Plan: observe. RTC 4 months."
    )
    assert _visit(note) == "99213"


def test_wanting_to_go_ahead_with_referred_surgery_and_a_cataract_now_significant_is_moderate() -> None:
    note = (
        "Mr. Dahl is back for his cataract recheck. Oncoming headlights are worse and he stopped driving at night.\n"
        "BCVA 20/50 right, 20/30 left, down from 20/30 and 20/25. Slit lamp: 3+ NS right, 2+ NS left.\n"
        "Impression: age-related nuclear cataract both eyes, now visually significant on the right.\n"
        "Plan: discussed surgery and its risks. He wants to go ahead with the right eye. Referral to Dr. Okafor "
        "for phacoemulsification with lens implant, right eye."
    )
    assert _visit(note) == "99214"


def test_complaints_since_a_drug_was_started_that_change_the_drug_are_a_side_effect() -> None:
    note = (
        "Chief Complaint: Glaucoma follow-up\nHPI: POAG both eyes, mild. Brimonidine added to latanoprost.\n"
        "IOP 15/15. ONH C/D 0.5 OU, rims intact.\nImpression: POAG both eyes, mild stage - IOP at target.\n"
        "Plan: Pt reports dry mouth and fatigue since brimonidine started. Stop brimonidine; start dorzolamide "
        "TID OU. Continue latanoprost qhs OU. IOP check 4 weeks."
    )
    assert _visit(note) == "99214"


def test_a_routine_interval_check_or_an_annual_limited_on_request_is_not_comprehensive() -> None:
    found_new = (
        "He was due for his routine six-month macular degeneration check, but for a week lines look bent in the "
        "left eye.\nVA 20/30 OD, 20/60 OS. IOP 15/14. Dilated: OD intermediate drusen; OS subretinal blood.\n"
        "Macular OCT today: OS subretinal fluid.\nImpression: 1. Neovascular AMD left eye, active, new. "
        "2. Intermediate dry AMD right eye, stable.\nPlan: urgent referral to retina for anti-VEGF."
    )
    assert _visit(found_new) == "92012"
    limited = (
        'Mr. Ames was booked as his "annual," but he had a full exam elsewhere in March and asked us only to look '
        "at his macular degeneration. Takes AREDS2.\nVA 20/30 OD, 20/25 OS. IOP 16/16. Dilated: intermediate "
        "drusen both maculae, no fluid.\nImpression: intermediate dry macular degeneration, both eyes, stable.\n"
        "Plan: continue AREDS2 and Amsler grid. Return 6 months."
    )
    assert _visit(limited) == "99213"


def test_accommodative_esotropia_and_a_parent_reporting_the_history() -> None:
    note = (
        "Leo is 7 and comes with his father for a recheck of his accommodative esotropia. His father reports that "
        "he wears the glasses all day and the eye turns in only without them.\nVA cc 20/25 OD, 20/25 OS. "
        "Cover test cc: ortho distance and near.\nImpression: fully accommodative esotropia, controlled with "
        "glasses; hyperopia both eyes.\nPlan: continue full-time wear, no change today."
    )
    suggestion = _suggest(note)
    assert "H50.43" in {d.code for d in suggestion.diagnoses}
    assert _visit(note) == "99213"


def test_how_long_a_drug_has_been_used_is_not_a_new_symptom() -> None:
    note = (
        "Ms. Ruiz is seen for her four-month pressure check for ocular hypertension in both eyes, treated with "
        "latanoprost at bedtime since last July. No redness or irritation.\nIOP 18/19, down from 27/28. Optic "
        "nerves unchanged, cups 0.4.\nAssessment: ocular hypertension both eyes, stable at target on latanoprost.\n"
        "Plan: continue latanoprost nightly; return in four months."
    )
    assert _visit(note) == "99213"


def test_a_corneal_foreign_body_lifted_under_the_loupe_is_removed_without_the_slit_lamp() -> None:
    note = (
        "Grit blew into her left eye this morning. She cannot sit at the slit lamp, so she was examined in her "
        "chair with a penlight.\nSmall particle on the left cornea inferonasally. After proparacaine it was "
        "lifted off with a moistened swab under the loupe.\nAssessment: superficial foreign body, left cornea, "
        "removed.\nPlan: erythromycin ointment left eye bid x 3 days."
    )
    lines = {(line.code, tuple(line.modifiers)) for line in _suggest(note).lines}
    assert ("65220", ("LT",)) in lines and not any(code == "65222" for code, _ in lines)


def test_an_eye_called_normal_beside_the_item_is_not_its_eye() -> None:
    note = (
        "Glc ck. IOP 12 OD / 17 OS on latanoprost qhs OS.\nA:\n1) POAG OS, mild (OD nl): IOP 12 OD / 17 OS, "
        "target 18 OS.\nP: cont latanoprost qhs OS. RTC 4 mo."
    )
    codes = {d.code for d in _suggest(note).diagnoses}
    assert "H40.1121" in codes and "H40.1131" not in codes
