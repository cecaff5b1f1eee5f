"""Round-12 reading rules of the offline coder (session 11)."""

from agents.coding.offline import OfflineCoder
from agents.coding.sections import parse_note
from tests.support.coding_requests import coding_request, line_keys


def _suggest(note: str, **overrides: object) -> tuple[list[str], list[str]]:
    suggestion = OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))
    return [line.code for line in suggestion.lines], [d.code for d in suggestion.diagnoses]


PLUG_GRID = """Procedure: Punctal occlusion - collagen plugs
Dx: Keratoconjunctivitis sicca OU, non-Sjogren
Consent signed.
Puncta treated:
              Upper                     Lower
OD (right)    {ru}       {rl}
OS (left)     {lu}       {ll}
Complications: none.
Plan: RTC 3 wk."""


def test_a_plug_grid_with_an_eye_per_row_bills_each_checked_punctum() -> None:
    placed, empty = "[x] 0.3 mm collagen", "[ ] -              "
    note = PLUG_GRID.format(ru=placed, rl=placed, lu=empty, ll=placed)
    suggestion = OfflineCoder(opinion=None).suggest(coding_request(note))
    plugs = {modifiers for code, modifiers in line_keys(suggestion) if code == "68761"}
    assert plugs == {("E3",), ("E4",), ("E2",)}


def test_a_grid_of_plugs_placed_at_an_earlier_visit_bills_nothing() -> None:
    placed = "[x] silicone         "
    note = PLUG_GRID.format(ru=placed, rl=placed, lu=placed, ll=placed).replace(
        "Procedure: Punctal occlusion - collagen plugs",
        "Plug check: s/p silicone plugs 12/2025, all in place",
    )
    assert "68761" not in _suggest(note)[0]


def test_shorthand_periods_do_not_end_the_sentence_before_an_eye_or_a_lowercase_word() -> None:
    clauses = [
        parse_note(text).span(c).strip()
        for text in ("A: Glaucoma susp. OU, low risk.",)
        for c in parse_note(text).sentences
    ]
    assert clauses == ["Glaucoma susp. OU, low risk"]
    note = parse_note("DFE w/ scl dep. Mild PVD OS. No holes.")
    assert [note.span(c).strip() for c in note.sentences] == ["DFE w/ scl dep", "Mild PVD OS", "No holes"]


def test_a_suspect_with_its_risk_after_a_shorthand_period_is_coded_with_its_stage() -> None:
    note = (
        "CC: glaucoma suspect follow-up, no complaints.\nIOP 19/20. C/D 0.6 OU, rims healthy.\n"
        "OCT RNFL OU today: normal, stable.\nA: Glaucoma susp. OU, low risk.\nP: monitor, RTC 6 mo."
    )
    assert "H40.013" in _suggest(note)[1]


def test_scleral_depression_written_with_periods_with_a_drawing_is_extended_ophthalmoscopy() -> None:
    note = (
        "CC: flashes OS x2 days.\nDFE OU w/ scl. dep. 360: no holes or tears OU. PVD OS, Weiss ring. "
        "Retinal drawing done.\nA: PVD OS, acute.\nP: RD precautions, RTC 4 wk."
    )
    assert "92201" in _suggest(note)[0]


SECOND_REASON = """Glaucoma f/u, {second}.
VA 20/40 OD 20/20 OS. IOP 16/17 on timolol BID OU.
SLE: OD corneal abrasion 2mm central, stains w/ NaFl. OS clear.
C/D 0.6 OU stable.
A: 1. POAG OU moderate, stable. 2. Corneal abrasion OD.
P: cont timolol. Moxifloxacin QID OD x 5d. RTC 3 days for abrasion."""


def test_a_second_reason_after_a_bare_comma_makes_a_new_problem_visit() -> None:
    lines = _suggest(SECOND_REASON.format(second="blurry vision OD since yesterday"))[0]
    assert "92012" in lines and not any(code.startswith("992") for code in lines)


def test_a_bare_comma_before_the_known_problems_own_course_keeps_the_follow_up() -> None:
    note = (
        "Glaucoma f/u, blurry vision still x 3 wks.\nVA 20/30 OU. IOP 16/17 on timolol BID OU.\n"
        "SLE: mild NS OU. C/D 0.6 OU stable.\nA: 1. POAG OU moderate, stable. 2. NS cataract OU, early.\n"
        "P: cont timolol. RTC 3 mo."
    )
    lines = _suggest(note)[0]
    # two stable chronic illnesses on a prescription drop: an E/M follow-up, not a new-problem eye code
    assert "99214" in lines and "92012" not in lines


TOLD_AFTER = """She was on the schedule for a routine four-month pressure check for primary open angle glaucoma, mild stage in both eyes, treated with latanoprost at bedtime. {told}
Corrected acuity 20/20 right and 20/25 left. Pressures 16 right and 15 left, at her target. Anterior segments quiet. Both eyes were dilated. The left eye has a Weiss ring and a complete posterior vitreous detachment; the retina is attached. Discs cup 0.6 in both eyes, stable.
Assessment:
1. Acute posterior vitreous detachment, left eye, no retinal break.
2. Primary open angle glaucoma both eyes, mild stage, stable at target.
Plan: retinal detachment warning signs reviewed; return in 4 weeks. Continue latanoprost."""


def test_a_new_symptom_and_its_onset_told_after_the_follow_up_reason_makes_a_new_problem_visit() -> None:
    for told in (
        "At check-in she reported that since Friday she has seen a cobweb floater in the left eye.",
        "While here she asked about floaters in the left eye that appeared about two weeks ago.",
        "Since last week she has noticed flashes and a cobweb floater in the left eye.",
    ):
        lines = _suggest(TOLD_AFTER.format(told=told))[0]
        assert "92012" in lines and not any(code.startswith("992") for code in lines), told


def test_a_symptom_denied_or_the_known_problems_own_course_keeps_the_follow_up() -> None:
    for told in (
        "No flashes or floaters x 3 wk.",
        "The floaters in the left eye are fading since last week.",
    ):
        lines = _suggest(TOLD_AFTER.format(told=told).replace("Acute posterior", "Posterior"))[0]
        assert any(code.startswith("992") for code in lines), told


def test_glasses_beside_a_follow_up_are_no_new_problem() -> None:
    note = (
        'F/u acute PVD OS (dx 11/4). Floaters fading, no flashes x 3 wk, no curtain. Also wants MRx - "readers too'
        ' weak".\nVA sc 20/20 OD, 20/20 OS dist; near sc J5 OU.\nMRx: pl OU dist, add +2.25 -> J1 OU.\nIOP 13/14.\n'
        "DFE w/ SD OS: Weiss ring; 360 periphery attached, no breaks. OD: no PVD.\n"
        "A: PVD OS, resolving, no retinal break. Presbyopia.\nP: RD sx reviewed again; RTC prn. Near Rx +2.25 released."
    )
    lines = _suggest(note)[0]
    assert "99212" in lines and "92012" not in lines


def test_a_visit_label_and_a_new_complaint_on_the_chief_complaint_line_are_two_reasons() -> None:
    note = (
        "Visit: PCO recheck OD (6 months)\nChief Complaint: NEW - itchy, watery eyes both sides x 2 weeks.\n"
        "VA sc 20/30 OD, 20/20 OS.\nConj: 1+ papillae, chemosis OU. Cornea clear OU. PCIOL OU; 1+ central PCO OD.\n"
        "IOP 13/14.\nAssessment:\n1. Posterior capsule opacification, right eye - stable; observe\n"
        "2. Acute allergic conjunctivitis, both eyes\nPlan: Ketotifen OTC BID OU x 2 weeks. RTC 6 months."
    )
    lines = _suggest(note)[0]
    assert "92012" in lines and not any(code.startswith("992") for code in lines)


def test_a_steroid_pressure_rise_found_at_the_recheck_of_what_the_steroid_treats_is_a_new_problem() -> None:
    note = (
        "She returns as planned three weeks after we started loteprednol for allergic conjunctivitis in both eyes; "
        "the itching is much better.\nAcuity 20/20 in each eye. Applanation pressures 27 right and 17 left; three "
        "weeks ago 15 and 15. Few residual papillae, corneas clear. Discs 0.3 with healthy rims.\n"
        "Assessment: 1. Steroid-induced rise in intraocular pressure, right eye (steroid responder). 2. Allergic "
        "conjunctivitis, both eyes, improving.\nPlan: stop loteprednol. Begin olopatadine daily OU. Recheck in 2 weeks."
    )
    lines, diagnoses = _suggest(note)
    assert "H40.041" in diagnoses
    assert "92012" in lines and not any(code.startswith("992") for code in lines)


def test_the_plans_next_one_eye_dilation_does_not_undo_todays_dilation_of_both() -> None:
    note = (
        "Annual DM eye exam. T2DM on metformin. A1c 6.8.\nVA cc 20/20 OD, 20/25 OS. PERRL, no APD. CF full OU. "
        "EOM full.\nIOP 16/17.\nSLE: L/L nl, conj w/q, K clr, AC D&Q.\nDFE: OD Weiss ring, PVD, no breaks. OS vit "
        "clear. Mac flat OU, no DR OU.\nA: 1) T2DM w/o DR OU. 2) PVD OD, no retinal break.\n"
        "P: RD warning sx reviewed. Recheck DFE OD 4-6 wks. RTC 1 yr DFE."
    )
    assert "92014" in _suggest(note)[0]


def test_a_complete_exam_on_a_past_date_does_not_make_todays_problem_visit_comprehensive() -> None:
    note = (
        "Our records show a complete examination by Dr. Lee on April 18, 2023, so she is established.\n"
        "She reports a sudden cobweb floater in the left eye yesterday evening. Corrected acuity 20/20 right and 20/25"
        " left. Pupils normal. Pressures 15 and 16. After dilation of both eyes there is a complete posterior vitreous "
        "detachment in the left eye with no tear; the right eye is normal.\n"
        "Assessment: acute posterior vitreous detachment, left eye, without retinal break.\n"
        "Plan: warning signs reviewed; return in 4 weeks."
    )
    lines = _suggest(note)[0]
    assert "92012" in lines and "92014" not in lines


def test_no_dilation_today_listed_with_other_services_is_no_dilated_exam() -> None:
    note = (
        "Five-year-old boy back for his 3-month amblyopia check with his father, who gives the history.\n"
        "Acuity with glasses: right 20/25, left 20/40, up from 20/60. Cover test ortho with correction; stereo 100 "
        "seconds. Lids and anterior segments quiet; red reflexes symmetric. No refraction or dilation today.\n"
        "Assessment: anisometropic amblyopia of the left eye, improving in glasses; anisometropia.\n"
        "Plan: continue full-time glasses; add patching 2 hours a day; recheck in 8 weeks."
    )
    lines = _suggest(note, patient_age=5)[0]
    assert "92014" not in lines and any(code.startswith("992") for code in lines)


FB_PROPOSED = """Something hit her right eye while edging yesterday; scratchy and watery since.
VA 20/30 OD, 20/20 OS. SLE OD: vegetable FB in the superficial stroma at 8:00 with a small epithelial defect, Seidel neg.
{proposal}
Impression: corneal foreign body, right eye, not removed.
Plan: moxifloxacin QID OD; cornea clinic tomorrow 8 am."""


def test_a_removal_proposed_or_refused_is_not_billed() -> None:
    for proposal in (
        "I recommended removal at the slit lamp today under topical anesthetic. She declined.",
        "She declined in-office removal and asked for a corneal surgeon.",
    ):
        lines = _suggest(FB_PROPOSED.format(proposal=proposal))[0]
        assert "65222" not in lines and "92012" in lines, proposal
    done = "Removed at the slit lamp today with a 25g needle after proparacaine."
    assert "65222" in _suggest(FB_PROPOSED.format(proposal=done).replace(", not removed", ""))[0]


def test_a_history_obtained_from_the_son_named_before_is_an_independent_historian() -> None:
    note = (
        "Mrs. comes with her son, who manages her medications. She has moderate Alzheimer's disease, so the history "
        "is obtained from him. She is followed for a lamellar macular hole in the left eye, observed since 2024.\n"
        "Acuity 20/30 right and 20/60 left, unchanged. Pressures 13 and 14.\n"
        "Macular OCT today: lamellar hole in the left eye, edges unchanged.\n"
        "Assessment: lamellar macular hole, left eye, stable.\nPlan: continue observation. Return in 6 months."
    )
    assert "99213" in _suggest(note)[0]
    # the patient giving his own history is no independent historian
    own = note.replace(
        "Mrs. comes with her son, who manages her medications. She has moderate Alzheimer's disease",
        "Mr. comes alone",
    )
    assert "99212" in _suggest(own.replace("She is followed", "He is followed"))[0]


TEST_ONLY = """Testing visit only. Mrs. W, 66, with pigmentary glaucoma in both eyes, mild stage, on latanoprost, came in for the annual field and OCT. The technician performed both tests; {who}.
Humphrey 24-2 SITA Standard, both eyes: reliable; a few depressed points superonasal OS, unchanged.
OCT of the retinal nerve fiber layer, both eyes: average 84 right and 81 left, stable trend compared with last year.
Interpretation: pigmentary glaucoma both eyes, mild stage, stable; no change in treatment."""


def test_a_testing_visit_the_doctor_did_not_examine_bills_the_tests_only() -> None:
    lines, diagnoses = _suggest(TEST_ONLY.format(who="the doctor did not examine her today"))
    assert sorted(lines) == ["92083", "92133"]
    assert "H40.1331" in diagnoses


def test_a_result_compared_with_last_year_is_still_todays_test() -> None:
    note = (
        "Glaucoma f/u. POAG OU mild on latanoprost. IOP 15/16.\n"
        "OCT RNFL OU: average 84 / 81, stable compared with last year.\n"
        "A: POAG OU, mild, stable.\nP: continue latanoprost. RTC 4 mo."
    )
    assert "92133" in _suggest(note)[0]


def test_gsx_is_a_glaucoma_suspect() -> None:
    note = (
        'PROGRESS NOTE - 6 MO\nCC: "pressure check". Denies vision change. No gtts.\nVAcc OD 20/20 OS 20/20. '
        "Tapp 18/19.\nRNFL-OCT OU: done today, no sector loss.\nIMPRESSION: GSx OU, low risk, stable.\n"
        "PLAN: Cont obs. F/u 6 mo."
    )
    lines, diagnoses = _suggest(note)
    assert diagnoses == ["H40.013"] and "92133" in lines


RCE = """Walk-in: woke with sharp pain OD this AM. Hx abrasion OD 2 mo ago.
VA 20/40 OD 20/20 OS.
SLE OD: 2x3 mm epi defect, loose edges, microcysts. OS clear.
A: Recurrent corneal erosion OD.
{lens}
P: Moxi QID OD, Muro 128 ung qhs. RTC 1 wk."""


def test_a_bandage_lens_put_on_today_is_92071_on_its_eye_beside_the_exam_without_25() -> None:
    for lens in (
        "Bandage CL placed OD (Acuvue Oasys 8.4/14.0), good centration.",
        "A bandage soft contact lens (plano, 8.6 base curve, 14.2 diameter) was fitted on the right eye.",
    ):
        suggestion = OfflineCoder(opinion=None).suggest(coding_request(RCE.format(lens=lens)))
        assert line_keys(suggestion) == {("92012", ()), ("92071", ("RT",))}, lens


def test_a_bandage_lens_kept_in_considered_or_after_a_debridement_is_no_92071() -> None:
    for lens in (
        "Bandage CL placed last week, still in place and clean.",
        "Considered a bandage CL but will defer.",
        "Loose epithelium debrided with a cellulose sponge and a bandage contact lens was placed.",
    ):
        assert "92071" not in _suggest(RCE.format(lens=lens))[0], lens


def test_a_phone_note_before_the_visit_is_not_its_reason() -> None:
    note = (
        'PHONE NOTE 2/12/26 4:10p (tech JR): pt reports "more floaters" OD since this AM, no flashes, no curtain. '
        "Dr. advised work-in tomorrow AM.\n---\nOV 2/13/26. f/u PVD OD (dx 2/9/26). Floaters a bit more noticeable, "
        "otherwise same. No shadow/curtain.\nVA cc 20/20 OD, 20/20 OS. IOP 14/15.\n"
        "DFE OD: Weiss ring, no new heme, periph flat 360, no breaks. No change from 2/9.\n"
        "A: PVD OD, unchanged, no tear/RD.\nP: reassured. RD precautions reviewed again. Keep 4-wk appt."
    )
    lines = _suggest(note)[0]
    assert "99212" in lines and "92012" not in lines


def test_an_assessment_new_and_active_makes_a_new_problem_visit() -> None:
    note = (
        "Scheduled six-month AMD follow-up. Intermediate dry AMD OU on AREDS2.\nVA cc 20/50 OD, 20/30 OS. IOP 14/15.\n"
        "DFE: OD subfoveal gray-green lesion with heme; OS large drusen, no fluid.\n"
        "Assessment: neovascular age-related macular degeneration, right eye, new and active; intermediate dry AMD, "
        "left eye, unchanged.\nPlan: retina referral tomorrow for anti-VEGF. Continue AREDS2."
    )
    lines = _suggest(note)[0]
    assert "92012" in lines and not any(code.startswith("992") for code in lines)


PLUG_SITES = """Proc: temp (collagen 0.3 mm) punctal plug trial{scope} per plan 1/13.
Dx: DES OU on PFAT + Restasis, still sx.
Anesth: proparacaine, pledget.
LUL - placed. LLL - placed. RLL - placed. RUL - punctum stenotic, could not dilate safely -> NOT placed.
Tolerated well.
P: Cont Restasis + PFAT. RTC 4 wk."""


def test_plug_sites_placed_one_by_one_under_a_planned_procedure_are_billed_and_a_site_not_placed_is_not() -> (
    None
):
    for scope in (", all 4 puncta", ""):
        suggestion = OfflineCoder(opinion=None).suggest(coding_request(PLUG_SITES.format(scope=scope)))
        plugs = {modifiers for code, modifiers in line_keys(suggestion) if code == "68761"}
        assert plugs == {("E1",), ("E2",), ("E4",)}, scope


def test_a_procedure_planned_on_an_earlier_date_is_still_done_today() -> None:
    note = (
        "Proc: punctal plug RLL (planned 6/30).\nHx: s/p PRK OU 2019. Dry eye sx OD>OS. NaFl OD 2+ inf, OS tr.\n"
        "Silicone plug 0.5 mm RLL - 1st seat popped out, re-seated same plug, stable. OS no plug (sx mild).\n"
        "A: Dry eye syndrome OU, R>L.\nP: cont PFAT. RTC 1 mo."
    )
    suggestion = OfflineCoder(opinion=None).suggest(coding_request(note))
    assert ("68761", ("E4",)) in line_keys(suggestion)


def test_a_test_stopped_partway_with_no_usable_result_or_not_repeated_here_is_not_billed() -> None:
    note = (
        "Glaucoma suspect f/u. IOP 22/23. C/D 0.65 OU.\n"
        "A 24-2 threshold field was started but stopped partway through the right eye; no usable result.\n"
        "We did not repeat a macular OCT here since the retina service imaged him two weeks ago.\n"
        "A: Glaucoma suspect OU, high risk.\nP: repeat the field in 2 weeks."
    )
    lines = _suggest(note)[0]
    assert "92083" not in lines and "92134" not in lines and lines


def test_a_final_rx_promised_for_the_next_visit_does_not_bill_a_deferred_refraction() -> None:
    note = (
        "Exam Type: Routine vision\nCC: glasses broke, distance blurry.\nVA sc 20/80 OD 20/70 OS.\n"
        "Autorefraction -2.25 -0.75 x 005 / -2.00 -0.50 x 175.\nManifest Rx DEFERRED - dilated first, could not "
        "refine.\nIOP 17/16. Pupils PERRL. CF/EOM full. SLE wnl OU. DFE: C/D 0.35 OU, wnl.\n"
        "Assessment: Myopia with astigmatism OU. Ocular health normal.\n"
        "Plan: RTC 1-2 wks for manifest refraction and final spectacle Rx."
    )
    assert "92015" not in _suggest(note, payer_kind="medicaid")[0]
