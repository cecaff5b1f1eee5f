"""Round-7 reading rules of the offline coder, found on the tune16 rows and the older tuning residuals."""

from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


DICTATED_CATARACT = (
    "Sixty eight year old woman notes halos and glare at night for a year, worse on the right period. Manifest "
    "refraction colon right eye plus one sphere twenty forty comma left eye plus one twenty twenty five comma "
    "final prescription given period pupils round and reactive, fields full, motility full period pressures "
    "fifteen both eyes period slit lamp shows three plus nuclear sclerosis right eye and two plus nuclear "
    "sclerosis left eye, otherwise quiet period dilated fundus exam healthy both eyes period new paragraph "
    "assessment age related nuclear cataract both eyes, visually significant in the right eye and limiting her "
    "driving period hyperopia both eyes period plan referral for cataract surgery evaluation right eye period"
)


def test_a_bilateral_code_read_twice_is_posted_once_with_all_its_evidence() -> None:
    # the per-eye slit-lamp findings pair up into H25.13, which the impression also states outright
    suggestion = _suggest(DICTATED_CATARACT)
    codes = [d.code for d in suggestion.diagnoses]
    assert codes.count("H25.13") == 1, codes
    cataract = next(d for d in suggestion.diagnoses if d.code == "H25.13")
    assert len(cataract.evidence) >= 2


def _visit(note: str, **overrides: object) -> str:
    codes = [line.code for line in _suggest(note, **overrides).lines if line.code.startswith(("920", "992"))]
    return codes[0] if codes else "none"


CATARACT_CHECK = """6-mo cataract chk. Reads fine, mild glare at night, not bothersome.
VA cc 20/30 OD, 20/30 OS. SLE: 2+ NS OU, unchanged. IOP 15/15.
A: NS cataract OU, not visually significant.
P: monitor, no tx. RTC 6 mo."""


def test_a_chk_opening_is_a_follow_up_of_the_known_problem() -> None:
    assert _visit(CATARACT_CHECK) == "99212"
    assert _visit(CATARACT_CHECK.replace("6-mo cataract chk.", "Blurry vision x 2 wks.")) == "92012"


PVD_STORY = """Four weeks ago he came in with new floaters in the right eye and we found a posterior vitreous
detachment without a tear. The floater is fading and he has had no flashes since. No curtain.
Acuity 20/20 each eye. Pressures 15 and 14. Right eye dilated: Weiss ring, periphery flat 360 with depression.
Assessment: posterior vitreous detachment of the right eye, settling, no tear.
Plan: retinal detachment warning signs reviewed; return as needed."""

FB_STORY = """Two days ago I removed a metallic foreign body from her right cornea. She finished the drops and the
eye feels normal. Acuity 20/20 each eye. Right cornea: healed epithelium, faint haze, no rust, no stain.
Impression: corneal foreign body, right eye, healing well after removal.
Plan: no further drops; safety glasses; return as needed."""


def test_a_story_of_the_earlier_visit_opens_a_follow_up_not_a_new_problem() -> None:
    # "N weeks ago ... came in with new floaters", "N days ago I removed": the onset words belong to that visit
    assert _visit(PVD_STORY) == "99212"
    assert _visit(FB_STORY) == "99212"
    assert "T15.01XD" in {d.code for d in _suggest(FB_STORY).diagnoses}


DR_CHECK = """Chief Complaint: 6-month diabetic retinopathy check; new distortion left eye x 10 days
HPI: 41 y.o. male, type 1 diabetes on a pump.
VA cc 20/20 OD, 20/40 OS. IOP 15/16. SLE clear OU.
Fundus (DFE): OD few microaneurysms. OS dot-blot hemorrhages, exudates near the fovea, thickening.
OCT macula today: OS center-involving edema, CST 402.
Impression: Type 1 DM. OD mild nonproliferative diabetic retinopathy without macular edema. OS moderate
nonproliferative diabetic retinopathy with center-involving macular edema.
Plan: urgent retina referral for anti-VEGF."""


def test_the_whole_chief_complaint_line_names_a_new_symptom_after_the_scheduled_check() -> None:
    assert _visit(DR_CHECK) == "92012"
    scheduled_only = DR_CHECK.replace("; new distortion left eye x 10 days", "")
    assert _visit(scheduled_only) != "92012"


GLAUCOMA_LABEL = """VISIT TYPE: Glaucoma follow-up (moved up)
CC: Pt called - feels vision in both eyes "dimmer" over last month. Using all drops as directed.
Meds: latanoprost QHS OU; timolol BID OU.
VA cc 20/40 OD, 20/40 OS. IOP 30/29. Disc: 0.9 C/D OU, new splinter heme OD.
ASSESSMENT: POAG OU severe stage, uncontrolled on max meds with progression. Threat to remaining vision.
PLAN: acetazolamide started today; urgent trabeculectomy OD arranged with the glaucoma surgeon tomorrow."""


def test_a_visit_type_label_above_the_complaint_states_the_follow_up() -> None:
    assert _visit(GLAUCOMA_LABEL) == "99215"
    assert _visit(GLAUCOMA_LABEL.replace("Glaucoma follow-up (moved up)", "Office visit")) == "92012"


PLUG_CHECK = """Chief Complaint: 6-week follow-up after punctal plugs
HPI: Lower puncta plugged OU in May. Eyes much more comfortable; now using preservative-free tears twice a day.
VA cc 20/20 OU. Puncta: plugs in place OU. TBUT 9 s OU. Trace SPK OU.
Impression: Dry eye syndrome both eyes, improved and stable with plugs.
Plan: Continue tears as needed. RTC 6 months."""


def test_over_the_counter_tears_make_a_stable_chronic_follow_up_low_risk() -> None:
    assert _visit(PLUG_CHECK) == "99213"
    no_drops = PLUG_CHECK.replace("; now using preservative-free tears twice a day", "").replace(
        "Continue tears as needed. ", ""
    )
    assert _visit(no_drops) == "99212"


KCN = """KCN f/u. Specs blur OD again.
VA cc 20/40 OD (was 20/25), 20/25 OS. Pentacam today: OD Kmax 55.9 (54.0 prior), OS unchanged.
A: 1. Keratoconus OD - progressing. 2. Keratoconus OS - stable.
P: Spoke w/ Dr. cornea specialist by phone today - agrees OD needs CXL. RTC after CXL."""


def test_a_management_call_with_an_outside_specialist_is_moderate_data() -> None:
    assert _visit(KCN) == "99214"
    assert _visit(
        KCN.replace("Spoke w/ Dr. cornea specialist by phone today - agrees OD needs CXL.", "")
    ) == ("99212")


CHALAZION = """Chief Complaint: Recheck lump left upper lid
HPI: seen 3 weeks ago for chalazion LUL; warm compresses 4x/day. Not smaller.
Lids OS: 5 mm firm nodule central upper lid. Conj: mild injection over lesion.
Impression: Chalazion, left upper eyelid, not resolving with conservative treatment.
Plan: Patient elects incision and curettage - referred to oculoplastics. RTC prn."""


def test_a_decision_for_minor_surgery_is_low_risk() -> None:
    assert _visit(CHALAZION) == "99213"
    assert _visit(
        CHALAZION.replace("Patient elects incision and curettage - referred to oculoplastics.", "")
    ) == ("99212")


DRUG_ALLERGY = """f/u POAG OU, severe. gtts: latanoprost qhs OU, brimonidine tid OU (started 3 mo ago).
c/o red itchy eyes x 3 wks, worse after the drops.
VA cc 20/30 OU. IOP 15/16. SLE: 2+ inferior follicles OU. Undil ON: C/D .85 OU, stable.
A: 1. POAG OU severe, IOP at target. 2. follicular conj OU - brimonidine allergy.
P: d/c brimonidine, start dorzolamide tid OU. RTC 6 wks."""


def test_an_eye_drug_allergy_that_changes_the_treatment_is_a_side_effect_coded_also() -> None:
    suggestion = _suggest(DRUG_ALLERGY)
    assert _visit(DRUG_ALLERGY) == "99214"
    assert {"H40.1133", "H10.013", "T49.5X5A"} <= {d.code for d in suggestion.diagnoses}
    plain = DRUG_ALLERGY.replace(" - brimonidine allergy", "").replace("d/c brimonidine, start", "continue")
    assert "T49.5X5A" not in {d.code for d in _suggest(plain).diagnoses}


def _lines(note: str, **overrides: object) -> set[tuple[str, tuple[str, ...]]]:
    return {(line.code, tuple(line.modifiers)) for line in _suggest(note, **overrides).lines}


ANGLES = """Referral: PCP notes shallow chambers. Pt saw our ophthalmologist Oct 2024 for floaters.
VA cc 20/20 OU. Pupils equal, no APD. Conf fields full OU. Motility full.
IOP 18/19. Van Herick grade 1 OU. Gonioscopy: Shaffer 1 OU, no PAS.
DFE: C/D 0.3 OU, healthy. Mac/periph normal.
Assessment: Anatomical narrow angles, both eyes.
Plan: Refer for laser peripheral iridotomy OU."""


def test_the_month_oct_is_not_an_oct_scan() -> None:
    codes = {code for code, _ in _lines(ANGLES)}
    assert "92020" in codes
    assert not codes & {"92133", "92134"}
    assert {"92133"} <= {
        code for code, _ in _lines(ANGLES.replace("IOP 18/19.", "OCT RNFL today: normal. IOP 18/19."))
    }


ANNUAL_GLAUCOMA = """Chief Complaint: Annual glaucoma evaluation
HPI: POAG OU on latanoprost since 2022.
Prior testing on file: gonioscopy 02/2024 open 360 OU; pachymetry 2023 548/552.
VA cc 20/25 OU. IOP 16/17. Pupils round. CVF full. EOM full. SLE: 1+ NS OU.
C/D (DFE) 0.7 OU. Macula flat OU.
Testing today: OCT RNFL: inferior thinning OD, unchanged.
Impression: POAG OU, moderate stage, stable.
Plan: Continue latanoprost. RTC 4 mo."""


def test_tests_under_a_prior_testing_label_or_dated_by_a_year_are_not_billed() -> None:
    codes = {code for code, _ in _lines(ANNUAL_GLAUCOMA)}
    assert "92133" in codes
    assert not codes & {"92020", "76514"}
    today = ANNUAL_GLAUCOMA.replace(
        "Prior testing on file: gonioscopy 02/2024 open 360 OU; pachymetry 2023", "Pachymetry today:"
    )
    assert "76514" in {code for code, _ in _lines(today)}


FAIR = """NP. 52 y/o F sent by PCP - cupping on retinal photo at a work health fair. Mom has glaucoma.
MRx: OD -1.75 DS, OS -2.00 DS, 20/20 OU, SRx given. PERRL. CVF full OU. EOM full. IOP 21/22.
DFE: C/D .6/.65 OU, rims healthy. Mac flat. OCT RNFL today: normal OU.
A: 1. GL suspect OU, low risk. 2. Myopia OU.
P: HVF next visit."""


def test_an_outside_photo_is_not_billed_and_gl_suspect_with_a_family_history_is_coded() -> None:
    suggestion = _suggest(FAIR, history=[])
    codes = {line.code for line in suggestion.lines}
    assert {"92133", "92004"} <= codes and "92250" not in codes
    assert {"H40.013", "Z83.511"} <= {d.code for d in suggestion.diagnoses}


def test_a_father_blind_from_glaucoma_is_a_family_history() -> None:
    note = FAIR.replace("Mom has glaucoma.", "Her father went blind from glaucoma.")
    assert "Z83.511" in {d.code for d in _suggest(note, history=[]).diagnoses}


SCHOOL = """Chief Complaint: Failed school vision screening
HPI: 8 y.o. male, history from mother. Squints at the board.
VA sc 20/50 OU. Cyclo Rx (final) OD -1.25 -1.00 x 180, OS -1.00 -1.25 x 005, VA cc 20/20 OU.
Pupils/EOM normal. SLE normal. Fundus (DFE) normal.
Impression: 1. Myopia OU. 2. Regular astigmatism OU. 3. Exam following failed school screening.
Plan: glasses full time, Rx released."""


def test_a_final_cyclo_rx_is_a_refraction() -> None:
    codes = {code for code, _ in _lines(SCHOOL, payer_kind="vision", payer_name="VSP", patient_age=8)}
    assert "92015" in codes


PLUG_TABLE = """PROCEDURE NOTE
Indication: Dry eye syndrome OU, moderate. Failed tears and cyclosporine.
Pre-procedure: Pt scheduled for plugs. Consent signed.
Procedure:
  Puncta           Right lower        Left lower
  Plug             silicone 0.5 mm    silicone 0.5 mm
  Placement        good, flush        good, flush
Tolerated well.
Plan: continue cyclosporine. RTC 6 wks."""


def test_a_plug_procedure_table_bills_each_punctum_in_its_columns() -> None:
    assert _lines(PLUG_TABLE) == {("68761", ("E2",)), ("68761", ("E4",))}
    in_place = PLUG_TABLE.replace("  Placement        good, flush        good, flush\n", "")
    assert not {code for code, _ in _lines(in_place)} & {"68761"}


ONE_LENS = """Chief Complaint: Routine exam; wants a contact lens for the left eye only
MRx OD plano 20/20, OS -3.50 DS 20/20. IOP 15/14. Pupils/EOM/CVF normal. SLE normal. DFE normal OU.
CL fit           none               daily disposable sphere trialed: centered, good movement, VA 20/20
Impression: 1. Myopia, left eye. 2. Anisometropia. 3. New contact lens wearer - fit finalized.
Plan: Spectacle and CL Rx released."""


def test_a_lens_wanted_for_one_eye_only_is_a_one_eye_fit() -> None:
    lines = _lines(ONE_LENS, payer_kind="vision", payer_name="VSP")
    assert ("92310", ("52",)) in lines
    both = ONE_LENS.replace(" for the left eye only", " for both eyes").replace(
        "none               daily", "daily sphere OU   daily"
    )
    assert ("92310", ()) in _lines(both, payer_kind="vision", payer_name="VSP")


def test_per_eye_stages_split_by_commas_take_per_eye_codes() -> None:
    note = """Annual glaucoma exam. VA 20/25 OD, 20/20 OS. IOP 17/15. DFE: C/D 0.75 OD, 0.55 OS.
Impression:
1. POAG right eye, moderate stage; left eye, mild stage. IOP at target OU.
Plan: continue latanoprost."""
    codes = {d.code for d in _suggest(note).diagnoses}
    assert {"H40.1112", "H40.1121"} <= codes


def test_a_combined_cataract_in_one_eye_is_one_combined_code() -> None:
    note = """Glare at night, worse OD. VA 20/50 OD, 20/25 OS. SLE: 2+ NS and 2+ PSC OD, 2+ NS OS. DFE normal OU.
Impression:
1. Age-related cataract OD, combined nuclear and posterior subcapsular, visually significant.
2. Age-related nuclear cataract OS.
Plan: refer for phaco OD."""
    codes = {d.code for d in _suggest(note).diagnoses}
    assert {"H25.811", "H25.12"} <= codes
    assert not any(code.startswith("H25.04") for code in codes)


def test_a_condition_considered_and_not_present_is_not_coded() -> None:
    note = """Both eyes red and glued shut in the morning, 2 days. VA 20/20 OU.
Conj: diffuse injection, papillae, mucopurulent discharge OU. Cornea clear OU.
Impression:
1. Acute mucopurulent (presumed bacterial) conjunctivitis, both eyes.
2. Episcleritis considered - not present.
Plan: polymyxin B/trimethoprim QID OU."""
    codes = {d.code for d in _suggest(note).diagnoses}
    assert codes == {"H10.023"}


def test_insulin_taken_briefly_long_ago_is_not_a_current_drug() -> None:
    note = """Annual diabetic eye examination. Type 2 diabetes for eight years on weekly semaglutide and an
empagliflozin tablet. She was put on insulin briefly during a hospital stay in 2024 and has not used it since.
Acuity 20/20 OU. Pupils, fields and motility normal. Pressures 17/16. Dilated: no retinopathy OU.
Assessment: type 2 diabetes without diabetic retinopathy in either eye.
Plan: dilated exam in one year."""
    codes = {d.code for d in _suggest(note).diagnoses}
    assert {"E11.9", "Z79.84", "Z79.85"} <= codes
    assert "Z79.4" not in codes
