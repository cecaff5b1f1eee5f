"""Round-5 reading rules of the offline coder: items only "noted", screening fields, a child's stereo work-up,
retinoscopy lines, and plan items that correct the assessment's picked code."""

from agents.coding.offline import OfflineCoder
from agents.coding.visit import _SENSORIMOTOR
from tests.support.coding_requests import coding_request, diagnosis_codes, line_codes


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


AMD_FOLLOW_UP = """Reason for visit: AMD follow-up, 6 months.
Interval history: Amsler unchanged OU. Taking AREDS2 BID.
Exam: VA cc 20/30 OD, 20/25 OS. IOP 14/15. Lens PCIOL OU. Macula: large soft drusen OU, no heme.
Tests today: OCT macula OU - drusen, no IRF/SRF OU.
Impression/Plan:
  1. Dry AMD both eyes, intermediate stage - stable. Continue AREDS2, daily Amsler.
  2. Pseudophakia OU - noted.
  3. Hypertension - noted, per PCP.
  RTC 6 months with OCT."""


def test_an_item_only_noted_is_not_coded() -> None:
    codes = diagnosis_codes(_suggest(AMD_FOLLOW_UP))
    assert "H35.3132" in codes
    assert "Z96.1" not in codes and "I10" not in codes


def test_a_noted_risk_factor_that_says_why_it_matters_is_still_coded() -> None:
    note = AMD_FOLLOW_UP.replace(
        "3. Hypertension - noted, per PCP.", "3. Hypertension - a risk factor, noted."
    )
    assert "I10" in diagnosis_codes(_suggest(note))


RETAIL = """PRE-TEST
  AR ........... OD -2.75 -0.75 x 175 | OS -3.00 -1.00 x 010
  NCT .......... OD 15 | OS 16
  Screening VF (FDT C-20) ... full OU
DR. NOTES
  Pupils PERRL. EOM full. CF full OU. SLE clear OU.
  DFE: C/D 0.3 OU, macula flat OU.
  Dx: Glaucoma suspect OU based on family history; C/D symmetric.
  Plan: RTC 1 yr with threshold fields."""


def test_a_screening_field_is_not_a_threshold_field() -> None:
    assert "92083" not in line_codes(_suggest(RETAIL))
    formal = RETAIL.replace("Screening VF (FDT C-20) ... full OU", "VF 24-2 SITA today: full OU")
    assert "92083" in line_codes(_suggest(formal))


CHILD = """NEW PATIENT - Pediatric exam. Reason: failed school vision screening.
  VA sc OD 20/50 | OS 20/50
  CT ortho dist/near   EOM full   Pupils PERRL   Stereo: Randot 40 sec arc
  SLE WNL OU
  Cyclo (1% cyclopentolate x2)
     Ret ....... OD +3.00 -1.50 x 180 | OS +2.75 -1.25 x 178
     Final Rx .. OD +2.25 -1.50 x 180 -> 20/20 | OS +2.00 -1.25 x 178 -> 20/20
  DFE: discs pink, C/D 0.2 OU, macula and periphery normal OU
  Dx: Hyperopia OU. Regular astigmatism OU.
  Plan: full-time glasses. RTC 6 mo."""


def test_a_childs_dilated_exam_with_stereo_and_retinoscopy_is_comprehensive_with_refraction() -> None:
    suggestion = _suggest(CHILD, history=[], patient_age=7, payer_kind="medicaid")
    codes = line_codes(suggestion)
    assert "92004" in codes and "92015" in codes
    assert _SENSORIMOTOR.search("Stereo: Randot 40 sec arc") and _SENSORIMOTOR.search("Titmus fly +")
    assert not _SENSORIMOTOR.search("stereotactic radiosurgery 2019")


PICKED = """CHIEF COMPLAINT:
Yearly glaucoma check.
ELEMENTS OF EXAM:
VA cc 20/25 OD, 20/20 OS. Pupils PERRL. CF full. EOM full. SLE quiet OU. IOP 15/14 (GAT).
DFE: C/D 0.75 OD with inferior thinning, 0.60 OS.
ASSESSMENT:
1. H40.1132 Primary open-angle glaucoma, bilateral, moderate stage
2. H25.13 Age-related nuclear cataract, bilateral
PLAN:
1. POAG - staging corrected after today's field: OD moderate, OS mild. Continue latanoprost qhs OU.
2. Cataract OU, not visually significant. Monitor.
RTC 4 months."""


def test_a_plan_item_that_restages_the_picked_code_is_what_gets_coded() -> None:
    codes = diagnosis_codes(_suggest(PICKED))
    assert {"H40.1112", "H40.1121", "H25.13"} <= codes
    assert "H40.1132" not in codes


def test_a_plan_item_that_only_manages_the_pick_leaves_the_pick() -> None:
    note = PICKED.replace(
        "1. POAG - staging corrected after today's field: OD moderate, OS mild.", "1. IOP at target."
    )
    codes = diagnosis_codes(_suggest(note))
    assert "H40.1132" in codes and "H40.1112" not in codes


def test_a_plan_item_that_corrects_the_eye_of_the_pick_wins() -> None:
    note = """CHIEF COMPLAINT: Right eye red, aching and light sensitive x 2 days.
EXAM: VA 20/30 OD, 20/20 OS. SLE: 2+ cell OD, OS quiet. IOP 12/14.
ASSESSMENT:
1. H20.013 Primary iridocyclitis, bilateral
PLAN:
1. Laterality correction: iritis is RIGHT EYE ONLY. Start prednisolone acetate qid OD."""
    codes = diagnosis_codes(_suggest(note))
    assert "H20.011" in codes and "H20.013" not in codes


def test_an_item_noted_for_a_later_visit_is_not_coded() -> None:
    note = AMD_FOLLOW_UP.replace(
        "3. Hypertension - noted, per PCP.", "3. MGD OU - noted; reassess at next visit."
    )
    assert not {"H02.88A", "H02.88B"} & diagnosis_codes(_suggest(note))


def test_a_doctors_notes_header_is_no_diabetic_retinopathy() -> None:
    note = """PROCEDURE VISIT - Punctal occlusion
PRE-TEST (tech: KM)
  VA sc ........ OD 20/25 | OS 20/30
  Schirmer I ... OD 4 mm | OS 5 mm
DR. NOTES
  SLE: 2+ inf SPK OU, K otherwise clear
  Procedure: silicone punctal plug inserted
     RUL [ ]   RLL [x]
     LUL [ ]   LLL [x]
  Dx: Dry eye syndrome, bilateral
  Plan: cont PF ATs. RTC 4-6 wk."""
    suggestion = _suggest(note)
    assert not any(code.startswith("E1") for code in diagnosis_codes(suggestion))
    assert {(line.code, tuple(line.modifiers)) for line in suggestion.lines} == {
        ("68761", ("E4",)),
        ("68761", ("E2",)),
    }


def test_a_story_told_in_the_first_person_still_yields_its_procedures_and_refraction() -> None:
    fb = """He felt something hit his left eye while grinding yesterday.
Vision was 20/20 in the right eye and 20/30 in the left eye.
At the slit lamp the left eye had a little dark metallic speck embedded in the cornea, with a rust ring.
I numbed the left eye with proparacaine, and at the slit lamp I lifted the speck out with a sterile needle and
then cleaned out the rust ring with the Alger brush. Moxifloxacin qid for five days."""
    suggestion = _suggest(fb)
    assert "T15.02XA" in diagnosis_codes(suggestion)
    assert ("65222", ("LT",)) in {(line.code, tuple(line.modifiers)) for line in suggestion.lines}

    plugs = """She came back for the plugs for her dry eye in both eyes. Tear breakup four seconds each eye.
I sized the lower puncta with the gauge and put a silicone plug in the right lower punctum and one in the left
lower punctum. Keep the Restasis twice a day."""
    modifiers = {tuple(line.modifiers) for line in _suggest(plugs).lines if line.code == "68761"}
    assert modifiers == {("E4",), ("E2",)}

    glasses = """Here for a glasses exam, no eye complaints. Vision with the old glasses was 20/30 each eye.
I did a full refraction and he's a little more farsighted than last time, with a small amount of astigmatism in
each eye; I wrote the new Rx. Pupils normal, fields full, motility full, pressures 15 and 16, lids and corneas
clear, lenses clear, and the dilated exam showed healthy nerves and maculas in each eye.
So healthy eyes, just hyperopia and astigmatism both eyes and a new prescription."""
    assert "92015" in line_codes(_suggest(glasses, payer_kind="medicare", patient_age=70))


def test_eye_movements_in_prose_complete_a_comprehensive_exam() -> None:
    note = """New patient referred after hypertension was diagnosed last week; no visual complaints.
We performed a complete examination. Acuity 20/20 each eye. Pupils equal and reactive, confrontation fields
full, and eye movements are full and comitant. Lids, corneas and lenses normal. Pressures 14 and 15.
After dilation, both eyes show arteriolar narrowing with AV nicking.
Assessment: hypertensive retinopathy of both eyes with essential hypertension. Letter to the internist."""
    assert "92004" in line_codes(_suggest(note, history=[]))


def test_a_tomographers_thinnest_pachymetry_is_part_of_its_topography() -> None:
    note = """Keratoconus follow-up. VA cc OD 20/40, OS 20/25. SLE: Fleischer ring and Vogt striae OD.
Topography (Pentacam) OU, done today: OD Kmax 54.6 D; thinnest pachymetry 462 um. OS Kmax 47.9 D.
ASSESSMENT:
1. Keratoconus right eye - progressing.
2. Keratoconus left eye - stable.
PLAN: refer OD for cross-linking."""
    codes = line_codes(_suggest(note))
    assert "92025" in codes and "76514" not in codes
    assert "76514" in line_codes(
        _suggest(note.replace("thinnest pachymetry 462 um", "ultrasound pachymetry 462 um"))
    )


def test_a_fit_of_one_eye_said_in_words_takes_52() -> None:
    note = """Reason for visit: routine exam; would like contact lenses.
Manifest refraction: right eye plano 20/20; left eye -3.25 DS 20/20. Final spectacle prescription given.
Contact lens fitting: the right eye needs no correction, so only the left eye was fitted.
Trial lens in the left eye: Acuvue Oasys -3.25, centered, good movement, 20/20.
Impression/Plan:
1. Myopia of the left eye with anisometropia. Single contact lens fitted on the left eye."""
    lines = {(line.code, tuple(line.modifiers)) for line in _suggest(note).lines}
    assert ("92310", ("52",)) in lines
    both = note.replace(
        "the right eye needs no correction, so only the left eye was fitted", "both eyes were fitted"
    )
    assert ("92310", ()) in {(line.code, tuple(line.modifiers)) for line in _suggest(both).lines}


RECHECK = """VISIT TYPE: Established patient - 2-day check after corneal foreign body removal
CHIEF COMPLAINT: Recheck right eye. Feels normal now.
HPI: Metallic corneal FB OD removed here 05/03/2026 with rust ring. Moxifloxacin course complete.
EXAM: VA 20/20 OU. Cornea OD: FB site healed, no staining. OS clear.
ASSESSMENT:
1. Corneal foreign body, right eye - healed.
PLAN: no treatment needed. RTC prn."""


def test_a_recheck_after_an_earlier_removal_is_a_subsequent_encounter_with_no_procedure() -> None:
    suggestion = _suggest(RECHECK)
    assert diagnosis_codes(suggestion) == {"T15.01XD"}
    assert "65222" not in line_codes(suggestion)
    today = RECHECK.replace(
        "removed here 05/03/2026 with rust ring", "still present; residual rust ring removed"
    )
    today = today.replace("right eye - healed.", "right eye, residual rust ring.")
    assert "T15.01XA" in diagnosis_codes(_suggest(today))


def test_a_condition_followed_by_the_pcp_and_only_noted_is_not_coded() -> None:
    note = AMD_FOLLOW_UP.replace(
        "3. Hypertension - noted, per PCP.", "3. Hypertension - noted, followed by her PCP."
    )
    assert "I10" not in diagnosis_codes(_suggest(note))


def test_a_refractions_values_give_its_diagnoses_when_the_note_names_none() -> None:
    from agents.coding.refraction import refractive_codes

    assert refractive_codes("right eye -1.50 -0.25 x 180, left eye -1.75 sphere, with a +1.25 add") == [
        "H52.13",
        "H52.4",
    ]
    assert refractive_codes("OD +1.75 -0.25 x 090 add +2.50, OS +1.50 DS add +2.50") == ["H52.03", "H52.4"]
    assert refractive_codes("OD -0.25 -0.50 x 100, OS -0.50 -0.75 x 075, add +2.50") == ["H52.223", "H52.4"]
    # plus-cylinder notation: -2.00 +0.50 x 090 is -1.50 -0.50 x 180
    assert refractive_codes("OD -2.00 +0.50 x 090, OS plano") == ["H52.11", "H52.221"]
    assert refractive_codes("OD -1.00 +0.50 x 090, OS plano") == ["H52.221"]
    assert refractive_codes("OD -3.75 -3.25 x 040, OS -2.00 -1.25 x 150", keratoconus=True) == ["H52.13"]
    assert refractive_codes("Retinoscopy: OD +1.50 (age-appropriate); OS aphakic +24.00 sph") == []
    assert refractive_codes("MRx plano OU, no improvement") == []


def test_a_billed_refraction_with_unnamed_refractive_error_keeps_its_line() -> None:
    note = """SUBJECTIVE: Diabetic eye exam requested by primary care. No visual complaints.
OBJECTIVE: VA cc 20/20 OD, 20/20 OS. Manifest refraction: right eye -1.50 -0.25 x 180, left eye -1.75 sphere,
with a +1.25 add; the final prescription was given. IOP 16/15. Pupils, motility and fields normal. SLE normal.
Dilated fundus exam: no diabetic retinopathy in either eye.
ASSESSMENT: 1. Type 1 diabetes mellitus without retinopathy.
PLAN: Annual dilated exam. Letter to primary care."""
    suggestion = _suggest(note)
    assert {"E10.9", "H52.13", "H52.4"} <= diagnosis_codes(suggestion)
    refraction = next(line for line in suggestion.lines if line.code == "92015")
    assert set(refraction.diagnosis_codes) <= {"H52.13", "H52.4"}
