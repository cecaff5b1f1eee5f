"""Round-6 reading rules of the offline coder, found on the tune14 and tune15 rows (the dev set's own voices):
resolved problems, foreign bodies named before their site, the measured eye of second-eye biometry, a test's own
"was performed today", fitting visits and one-eye fits, exam elements not examined today, a drug not tolerated,
assessment items marked new, follow-up openings, plugs by punctum and non-neovascular AMD."""

from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request, diagnosis_codes, line_codes, line_keys


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


CATARACT = """Yearly exam. Glare with night driving, worse right eye. Had a serous macular detachment right eye
in 2020 that cleared without treatment.
MRx: OD +1.50 -0.50 x 165 20/40, OS +1.25 DS 20/25, add +2.50; new Rx given.
Pupils normal, CF full, EOM full, IOP 14/15. SLE: 3+ NS OD, cortical spokes OS.
DFE: maculae flat and dry OU, nerves healthy, periphery attached.
Assessment: nuclear cataract OD, visually significant. Cortical cataract OS. Hyperopia OU, presbyopia.
The old central serous episode has fully resolved.
Plan: cataract surgery referral OD."""


def test_a_problem_that_has_fully_resolved_is_not_coded() -> None:
    codes = diagnosis_codes(_suggest(CATARACT))
    assert "H25.11" in codes
    assert not any(code.startswith("H35.71") for code in codes)
    still = CATARACT.replace(
        "The old central serous episode has fully resolved.", "Central serous OD, active."
    )
    assert any(code.startswith("H35.71") for code in diagnosis_codes(_suggest(still)))


FB = """Grinding metal this morning without eye protection; right eye scratchy since.
VA 20/25 OD, 20/20 OS. SLE OD: two metallic particles in the cornea at 3 and 9 o'clock, faint rust ring.
Under proparacaine both particles were lifted out with a 25g needle and the ring cleared with an Alger brush.
Impression: 1. Metallic foreign bodies, right cornea, removed.
Plan: moxifloxacin qid OD x 5 days; recheck 2 days."""


def test_foreign_bodies_named_before_their_site_are_a_corneal_fb_with_its_removal() -> None:
    suggestion = _suggest(FB)
    assert "T15.01XA" in diagnosis_codes(suggestion)
    assert ("65222", ("RT",)) in line_keys(suggestion)


BIOMETRY = """Biometry visit, second eye. OD CE/PCIOL 01/2026 with outside surgeon, doing well.
IOLMaster OS today: AL 23.48, K1 43.25 / K2 44.00, ACD 3.10. IOL calculation OS reviewed and signed.
No exam today; surgeon did the pre-op evaluation.
A: Nuclear cataract OS, visually significant.
P: calculations sent to surgeon."""


def test_second_eye_biometry_takes_the_eye_being_measured_not_the_operated_eye_on_its_line() -> None:
    keys = line_keys(_suggest(BIOMETRY))
    assert ("92136", ("26", "LT")) in keys
    assert not any(code == "92136" and "RT" in modifiers for code, modifiers in keys)


KERATOCONUS_FIT = """This 29-year-old with keratoconus in both eyes returns for the lens fitting planned at his
exam last month; no examination was repeated today.
Corneal topography was performed today to design the lenses (it could not be done last month because the
instrument was down): inferior steepening unchanged, steepest K 51.8 right and 50.2 left.
Diagnostic RGP lenses were fitted on both eyes; over-refraction gives 20/20 each eye. Lenses ordered.
Assessment: keratoconus, stable, both eyes; initial keratoconus contact lens fitting.
Plan: dispense in 2 weeks."""


def test_a_fitting_visit_with_no_exam_repeated_bills_the_fit_and_the_topography_done_today() -> None:
    codes = line_codes(_suggest(KERATOCONUS_FIT))
    assert codes == {"92072", "92025"}


def test_a_test_said_not_done_today_stays_unbilled_even_with_its_own_verb() -> None:
    note = KERATOCONUS_FIT.replace(
        "Corneal topography was performed today", "No corneal topography was performed today"
    )
    assert "92025" not in line_codes(_suggest(note))


DRY_EYE = """Visit: dry eye follow-up
HPI: Dry eye OU on lifitegrast bid since January; burning on instillation and a bitter taste, now using it once
daily because of that. Symptoms partly better.
VA cc 20/20 OU. TBUT 6 s OU. NaFl 1+ inferior SPK OU. Lids clean.
Assessment: Dry eye syndrome OU, partly improved; not tolerating lifitegrast.
Plan: stop lifitegrast, start cyclosporine 0.09% bid OU, PF tears qid. RTC 8 weeks."""


def test_a_drug_not_tolerated_and_changed_makes_the_chronic_problem_moderate() -> None:
    assert "99214" in line_codes(_suggest(DRY_EYE, established=True))


CHALAZION = """This 70-year-old moved her glaucoma pressure check forward because of a painless lump in the left
upper lid that appeared about ten days ago. POAG OU, mild stage, on latanoprost qhs.
VA cc 20/25 OU. IOP 15/16. SLE: 5 mm firm nodule central left upper tarsus, no lash loss. Not dilated today.
Assessment: 1. Chalazion of the left upper eyelid, new. 2. POAG both eyes, mild stage, stable.
Plan: warm compresses qid x 3 weeks; continue latanoprost."""


def test_a_new_problem_in_a_patient_followed_for_another_takes_the_intermediate_exam() -> None:
    codes = line_codes(_suggest(CHALAZION, established=True))
    assert "92012" in codes and not any(code.startswith("992") for code in codes)


def test_a_new_defect_in_a_known_problem_is_still_its_follow_up() -> None:
    note = """Glaucoma follow-up, 4 months. On latanoprost qhs OU.
VA cc 20/25 OU. IOP 21/22. C/D 0.7 OU.
HVF 24-2 today: new inferior nasal step OD.
Assessment: POAG OU, moderate stage, new defect OD - progressing.
Plan: add timolol bid OU. RTC 6 weeks."""
    codes = line_codes(_suggest(note, established=True))
    assert any(code.startswith("992") for code in codes) and "92012" not in codes


NPDR_RECHECK = """DM2 eye f/u 6 mo. Metformin 500 mg bid. No vision c/o.
Focused visit: VA, IOP, dilated post pole only. No CF/EOM/pupil testing this visit.
VA cc 20/20 OD, 20/25 OS. IOP 14/15.
DFE (trop 1%): scattered MA and dot hems post pole OU, no CWS, no NVD/NVE.
OCT mac today: no IRF/SRF OU.
A: mild NPDR OU w/o DME, stable.
P: no ocular tx. Letter to PCP. RTC 6 mo for full dilated exam."""


def test_a_dilated_recheck_whose_fields_and_motility_were_not_tested_is_not_comprehensive() -> None:
    codes = line_codes(_suggest(NPDR_RECHECK, established=True, payer_kind="medicare"))
    assert "92014" not in codes
    assert "99212" in codes and "92134" in codes


POST_CATARACT = """This 72-year-old had cataract surgery on his left eye in August elsewhere and has been released
from postoperative care. His old glasses no longer balance: the left eye is clear, the right blurry at distance.
Manifest refraction: right -1.50 sphere to 20/30, left plano -0.75 x 090 to 20/20, add +2.50; new Rx given.
Pupils react normally, fields and movements are full, pressures 15 and 14. Right lens 2+ nuclear sclerosis; left
posterior chamber implant, clear capsule. Dilated exam: healthy nerves and maculae in both eyes, retinas flat.
Assessment: nuclear cataract, right eye; pseudophakia left eye; myopia right eye, astigmatism left eye; presbyopia.
Plan: new glasses; recheck the right cataract in 6 months."""


def test_fields_and_movements_full_with_a_dilated_exam_make_it_comprehensive() -> None:
    assert "92014" in line_codes(_suggest(POST_CATARACT, established=True))


KERATOCONUS_FOLLOW_UP = (
    "Twenty-four-year-old with keratoconus in both eyes returns for his six-month check in RGP lenses. "
    "Before examining him I reviewed the consultation note from the outside cornea specialist and that clinic's "
    "topography maps. Topography repeated here today: right unchanged, left Kmax up from 53.0 to 54.4 D. Acuity "
    "with lenses 20/20 right, 20/30 left. The cornea specialist has scheduled cross-linking of the left eye.\n"
    "Assessment: keratoconus, left eye, progressing; keratoconus, right eye, stable.\n"
    "Plan: keep the current lenses until cross-linking; return after the procedure."
)


def test_an_outside_note_and_its_maps_reviewed_are_two_items_of_data() -> None:
    codes = line_codes(_suggest(KERATOCONUS_FOLLOW_UP, established=True))
    assert "99213" in codes and "92025" in codes


ONE_EYE_FIT = """Yearly exam through VSP. Wants a contact lens for the left eye only; right eye near plano.
Manifest: right plano, left -4.25 -0.25 x 170, both 20/20, add +1.25. Final glasses Rx given.
Pupils, motility and confrontation fields normal, IOP 14/15, slit lamp clear, dilated fundus normal OU.
Fit the left eye with a daily disposable -4.00 sphere, good centration and movement, 20/20; right eye not fit.
Assessment: myopia of the left eye, anisometropia, presbyopia."""


def test_a_fit_of_one_eye_beside_the_other_eye_not_fit_takes_52() -> None:
    vsp = {"payer_kind": "vision", "payer_name": "VSP", "routine_exam_coding": "92004/92014 + 92015"}
    assert ("92310", ("52",)) in line_keys(_suggest(ONE_EYE_FIT, established=True, **vsp))


def test_a_lens_fit_heading_over_an_existing_lens_is_no_fitting() -> None:
    note = """Scleral lens wearer, keratoconus OU, here for a 6-month check.
Cornea: Vogt striae OS, clear OD.
Lens fit: sclerals OU ~200 um clearance, no impingement.
Assessment: keratoconus OU, stable. Plan: continue current lenses; RTC 6 months."""
    codes = line_codes(_suggest(note, established=True))
    assert not codes & {"92310", "92072"}


CHALAZION_NEW = """NP - last exam here 6/2022; seen by our MD 2/2025 for a stye OD.
CC: bump L upper lid x 3 wk. No vision change.
VA sc 20/20 OU. Ext: 5 mm firm nontender nodule LUL. SLE: K clr, AC d/q. IOP 14/14.
A: Chalazion LUL. {stye}
P: WC + lid massage qid x 3 wk; RTC 1 mo."""


def test_a_problem_said_to_be_resolved_after_it_is_named_is_not_coded() -> None:
    for stye in ("Prior stye OD resolved.", "Hordeolum OD in 2025, resolved."):
        codes = diagnosis_codes(_suggest(CHALAZION_NEW.format(stye=stye)))
        assert "H00.14" in codes
        assert not any(code.startswith("H00.01") for code in codes), stye
    codes = diagnosis_codes(_suggest(CHALAZION_NEW.format(stye="Stye OD, active.")))
    assert any(code.startswith("H00.01") for code in codes)


PLUGS = """Proc visit - punctal occlusion as planned. DES OU, failed tears and warm compresses.
TBUT 4s OD / 5s OS. Schirmer 4 / 5 mm. NaFl inferior SPK 2+ OU.
A: DES OU, aqueous deficient.
P: Silicone plugs placed in inferior punctum OD and inferior punctum OS at SLP, good seating. RTC 6 wk."""


def test_plugs_in_the_inferior_punctum_of_each_eye_are_e4_and_e2() -> None:
    keys = line_keys(_suggest(PLUGS, established=True))
    assert {("68761", ("E4",)), ("68761", ("E2",))} <= keys


def test_a_first_fit_of_one_eye_under_a_contact_lens_heading_takes_52() -> None:
    note = """EXAM: Annual routine + new contact lens fit
MANIFEST: OD plano 20/20; OS -3.25 DS 20/20. IOP 14/15. SLE clear OU. DFE normal OU.
CONTACT LENS (first fit, OS only)
OS: trial 8.6/14.2 -3.00, centered, 0.5 mm movement, 20/20. OD: no lens.
ASSESSMENT: Myopia OS. Anisometropia.
PLAN: Spectacle Rx and CL Rx released."""
    eyemed = {"payer_kind": "vision", "payer_name": "EyeMed", "routine_exam_coding": "S0620/S0621"}
    assert ("92310", ("52",)) in line_keys(_suggest(note, established=True, **eyemed))


GLAUCOMA_TEMPLATE = """VISIT TYPE: Glaucoma follow-up - 3 month IOP check
CC: none. Latanoprost qhs OU.
EXAM                    OD          OS
  VA cc                 20/25       20/25
  IOP                   15          16
  Pupils                [ ] not examined
  Confrontation         [copied forward from 05/14/2025] FTFC OU
  Motility              [copied forward from 05/14/2025] full OU
  SLE                   lids/conj wnl, K clear, AC deep/quiet
  Dilation              [ ] not dilated today
ASSESSMENT
  1. POAG OU, mild stage - IOP at target, stable
PLAN
  - Continue latanoprost qhs OU, refill sent
  - RTC 3 mo: annual dilated exam + HVF 24-2"""


def test_template_rows_left_empty_and_a_planned_dilated_exam_are_no_exam_today() -> None:
    codes = line_codes(_suggest(GLAUCOMA_TEMPLATE, established=True, payer_kind="medicare"))
    assert "92014" not in codes and "99213" in codes


def test_back_for_her_problem_is_its_follow_up() -> None:
    note = """Established patient, 58, back for her dry eye. Using PF tears qid; burning is worse by mid-morning.
VA cc 20/25 OU. TBUT 3 s OD, 4 s OS. Inferior punctate staining OU, worse than December.
Assessment: dry eye syndrome of both eyes, worsening despite tears; meibomian gland dysfunction of all four lids.
Plan: start cyclosporine 0.09% bid OU, prescription sent. Back in 3 months."""
    codes = line_codes(_suggest(note, established=True))
    assert "99214" in codes and "92012" not in codes


def test_non_neovascular_amd_is_the_dry_form() -> None:
    note = """Yearly complete exam. AREDS2 bid. VA cc 20/30 OD, 20/25 OS. IOP 14/13. CF full OU, EOM full.
SLE: PCIOL OU. DFE: many large soft drusen OD and OS, no fluid, no blood.
Assessment: non-neovascular AMD, both eyes, intermediate stage.
Plan: continue AREDS2, Amsler daily; RTC 6 months."""
    codes = diagnosis_codes(_suggest(note, established=True))
    assert "H35.3132" in codes
    assert not any(code.startswith("H35.32") for code in codes)


def test_a_problem_not_or_partially_resolved_is_still_coded() -> None:
    for status in ("not resolved", "partially resolved", "not yet resolved"):
        note = f"""Blepharitis follow-up. Lid scrubs bid. VA 20/20 OU. Lid margins: collarettes OU.
Assessment: Blepharitis OU, {status}.
Plan: continue lid scrubs; RTC 6 weeks."""
        codes = diagnosis_codes(_suggest(note, established=True))
        assert any(code.startswith("H01.00") for code in codes), status


def test_a_test_not_repeated_is_not_a_visit_without_an_exam() -> None:
    note = """Glaucoma follow-up. Latanoprost qhs OU. VA cc 20/25 OU. IOP 16/17.
Gonioscopy exam not repeated (open 360 in 2025). SLE: AC deep and quiet OU. C/D 0.6 OU.
A: POAG OU, mild stage, stable. P: continue latanoprost; RTC 4 months."""
    codes = line_codes(_suggest(note, established=True))
    assert any(code.startswith("992") for code in codes)


def test_no_testing_today_sets_aside_only_what_it_lists() -> None:
    note = """CC: diabetic eye evaluation, no complaints. Metformin.
VA cc 20/20 OU. Pupils PERRL, EOM full, CVF full OU, no OCT testing today. IOP 15/15.
SLE: clear OU. DFE: no diabetic retinopathy OU, maculae flat.
A: Type 2 diabetes without retinopathy. P: annual dilated exam."""
    assert "92014" in line_codes(_suggest(note, established=True))


def test_staining_in_one_eye_only_does_not_make_a_both_eye_fit_a_one_eye_fit() -> None:
    note = """New contact lens wearer. MRx OD -2.00 DS 20/20, OS -2.25 DS 20/20; glasses Rx released.
Contact lens fitting OU: trial lenses placed, good centration OU, mild 3-9 staining OS only.
A: myopia OU. P: CL Rx after 1 week follow-up."""
    keys = line_keys(_suggest(note, established=True))
    assert ("92310", ()) in keys
