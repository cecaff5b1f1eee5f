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


def test_no_testing_today_drops_results_that_do_not_say_today() -> None:
    note = (
        "IOP check. OHT OD, untreated. No testing today.\nMD: C/D 0.35 OU. Sept OCT RNFL reviewed - wnl OU; "
        "HVF full OU. Pachy 590 OD.\nA/P: OHT OD stable. RTC 6 mo w/ OCT RNFL."
    )
    codes = _codes(note)
    assert "92083" not in codes and "76514" not in codes
    assert "76514" in _codes(note.replace("No testing today.", "Pachymetry today."))
    # "no imaging" speaks of imaging: an OCT result goes, a field stays
    imaging = "IOP check. No imaging today.\nOCT RNFL: avg 90 OU.\nHVF 24-2: full OU.\nA/P: OHT OU stable."
    codes = _codes(imaging)
    assert "92133" not in codes and "92083" in codes


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


def test_foreign_bodies_in_both_eyes_bill_each_site_with_its_eye() -> None:
    note = """CC: metal in both eyes from grinding today. R eye worse.
VA sc OD 20/30 OS 20/20
PROCEDURE NOTE: proparacaine OU. OD cornea: 2 metallic FBs, superficial; removed w/ 25g needle at slit lamp.
OS: upper lid everted, 1 loose particle on superior tarsal conj, removed with moist cotton tip.
ASSESSMENT
- Foreign bodies, cornea, right eye (x2)
- Foreign body, conjunctival sac (superior tarsal), left eye
PLAN: erythromycin ung OD; RTC 2 days."""
    suggestion = _suggest(note)
    assert {(line.code, tuple(line.modifiers)) for line in suggestion.lines} == {
        ("65222", ("RT",)),
        ("65205", ("LT",)),
    }
    assert {d.code for d in suggestion.diagnoses} == {"T15.01XA", "T15.12XA"}


def test_a_follow_up_that_finds_a_new_problem_is_an_eye_exam_not_an_em() -> None:
    note = """PVD f/u OD, 4 wk. Floaters same. No curtain.
VA cc 20/20 OD, 20/20 OS. IOP 14/15.
DFE OU: OD Weiss ring; horseshoe tear at 11:00, no SRF. OS periphery flat.
A: 1. Horseshoe retinal tear w/o detachment OD - {status}. 2. PVD OD.
P: retina today for laser."""
    assert _visit(note.format(status="new")) == "92012"
    wet = (
        "Routine six-month macular degeneration check. Acuity 20/30 right, 20/60 left. Dilated: left macula with "
        "subretinal blood.\nAssessment: wet age-related macular degeneration of the left eye with active "
        "choroidal neovascularization, {status}. Dry AMD right eye, intermediate.\nPlan: retina tomorrow for "
        "injection. Continue AREDS2."
    )
    assert _visit(wet.format(status="new since October")) == "92012"


def test_a_fitting_visit_after_last_weeks_exam_bills_the_fitting_only() -> None:
    note = """CL fit, 1 wk after annual exam (5/5). OS wants a CL; OD plano, no lens needed.
MRx 5/5: OD pl, OS -3.50 -1.25 x 175 (20/20).
Trial OS: Biofinity toric -3.50 -1.25 x 180. Centered, 1 mm movement, stable. VA OS 20/20.
A: myopia w/ reg astig OS; anisometropia. Successful toric fit OS.
P: CL Rx OS only released. I&R training done."""
    lines = {
        (line.code, tuple(line.modifiers)) for line in _suggest(note, date_of_service="2026-05-12").lines
    }
    assert lines == {("92310", ("52",))}


def test_a_patient_back_to_be_fitted_with_a_lens_has_no_exam_line() -> None:
    note = (
        "Mr. Park returns to be fitted with a contact lens for his right eye only. At his exam three weeks ago "
        "his refraction was right -6.25 sphere. Trial lens Acuvue Oasys 8.4, -6.00, right eye: well centered with "
        "good movement, acuity 20/20. Insertion and removal training completed.\nAssessment: myopia of the right "
        "eye; anisometropia.\nPlan: one-week follow-up wearing the lens."
    )
    assert {(line.code, tuple(line.modifiers)) for line in _suggest(note).lines} == {("92310", ("52",))}


def test_photos_dated_the_day_of_service_are_billed() -> None:
    note = (
        "6 mo nevus recheck OD.\nVA cc 20/20 OU. IOP 15/16.\nFP OU {day}: OS lesion size unchanged vs 10/13/25.\n"
        "A: choroidal nevus OS, stable.\nP: observe; repeat FP 1 yr."
    )
    assert "92250" in _codes(note.format(day="3/10/26"), date_of_service="2026-03-10")
    assert "92250" not in _codes(note.format(day="1/13/26"), date_of_service="2026-03-10")


def test_photos_compared_with_a_set_from_a_month_are_todays() -> None:
    note = (
        "6 mo nevus recheck OD.\nFundus OD: flat gray choroidal nevus.\nPhotos OD/OS (Optos): nevus 2.1 x 1.9 DD, "
        "same as 8/2025 set, margins unchanged.\nA: choroidal nevus OD, stable.\nP: observe."
    )
    assert "92250" in _codes(note)


def test_a_cycloplegic_refraction_line_is_a_refraction() -> None:
    note = """New pt, 9 y/o F. Failed school vision screen.
VA sc 20/50 OD, 20/40 OS. Cover test ortho.
Cyclo (1% x2): OD -1.50 -0.75 x 180, OS -1.25 -0.50 x 175 -> 20/20 OU. Final SRx given.
DFE: disc 0.2 OU, mac/periph nl.
A: myopia OU, reg astig OU."""
    assert "92015" in _codes(note, patient_age=9, payer_kind="medicaid", history=[])


def test_photos_taken_and_reviewed_in_an_addendum_are_billed() -> None:
    note = (
        "Annual DM eye exam. T2DM.\nVA cc 20/25 OD, 20/25 OS. CF full. EOM full. IOP 16/17.\nDFE OU: dot-blot hemes "
        "OD and OS.\nA: mod NPDR w/o DME OU.\nP: letter to PCP. RTC 6 mo DFE.\n--\nAddendum: pt returned after "
        "lunch; fundus photos OU taken (Optos) and reviewed - confirm mod NPDR OU."
    )
    assert "92250" in _codes(note)


def test_a_field_stopped_with_no_results_saved_is_not_billed() -> None:
    note = (
        "Yearly hydroxychloroquine check. RA on HCQ 300 mg x 6 yrs.\nThe 10-2 visual field was started on the "
        "right eye, but she developed a migraine aura and the test was stopped; no results were saved.\n"
        "SD-OCT macula OU: intact EZ.\nImpression: long-term hydroxychloroquine, no toxicity.\nPlan: return next "
        "week for the 10-2 field."
    )
    codes = _codes(note)
    assert "92083" not in codes and "92134" in codes


def test_full_movements_and_alternate_cover_are_the_motility_element() -> None:
    note = (
        "Dear Dr. Brennan,\nI saw Ms. Wade today for double vision of five days. Corrected acuity 20/20 each eye. "
        "Pupils equal and reactive, confrontation fields full. She has a left abduction deficit with otherwise "
        "full movements. Prism and alternate cover: 14 PD esotropia in primary gaze, 25 in left gaze. Anterior "
        "segments healthy, pressures 16 each eye, dilated exam: sharp pink nerves.\nImpression: isolated left "
        "sixth nerve palsy of recent onset.\nSincerely,\nT. Lind, OD"
    )
    assert _visit(note, history=[]) == "92004"


def test_a_letter_about_a_fitting_visit_bills_no_exam() -> None:
    note = (
        "Dear Dr. Whitcombe,\nThank you for sending Jalen back to us. At his December examination topography "
        "confirmed keratoconus in both eyes.\nToday he came in for his initial rigid gas permeable contact lens "
        "fitting. With a 9.2 mm keratoconus design we achieved a three-point touch pattern in both eyes, and "
        "over-refraction gave 20/20 in each eye. He was trained in insertion and removal.\nImpression: keratoconus, "
        "stable, both eyes, fitted with rigid gas permeable lenses.\nSincerely,\nA. Roussel, OD"
    )
    assert _codes(note) == ["92072"]


def test_herpesviral_eye_disease_is_coded_by_its_virus() -> None:
    note = "Acuity 20/25 left. Dendrite left cornea.\nImpression: {dx}.\nPlan: valacyclovir 1 g tid."
    assert [
        d.code
        for d in _suggest(note.format(dx="herpes simplex epithelial keratitis of the left eye")).diagnoses
    ] == ["B00.52"]
    assert [
        d.code for d in _suggest(note.format(dx="herpes zoster ophthalmicus with keratitis, left")).diagnoses
    ] == ["B02.33"]
    assert [d.code for d in _suggest(note.format(dx="HSV anterior uveitis, left eye")).diagnoses] == [
        "B00.51"
    ]
    ruled_out = (
        "Assessment: adenoviral conjunctivitis OU. Herpes simplex keratitis was considered and ruled out."
    )
    assert "B00.52" not in {d.code for d in _suggest(ruled_out).diagnoses}


def test_an_item_marked_rule_out_after_a_dash_is_not_coded() -> None:
    note = "ASSESSMENT:\n1. Primary iridocyclitis, right eye\n2. Epiretinal membrane OD - r/o\nPLAN: prednisolone OD."
    assert [d.code for d in _suggest(note).diagnoses] == ["H20.011"]
    # the dash before a rule-out that names its own target leaves the item coded
    pvd = "A: PVD OD - r/o tear: none found on scleral depression.\nP: RD precautions."
    assert "H43.811" in {d.code for d in _suggest(pvd).diagnoses}


def test_a_letters_paragraph_per_problem_codes_each_problem() -> None:
    note = (
        "Dear Dr. Halvorsen,\nI saw Mrs. Coelho today for her six-month follow-up of two eye conditions.\n"
        "Ocular hypertension, right eye: she uses latanoprost at bedtime in the right eye. Pressures 17 and 16.\n"
        "Epiretinal membrane, left eye: the mild distortion she has noticed for two years is unchanged.\n"
        "Both conditions are stable. I renewed her latanoprost for the right eye."
    )
    suggestion = _suggest(note)
    assert {d.code for d in suggestion.diagnoses} == {"H40.051", "H35.372"}
    assert suggestion.lines[0].code == "99214"


def test_long_term_drug_therapy_stated_by_name_is_z79899() -> None:
    note = (
        "HCQ screening.\nSD-OCT mac OU: EZ intact.\nASSESSMENT:\n1. Z79.899 Other long term (current) drug therapy\n"
        "2. M32.9 Systemic lupus erythematosus, unspecified\n3. H35.383 Toxic maculopathy, bilateral - r/o\n"
        "PLAN: no evidence of toxicity."
    )
    assert [d.code for d in _suggest(note).diagnoses] == ["Z79.899", "M32.9"]


def test_no_refraction_today_in_a_fitting_visit_bills_no_refraction() -> None:
    note = """CONTACT LENS FITTING - NEW WEARER
Exam/Rx: see comprehensive exam 01/08/2026. No refraction today.
Keratometry OD 43.25 / 43.75, OS 43.50 / 44.25
Trial lenses OD Dailies Total1 -3.00, OS -3.50: centered, 0.5 mm movement. VA with CL 20/20 OU.
Assessment: Myopia OU - successful daily disposable soft CL fit OU."""
    assert _codes(note) == ["92310"]


def test_a_refraction_recheck_with_no_exam_repeated_has_no_exam_line() -> None:
    note = (
        "Refraction recheck only. New SRx from 5/5 exam blurry at distance. No exam repeated today.\n"
        "MRx: OD -1.75 DS 20/20, OS -1.50 -0.50 x088 20/20. Rx given.\nA: myopia OU, astig OS."
    )
    assert _codes(note, payer_kind="medicare") == ["92015"]


def test_a_bare_walk_in_label_leaves_the_reason_to_the_next_sentence() -> None:
    note = (
        "Walk-in. Woke up w/ red spot L eye this AM. No pain.\n(Glaucoma pt of Dr. Kim - last IOP ck 12/9.)\n"
        "VA cc 20/25 OU. Conj OS: flat sectoral heme. Cornea clr OU.\nA: subconj hemorrhage OS, spontaneous.\n"
        "P: reassured. RTC prn."
    )
    assert _visit(note) == "92012"


def test_a_scribe_line_leaves_the_reason_to_the_next_sentence() -> None:
    note = (
        "Scribe note for Dr. Ingrid Solheim, OD. Tobias, 24, has keratoconus in both eyes and is followed here every six "
        "months. He thinks the left eye has become blurrier.\nBest-corrected acuity 20/20 right, 20/40 left. "
        "Topography today: left Kmax up from 52.3 to 54.2 D.\nAssessment: keratoconus, left eye unstable with "
        "documented progression; right eye stable.\nPlan: referral for cross-linking of the left eye."
    )
    assert _visit(note).startswith("992")


def test_a_lapse_in_a_drug_since_yesterday_is_no_new_symptom() -> None:
    note = (
        "NEW PATIENT - PROBLEM VISIT\nCC: Out of latanoprost since yesterday. Here for refill + pressure check.\n"
        "HPI: POAG OU dx 2019 with her home optometrist.\nIOP 16/17. C/D 0.55 OD, 0.50 OS.\nDFE not performed.\n"
        "IMPRESSION: POAG OU, mild stage - stable, at target.\nPLAN: latanoprost qhs OU, Rx sent."
    )
    assert _visit(note, history=[]).startswith("9920")


def test_a_scheduled_check_named_after_a_title_is_a_follow_up() -> None:
    note = (
        "Mrs. Abernathy returns for her three-month pressure check. POAG OU on latanoprost; she also says reading "
        "has become harder.\nIOP 14/13. Nerves unchanged.\nAssessment: POAG OU, mild stage, at target, stable.\n"
        "Plan: continue latanoprost."
    )
    assert _visit(note) == "99213"


def test_a_patient_seen_days_ago_for_an_injury_is_a_follow_up() -> None:
    note = (
        "27-year-old woman seen two days ago, when I removed a metallic foreign body from the right cornea. On "
        "moxifloxacin. Feels almost normal.\nSlit lamp right eye: site re-epithelialised.\nAssessment: healing "
        "corneal foreign body injury RE after removal - progressing well.\nPlan: stop moxifloxacin today."
    )
    assert _visit(note).startswith("992")


def test_the_floaters_of_the_earlier_visit_do_not_make_a_new_problem() -> None:
    note = (
        "Mr. Castellano returns today six weeks after he was seen for new floaters in the left eye and diagnosed "
        "with a PVD. The floater is less noticeable.\nVA 20/30 OU. Dilated left eye: Weiss ring, retina flat.\n"
        "Impression: posterior vitreous detachment, left eye, stable. No treatment needed.\nPlan: RD precautions."
    )
    assert _visit(note) == "99212"


def test_a_caregiver_who_gave_the_history_is_an_independent_historian() -> None:
    note = (
        "Ms. D, 47, lives in a group home and came with her house manager, who gave most of the history. Type 2 "
        "diabetes on metformin.\nVA 20/40 OU. Dilated: scattered microaneurysms OU, no edema.\nAssessment: type 2 "
        "diabetes with mild nonproliferative diabetic retinopathy without macular edema, both eyes, unchanged.\n"
        "Plan: letter to PCP; recheck 6 months."
    )
    assert _visit(note) == "99213"


def test_a_new_diagnosis_in_the_assessment_makes_a_new_problem_visit() -> None:
    note = (
        "Visit type: Established - problem visit\nChief complaint: left eye blurrier over 3-4 months.\nVA cc OD "
        "20/20, OS 20/50.\nTopography today OS inferior steepening.\nAssessment:\n  A1. Keratoconus, left eye - new "
        "diagnosis; progression not yet established\nPlan: cornea referral."
    )
    assert _visit(note) == "92012"


def test_stated_total_time_raises_the_em_level() -> None:
    note = (
        "Glaucoma f/u, seen today instead of next month because of two days of aching left eye. POAG OU on "
        "latanoprost.\nIOP 17 / 38. Microcystic edema OS.\nAssessment: POAG left eye severe stage with an "
        "exacerbation; right eye mild, stable.\nPlan: add brimonidine OS. {time}"
    )
    assert _visit(note.format(time="")).startswith("992")
    assert _visit(note.format(time="Total time today 50 minutes, including the call.")) == "99215"
    assert _visit(note.format(time="I spent twenty-five minutes with him.")) == _visit(note.format(time=""))


def test_fixation_loss_fractions_are_not_dates() -> None:
    note = (
        "Chief Complaint: Annual glaucoma exam\nPre-test (tech):\n  HVF 24-2 SITA-Std    OD: MD -6.41 dB, FL 0/14, "
        "reliable    OS: MD -1.92 dB, FL 1/13, reliable\nExam: CF full, EOM full, IOP 17/15, DFE: C/D 0.8 OD.\n"
        "Impression: POAG OD moderate stage; POAG OS mild stage.\nPlan: continue drops."
    )
    assert "92083" in _codes(note)


def test_a_result_compared_with_a_dated_value_in_parentheses_is_todays() -> None:
    note = (
        "CHIEF COMPLAINT: keratoconus check\nTESTS\n  Topography (Pentacam)   OD: Kmax 55.8 D (06/2025: 54.3 D)\n"
        "  Pachymetry (US)   OD: thinnest 448 um (06/2025: 466 um)\nASSESSMENT\n1. Keratoconus OD - progressing"
    )
    codes = _codes(note)
    assert "92025" in codes and "76514" in codes


def test_a_final_rx_line_with_values_is_a_refraction() -> None:
    note = (
        "REASON FOR VISIT: Failed school vision screening\nRetinoscopy (cyclopentolate 1%)   +2.50 -1.00 x 180   "
        "+2.50 -1.00 x 005\nFinal Rx   +1.75 -1.00 x 180 -> 20/20   +1.75 -1.00 x 005 -> 20/20\nDFE healthy OU.\n"
        "ASSESSMENT\n1. Hyperopia OU\n2. Regular astigmatism OU"
    )
    assert "92015" in _codes(note, patient_age=9)


def test_a_corneal_scraping_for_culture_is_billed_with_its_eye() -> None:
    note = (
        "CL wearer, red painful OD x 2 d.\nSLE OD: central dense infiltrate w/ epi defect.\nProc: corneal scraping "
        "OD at SL after proparacaine for Gram stain + culture.\nA: Central corneal ulcer OD, CL related.\nP: "
        "Moxifloxacin q1h OD."
    )
    assert ("65430", ("RT",)) in {(line.code, tuple(line.modifiers)) for line in _suggest(note).lines}


def test_a_contact_lens_fit_at_an_earlier_visit_does_not_make_a_fitting_visit() -> None:
    note = (
        "She was last seen here in August 2022 for a contact lens fit. Today her right eye has been red and sore "
        "for two days.\nAcuity 20/25 right. Two small peripheral infiltrates OD.\nAssessment: contact lens related "
        "sterile peripheral infiltrates, right eye.\nPlan: no lens wear; tobramycin-dexamethasone qid OD."
    )
    assert _visit(note, history=[]) == "92002"


def test_a_discussion_with_an_outside_surgeon_written_d_w_is_moderate_data() -> None:
    note = (
        "KCN f/u w/ topo. OS blurrier.\nVA cc OD 20/25, OS 20/50.\nTopo today: OS Kmax 54.6 (52.8 9/25).\n"
        "A: KCN OD stable. KCN OS progressing.\nP: D/w Dr. Haddad (cornea) by phone today - agrees w/ CXL OS."
    )
    assert _visit(note) == "99214"


def test_a_fluid_recurrence_is_an_exacerbation_but_a_recurrent_erosion_is_a_name() -> None:
    wet = (
        "VISIT: Interim OCT check, wet AMD OS.\nOCT MACULA (TODAY): OS new SRF.\nASSESSMENT:\n1. Exudative AMD OS "
        "with active CNV - fluid recurrence at extended interval.\nPLAN: Discussed with Dr. Nakamura by phone; "
        "injection moved up."
    )
    assert _visit(wet) == "99214"
    erosion = (
        "RCE OD f/u 3 wk. On Muro 128 ung qhs OD.\nSLE OD: epi intact.\nA: recurrent corneal erosion OD - healed, "
        "improving.\nP: cont Muro 128 ung qhs OD."
    )
    assert _visit(erosion) == "99213"


def test_a_historian_and_two_outside_records_are_moderate_data() -> None:
    note = (
        "ENCOUNTER: Glaucoma follow-up (6 mo)\nHISTORIAN: Daughter. Pt cannot give a reliable history.\n"
        "RECORDS REVIEWED: memory care facility MAR and NP transfer note; brain MRI report (neurology): no lesion.\n"
        "IOP 13/12. C/D 0.7 OU unchanged.\nASSESSMENT: Normal-tension glaucoma OU, mild stage - stable.\n"
        "PLAN: Continue brimonidine TID OU; refill faxed."
    )
    assert _visit(note) == "99214"


def test_status_post_removal_on_the_day_of_the_removal_is_an_initial_encounter() -> None:
    note = (
        "CC: something in R eye since yesterday pm, grinding metal.\nSLE OD: metallic FB on K @ 4 o'clock w/ rust "
        "ring.\nProparacaine OD. FB removed @ SLE w/ 25g needle, rust ring removed w/ Alger brush.\nA: corneal FB OD, "
        "s/p removal\nP: moxifloxacin qid OD."
    )
    suggestion = _suggest(note)
    assert [d.code for d in suggestion.diagnoses] == ["T15.01XA"]
    assert ("65222", ("RT",)) in {(line.code, tuple(line.modifiers)) for line in suggestion.lines}


def test_exam_not_repeated_today_leaves_a_refraction_only_visit() -> None:
    note = (
        "Here for MRx only - refraction deferred at 3/10 IOP visit. Exam not repeated today.\nMRx OD -0.50 -1.00x085 "
        "20/20, OS -0.75 -0.75x100 20/20.\nA: myopic astig OU, presbyopia.\nP: SRx given."
    )
    assert _codes(note, payer_kind="medicare") == ["92015"]


def test_a_finding_unchanged_from_a_date_leaves_the_test_todays() -> None:
    note = (
        "4 mo IOP ck + OCT. POAG OU on latanoprost.\nIOP 15/16.\nOCT RNFL OU: avg 81/78 um, sup thinning OS unchanged "
        "from 6/25, GPA no progression\nA: POAG OU, mild stage, stable.\nP: cont latanoprost."
    )
    assert "92133" in _codes(note)


def test_a_recheck_after_we_removed_a_foreign_body_is_a_subsequent_encounter() -> None:
    note = (
        "Mr. D returns two days after we removed a small piece of bark from his right cornea. Much more "
        "comfortable on moxifloxacin.\nRight cornea: faint mark at the site, no staining.\nAssessment: corneal "
        "foreign body, right eye, removed; epithelium healed.\nPlan: stop the moxifloxacin."
    )
    suggestion = _suggest(note)
    assert [d.code for d in suggestion.diagnoses] == ["T15.01XD"]
    assert "65222" not in [line.code for line in suggestion.lines]


def test_the_onset_of_an_earlier_visits_problem_is_not_todays() -> None:
    note = (
        "Four weeks ago she had a sudden large floater in the left eye and was found to have a fresh PVD without a "
        "tear. She returns for the planned recheck. The floater is smaller.\nDilated: Weiss ring OS, retina flat.\n"
        "Assessment: posterior vitreous detachment, left eye, stable, no retinal break.\nPlan: no treatment."
    )
    assert _visit(note) == "99212"


def test_a_scribed_doctors_assessment_label_is_the_assessment() -> None:
    note = (
        "Scribed for Dr. Castellanos.\nMs. A returns for her dry eye. Burning is worse despite tears and compresses.\n"
        "TBUT 3 s OU, 2+ inferior staining.\nDr. Castellanos's assessment: dry eye syndrome of both eyes, worse "
        "despite maximal over-the-counter therapy.\nPlan: start Xiidra twice a day in both eyes, prescription sent.\n"
        "Cataracts were not re-addressed today."
    )
    suggestion = _suggest(note)
    assert suggestion.lines[0].code == "99214"
    assert {d.code for d in suggestion.diagnoses} == {"H04.123"}


def test_a_lens_line_with_its_rotation_or_a_trial_line_is_a_fitting() -> None:
    note = (
        "Annual + CL eval. Wants to try a toric OS.\nMRx OD -4.00 DS, OS -3.75 -1.00x170 -> 20/20 OU.\nCL: OD Oasys "
        "1-Day -3.75 (no change), OS trial Oasys 1-Day for Astig -3.50 -0.75x170, rot 5 deg nasal stable; VA 20/20 OU.\n"
        "DFE: C/D .3 OU.\nA: myopia OU, astig OS.\nP: final CL Rx OD sph / OS toric."
    )
    assert "92310" in _codes(note, payer_kind="vision", payer_name="EyeMed")
    trial = (
        "Annual exam and contact lens evaluation.\nMRx -3.75 -0.50 x 180 OD, -4.00 -0.75 x 175 OS, 20/20.\nTrial "
        "Dailies Total1 8.5/14.1, -3.75 right and -4.25 left: centered, good movement, 20/20 each eye.\nImpression: "
        "myopia with astigmatism both eyes; refit to daily disposables successful."
    )
    assert "92310" in _codes(trial)


def test_fusional_vergences_measured_with_a_prism_bar_are_a_sensorimotor_exam() -> None:
    note = (
        "Headaches reading. Cover test: ortho at distance, 12 prism diopter exophoria at near. Near point of "
        "convergence 14 cm. Positive fusional vergence at near with the prism bar: blur none, break 10, recovery 4.\n"
        "Assessment: Convergence insufficiency.\nPlan: vergence therapy."
    )
    assert "92060" in _codes(note, patient_age=11)


def test_dilated_no_hemorrhages_is_a_dilated_exam() -> None:
    note = (
        "Annual diabetic eye exam, type 2 diabetes on metformin.\nPupils normal, fields full, motility full. "
        "Pressures 17 and 16. Anterior segments clear.\nDilated: no hemorrhages, exudates or neovascularization in "
        "either eye; maculae flat.\nAssessment: type 2 diabetes without diabetic retinopathy either eye."
    )
    assert _visit(note) == "92014"
    assert _visit(note.replace("Dilated: no hemorrhages", "Dilated: no\nFundus: no hemorrhages")) != "92014"


def test_an_earlier_visits_dated_dilation_is_not_todays() -> None:
    note = (
        "Office Visit: IOP confirmation / glaucoma work-up\nIOP 27/26 by NCT at annual exam 5/26/26.\n"
        "IOP (GAT) 26 / 25. Gonioscopy open OU. C/D (DFE 5/26) 0.3 OD, 0.35 OS.\nAssessment: Ocular hypertension OU.\n"
        "Plan: start latanoprost qhs OU."
    )
    assert _visit(note, date_of_service="2026-06-09") == "92012"
