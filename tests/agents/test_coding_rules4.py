"""Round-4 reading rules of the offline coder: resolved and ruled-out findings, combined cataracts, glaucoma
suspect risk, tests declined in an addendum or left N/A, one-eye fits, acute visits, later routine exams,
pipe-table boxes, tabled dilation, side effects in plan bullets, the other eye's stage in the next clause, and
the unspecified-code calibration flag."""

import pytest

from agents.coding.confidence import diagnosis_features, unspecified_eye_code
from agents.coding.context import context_reader
from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request, diagnosis_codes, line_codes, line_keys


@pytest.mark.parametrize(
    ("text", "target", "affirmed"),
    [
        ("3. Lattice tear OS, s/p laser retinopexy 2019 - resolved", "tear", False),
        ("Retinal tear and detachment ruled out on depressed exam", "Retinal tear", False),
        ("PVD OS, tear ruled out", "PVD", True),
        ("ruled out retinal tear", "retinal tear", False),
        ("The old right lower lid stye has resolved", "stye", False),
        ("Chalazion LUL, the old stye has resolved", "Chalazion", True),
        ("Sjogren syndrome is not suspected at this time", "Sjogren syndrome", False),
        ("her internist is checking her for Sjogren syndrome", "Sjogren syndrome", False),
        ("Reviewed the warning signs of a retinal detachment", "retinal detachment", False),
        ("PVD OS - RD precautions given", "PVD", True),
        ("PVD OS - RD precautions given", "RD", False),
        ("Flashes: no", "Flashes", False),
        ("Acute PVD OS: no tear", "PVD", True),
        ("#1 DM2 with mild NPDR OD, ⊖ DME", "DME", False),
        ("adenoviral conjunctivitis is most likely given the cold", "adenoviral conjunctivitis", False),
    ],
)
def test_context_cues_of_round_four(text: str, target: str, affirmed: bool) -> None:
    start = text.index(target)
    (assertion,) = context_reader().assertions(text, [(start, start + len(target))])
    assert assertion.affirmed is affirmed


def test_cataract_named_then_typed_is_combined_and_unspecified_never_beside_a_type(
    coder: OfflineCoder,
) -> None:
    note = (
        "CC: glare at night.\nSLE: 2+ NS, 2+ cortical spokes OU.\n"
        "Assessment: 1. Age-related cataract, combined nuclear and cortical, both eyes - visually significant.\n"
        "Plan: refer for cataract evaluation."
    )
    assert diagnosis_codes(coder.suggest(coding_request(note))) == {"H25.813"}
    typed = (
        "A: 1. nuclear sclerotic cataract OU.\n2. cataract - discussed the cataract surgery consult later."
    )
    assert "H25.9" not in diagnosis_codes(coder.suggest(coding_request(f"CC: blur.\n{typed}")))


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ("Glaucoma suspect OU -- open angles with borderline findings, high risk (IOP 26/27)", "H40.023"),
        ("Glaucoma suspect both eyes based on cupping and family history, overall low risk", "H40.013"),
    ],
)
def test_glaucoma_suspect_risk_may_close_the_sentence(coder: OfflineCoder, item: str, code: str) -> None:
    note = f"CC: glaucoma eval.\nIOP 22/23. C/D 0.6/0.65.\nAssessment: {item}.\nPlan: RTC 6 mo."
    assert code in diagnosis_codes(coder.suggest(coding_request(note)))


def test_a_test_declined_in_a_later_addendum_is_not_billed(coder: OfflineCoder) -> None:
    base = (
        "CC: POAG check.\nIOP 19/18. ONH 0.7/0.6.\nOCT RNFL OU performed today: stable.\n"
        "Assessment: 1. POAG OU, moderate stage, stable.\nPlan: cont latanoprost. HVF 24-2 today.\n"
    )
    done = coder.suggest(coding_request(base))
    declined = coder.suggest(
        coding_request(base + "ADDENDUM 10:40: patient declined visual field today, no field obtained.")
    )
    assert "92083" in line_codes(done)
    assert "92083" not in line_codes(declined) and "92133" in line_codes(declined)


def test_na_cells_outside_tests_and_reviewed_tests_are_not_billed(coder: OfflineCoder) -> None:
    note = (
        "CC: dry AMD f/u.\nOCT macula: N/A\nFundus photos: N/A\n"
        "Testing today: the macular OCT from 11/2025 was reviewed, stable.\n"
        "Exam: drusen OU, no heme.\n"
        "Assessment: dry AMD OU, intermediate stage, stable, with a normal outside OCT today.\nPlan: AREDS2."
    )
    codes = line_codes(coder.suggest(coding_request(note)))
    assert not codes & {"92134", "92250"}


def test_a_one_eye_contact_lens_fit_reads_every_fitting_line(coder: OfflineCoder) -> None:
    note = (
        "Annual exam + CL fit\nMRx: OD plano 20/20, OS -3.75 DS 20/20. Spectacle Rx released.\n"
        "DFE OU: C/D .3/.3, maculae and periphery normal. CF full, EOM full, pupils PERRL, IOP 15/15.\n"
        "Assessment: 1. Myopia OS, anisometropia.\n- CL fit OS only today (daily soft lens)."
    )
    request = coding_request(note, payer_kind="vision", payer_name="VSP")
    assert ("92310", ("52",)) in line_keys(coder.suggest(request))


def test_a_symptom_onset_in_the_opening_makes_a_new_problem_visit(coder: OfflineCoder) -> None:
    note = (
        "Urgent same-day visit.\nTech: known dry AMD OU; straight lines wavy OS since Sunday. VA 20/30, 20/80.\n"
        "Dilated exam: OS new subretinal heme. OCT mac today: SRF OS.\n"
        "Assessment: 1. Exudative AMD, left eye, with active CNV - new conversion. Refer retina today.\n"
        "2. Nonexudative AMD, right eye, intermediate dry stage - stable."
    )
    codes = line_codes(coder.suggest(coding_request(note, payer_kind="medicare_advantage")))
    assert "92012" in codes and not any(code.startswith("992") for code in codes)


def test_a_routine_exam_booked_for_later_does_not_make_today_routine(coder: OfflineCoder) -> None:
    note = (
        "Red eye visit.\nTech: red watery left eye x 3 days. VA 20/20, 20/25.\n"
        "SLE: follicles OS, preauricular node, cornea clear.\n"
        "Assessment and plan: Viral conjunctivitis, left eye. Cool compresses. "
        "She will schedule her routine exam separately for the glasses question."
    )
    suggestion = coder.suggest(coding_request(note))
    assert "Z01.01" not in diagnosis_codes(suggestion) and "B30.9" in diagnosis_codes(suggestion)


def test_pipe_table_puncta_boxes_take_only_the_checked_ones(coder: OfflineCoder) -> None:
    note = (
        "PROCEDURE VISIT - punctal occlusion\nIndication: dry eye syndrome OU, moderate.\nPunctum plugged:\n"
        "| RUL [ ] | RLL [x] |\n| LUL [ ] | LLL [x] |\n"
        "Assessment: Dry eye syndrome of both eyes, moderate - plugs placed today.\nPlan: RTC 6 wks."
    )
    plugs = {
        modifiers for code, modifiers in line_keys(coder.suggest(coding_request(note))) if code == "68761"
    }
    assert plugs == {("E2",), ("E4",)}


def test_dfe_over_an_eye_table_is_a_dilation_of_both_eyes(coder: OfflineCoder) -> None:
    note = (
        "Annual comprehensive exam, keratoconus\nCC: annual KCN exam.\nVA 20/25, 20/50. Pupils PERRL.\n"
        "CF / EOM  FTFC OU / full\nSLE / DFE\nOD: K clear. OS: Vogt striae.\n"
        "IOP 13/12. DFE: C/D .3/.3, mac + periph WNL OU.\n"
        "Assessment: 1. Keratoconus OS - progressing. 2. Keratoconus OD - stable."
    )
    assert "92014" in line_codes(coder.suggest(coding_request(note)))


def test_a_side_effect_on_the_problem_line_with_a_stop_in_its_bullets_is_moderate(
    coder: OfflineCoder,
) -> None:
    note = (
        "Follow-up\nHPI: returns 10 weeks after starting doxycycline for MGD; nausea after doses.\n"
        "Exam: meibum turbid all 4 lids.\n"
        "A/P\n#1 MGD OU (upper + lower lids), partially improved - GI side effects from oral doxycycline\n"
        "   - d/c doxycycline\n   - start azithromycin 1% to lid margins qhs\n   - RTC 6 wks"
    )
    assert "99214" in line_codes(coder.suggest(coding_request(note)))


def test_the_other_eyes_stage_in_the_next_clause_gives_per_eye_codes(coder: OfflineCoder) -> None:
    note = (
        "6-mo AMD f/u. VA 20/40, 20/100.\nDFE OU: OD large drusen, OS central GA.\n"
        "A/P: Dry AMD - OD intermediate stage; OS advanced atrophic w/ subfoveal involvement. Cont AREDS2."
    )
    assert {"H35.3112", "H35.3124"} <= diagnosis_codes(coder.suggest(coding_request(note)))


def test_unspecified_eye_codes_are_open_in_the_calibration_features() -> None:
    assert unspecified_eye_code("H25.9") and unspecified_eye_code("H40.1130")
    assert not unspecified_eye_code("H40.1131") and not unspecified_eye_code("M32.9")
    loose = diagnosis_features("assessment", "explicit", "explicit", "cataract_x", "cataract", True, "H25.9")
    sharp = diagnosis_features("assessment", "explicit", "explicit", "cataract_x", "cataract", True, "H25.13")
    assert loose.open_condition and not sharp.open_condition
    assert loose.score() < sharp.score()


def test_a_picked_code_title_gives_way_to_the_doctors_words(coder: OfflineCoder) -> None:
    note = (
        "CC: glaucoma check.\nIOP 22/15.\nAssessment:\n"
        "  1. H40.1130 Primary open-angle glaucoma, bilateral, stage unspecified -- POAG OD severe, OS moderate.\n"
        "  2. H10.32 Unspecified acute conjunctivitis, left eye -- acute iritis OS; NOT conjunctivitis.\n"
        "  3. H52.4 Presbyopia\n"
    )
    found = diagnosis_codes(coder.suggest(coding_request(note)))
    assert {"H40.1113", "H40.1122", "H52.4"} <= found
    assert not found & {"H40.1130", "H10.32"}


def test_a_picked_title_with_only_a_status_after_it_still_counts(coder: OfflineCoder) -> None:
    note = (
        "CC: f/u.\nAssessment:\n 1. H40.1131 Primary open-angle glaucoma, bilateral, mild stage -- stable.\n"
    )
    assert "H40.1131" in diagnosis_codes(coder.suggest(coding_request(note)))


def test_be_means_both_eyes(coder: OfflineCoder) -> None:
    note = "Review 6/12.\nIOPs 16/17.\nImpression: POAG BE mild - stable, IOP at target. Dry eye BE - stable."
    assert {"H40.1131", "H04.123"} <= diagnosis_codes(coder.suggest(coding_request(note)))


def test_text_copied_from_an_earlier_visit_is_not_today(coder: OfflineCoder) -> None:
    note = (
        "Annual HCQ screening.\n\n"
        'Prior A/P (copied 03/12/2025): "1. HCQ for RA. OCT macula and HVF 10-2 today normal OU."\n\n'
        "PRIOR A/P (copied 07/2025)\n1. Pinguecula OD - AT prn.\n2. Topography today stable.\n\n"
        "EXAM                OD                 OS\nVA cc               20/25              20/25\n\n"
        "TESTS TODAY\n[x] OCT macula OU - normal, no toxicity.\n\n"
        "Assessment: 1. Long-term hydroxychloroquine for rheumatoid arthritis - no toxicity."
    )
    suggestion = coder.suggest(coding_request(note))
    assert "92134" in line_codes(suggestion)
    assert not line_codes(suggestion) & {"92083", "92025"}
    assert not any(code.startswith("H11.1") for code in diagnosis_codes(suggestion))


def test_graded_staining_beside_dry_eye_is_a_sign_and_a_bare_item_still_counts(coder: OfflineCoder) -> None:
    sign = "Indication: dry eye syndrome OU, moderate; 2+ inferior SPK OU despite tears.\nA: Dry eye OU - plugs placed."
    assert not any(
        code.startswith("H16.14")
        for code in diagnosis_codes(coder.suggest(coding_request(f"CC: dry.\n{sign}")))
    )
    item = "A: 1. Dry eye syndrome OU.\n2. Punctate keratitis, right eye."
    assert "H16.141" in diagnosis_codes(coder.suggest(coding_request(f"CC: burning.\nSLE: SPK OD.\n{item}")))


def test_a_removed_foreign_body_healing_is_a_subsequent_encounter(coder: OfflineCoder) -> None:
    note = (
        "CC: 2-day f/u corneal FB OD, removed here 06/09.\nSLE OD: small epi defect, healing.\n"
        "Assessment & Plan\n  1. s/p corneal FB removal OD, healing well, epithelium nearly closed. Continue moxifloxacin."
    )
    suggestion = coder.suggest(coding_request(note))
    assert "T15.01XD" in diagnosis_codes(suggestion) and "65222" not in line_codes(suggestion)


def test_plugs_x4_are_four_puncta(coder: OfflineCoder) -> None:
    note = "PROCEDURE: punctal plugs\nAssessment: 1. Dry eye syndrome OU - plugs x4 placed today."
    plugs = {
        modifiers for code, modifiers in line_keys(coder.suggest(coding_request(note))) if code == "68761"
    }
    assert plugs == {("E1",), ("E2",), ("E3",), ("E4",)}


def test_an_unfilled_placeholder_is_a_test_not_done(coder: OfflineCoder) -> None:
    note = "CC: POAG f/u.\nIOP 15/16.\nGonioscopy: [***]\nAssessment: POAG OU, mild stage, stable. Continue drops."
    assert "92020" not in line_codes(coder.suggest(coding_request(note)))


def test_a_doctors_title_is_not_diabetic_retinopathy_and_metric_acuity_is_not_a_date(
    coder: OfflineCoder,
) -> None:
    note = (
        "Gradual blur BE over the past year; not diabetic.\n"
        "Manifest refraction: RE +1.25 DS, LE +1.00 DS, add +2.50 BE, giving 6/12 RE and 6/9 LE. New Rx issued.\n"
        "Impression: age-related nuclear cataract BE, visually significant. Hypermetropia and presbyopia.\n"
        "Management: referred to Dr Lindqvist for cataract surgery."
    )
    suggestion = coder.suggest(coding_request(note, payer_kind="medicare", payer_name="Medicare"))
    assert not any(code.startswith(("E10", "E11")) for code in diagnosis_codes(suggestion))
    assert ("92015", ("GY",)) in line_keys(suggestion)


def test_a_stopped_or_someone_elses_diabetes_drug_is_no_control_code(coder: OfflineCoder) -> None:
    note = (
        "CC: annual diabetic eye exam.\nHPI: T2DM, was on metformin 2016-2023; stopped by PCP, now diet only. "
        "Her husband is on insulin and she helps with his pens.\nMEDS: amlodipine. (Metformin - discontinued 2023.)\n"
        "DFE OU: no retinopathy.\nASSESSMENT\n1. Type 2 diabetes mellitus without retinopathy OU, diet-controlled."
    )
    found = diagnosis_codes(coder.suggest(coding_request(note)))
    assert "E11.9" in found and not found & {"Z79.4", "Z79.84"}


def test_a_scribes_impression_sentence_is_the_assessment(coder: OfflineCoder) -> None:
    note = (
        "Pt is a 28 y/o F with T1DM here for her annual diabetic eye exam. Manifest refraction w/ final Rx: "
        "OD -2.50 sph, OS -2.75 sph; Rx released. DFE: no hemorrhages OU. Dr. Beaulieu's impression is type 1 "
        "diabetes without diabetic retinopathy in either eye, and myopia OU, together with presbyopia."
    )
    suggestion = coder.suggest(coding_request(note))
    assert {"E10.9", "H52.13", "H52.4"} <= diagnosis_codes(suggestion) and "92015" in line_codes(suggestion)


def test_the_eyes_of_a_denied_finding_are_not_the_retinopathys(coder: OfflineCoder) -> None:
    note = (
        "CC: diabetic eye exam. T2DM on diet only.\nImpression: type 2 diabetes with mild nonproliferative diabetic "
        "retinopathy of the right eye and moderate nonproliferative diabetic retinopathy of the left eye, without "
        "macular edema in either eye."
    )
    assert {"E11.3291", "E11.3392"} <= diagnosis_codes(coder.suggest(coding_request(note)))


def test_per_eye_blocks_read_their_eye_and_merge_the_same_stage(coder: OfflineCoder) -> None:
    note = (
        "CC: glare.\nASSESSMENT / PLAN\nOD: Age-related nuclear cataract, visually significant. Refer.\n"
        "OS: Age-related nuclear cataract, early. Monitor.\n"
        "OD: Type 2 diabetes with moderate nonproliferative diabetic retinopathy WITH macular edema.\n"
        "OS: Type 2 diabetes with mild nonproliferative diabetic retinopathy, no macular edema.\n"
        "OS: no PVD, retina flat."
    )
    found = diagnosis_codes(coder.suggest(coding_request(note)))
    assert {"H25.13", "E11.3311", "E11.3292"} <= found
    assert not found & {"H25.11", "H25.12"} and not any(code.startswith("H43.81") for code in found)


def test_symbol_notes_mark_what_was_and_was_not_done(coder: OfflineCoder) -> None:
    note = (
        "66F plug visit per plan\ndry eye OU: failed PFATs, cyclosporine\nconsent ✓ → silicone plugs → RLL ✓ LLL ✓; "
        "uppers ✗\nA: dry eye syndrome OU\nDATA: OCT RNFL 5/2025 reviewed\n→ next OCT RNFL + HVF 24-2 @ annual (✗ today)"
    )
    suggestion = coder.suggest(coding_request(note))
    plugs = {modifiers for code, modifiers in line_keys(suggestion) if code == "68761"}
    assert plugs == {("E2",), ("E4",)} and not line_codes(suggestion) & {"92083", "92133"}


def test_what_i_can_confirm_is_the_assessment(coder: OfflineCoder) -> None:
    note = (
        "Screening read his pressures as high. IOP 27/26. Pachymetry performed today: 598/604. C/D 0.3 OU.\n"
        "My thinking: I considered early glaucoma, but I do not believe he has glaucoma. What I can confirm is "
        "ocular hypertension in both eyes."
    )
    assert "H40.053" in diagnosis_codes(coder.suggest(coding_request(note, history=[])))


def test_a_crossed_out_dme_is_no_macular_edema(coder: OfflineCoder) -> None:
    note = "CC: diabetic exam.\nA/P\n#1 DM2 c̄ mild NPDR OD, ⊖ DME; OS ⊖ DR — on metformin"
    assert "E11.3291" in diagnosis_codes(coder.suggest(coding_request(note)))
