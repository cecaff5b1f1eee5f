"""Round-13 reading rules of the offline coder (session 12: tune45 and tune46)."""

from datetime import date

import pytest

from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request


def _suggest(note: str, **overrides: object) -> tuple[list[str], list[str]]:
    suggestion = OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))
    return [line.code for line in suggestion.lines], [d.code for d in suggestion.diagnoses]


AMD_CHECK = """Established - AMD follow-up. AREDS2 BID. Amsler stable.
VA cc 20/40 OD, 20/30 OS. IOP 13/14.
Macula: drusen OU, no heme.
TESTING: {testing}
ASSESSMENT: Nonexudative AMD, intermediate stage, both eyes - stable.
PLAN: Continue AREDS2. {plan} Return 6 months."""


@pytest.mark.parametrize(
    ("testing", "plan"),
    [
        (
            "Macular OCT ordered - NOT performed; Cirrus down for service. Pt to return for OCT when repaired.",
            "",
        ),
        ("SD-OCT: NOT done - machine down; tech to call pt for OCT-only visit next wk.", ""),
        ("Read the other retina doctor's OCT: drusen OU, no fluid.", ""),
    ],
)
def test_an_oct_put_off_or_read_from_another_office_is_not_billed(testing: str, plan: str) -> None:
    assert "92134" not in _suggest(AMD_CHECK.format(testing=testing, plan=plan))[0]


def test_an_oct_done_today_is_still_billed() -> None:
    note = AMD_CHECK.format(testing="Macular OCT OU today: drusen, no fluid.", plan="")
    assert "92134" in _suggest(note)[0]


HCQ_FIELD = """Tech visit - HVF only. HCQ pt (SLE, 200 mg BID x 4 yr). Exam + OCT mac done {when}.
HVF 10-2 SITA-Fast OU today: reliable. OD full. OS full.
Interp: normal 10-2 OU, no HCQ toxicity pattern.
No exam today."""


def test_a_test_done_on_another_date_is_not_today_s() -> None:
    lines, diagnoses = _suggest(HCQ_FIELD.format(when="2/3"), date_of_service=date(2026, 3, 10))
    assert lines == ["92083"]
    assert "M32.9" in diagnoses  # "(SLE, ...)" after the drug: the lupus it treats


def test_a_test_done_today_in_the_same_words_is_billed() -> None:
    lines, _ = _suggest(HCQ_FIELD.format(when="today"), date_of_service=date(2026, 3, 10))
    assert "92134" in lines


def test_a_rule_out_of_a_secondary_syndrome_is_not_coded() -> None:
    note = """NP. Dry gritty eyes OU x 1 yr.
SLE: K 2+ inf SPK OU. TBUT 5/4 s.
A: Keratoconjunctivitis sicca OU, moderate. r/o secondary Sjogren's - letter to rheum for SSA/SSB.
P: start Restasis bid OU."""
    assert _suggest(note)[1] == ["H16.223"]


def test_no_change_and_no_progression_do_not_negate_the_condition_they_describe() -> None:
    note = """Tech visit - topo + pachy only. No doctor exam today.
Pentacam OU today: Kmax 50.6/53.1 D. US pachy central: 489/474 um.
A: OD no significant change: keratoconus, stable, right eye. OS no progression - keratoconus, {left}, left eye."""
    assert _suggest(note.format(left="stable"))[1] == ["H18.613"]
    assert sorted(_suggest(note.format(left="unstable"))[1]) == ["H18.611", "H18.622"]


def test_plugs_placed_at_an_earlier_visit_are_not_today_s() -> None:
    note = """Mrs. F returns three months after we placed temporary collagen plugs in her lower puncta; they have
long since dissolved. Comfortable without drops. I offered permanent plugs and she declined.
TBUT 9 s OU. No staining.
Impression: dry eye syndrome of both eyes, mild, quiet without treatment.
Plan: no treatment needed."""
    lines, _ = _suggest(note)
    assert "68761" not in lines and lines == ["99212"]


@pytest.mark.parametrize(
    ("assessment", "code"),
    [
        ("Contact lens-induced keratopathy OU (hypoxic, overwear).", "H18.823"),
        ("CL keratopathy OS, new.", "H18.822"),
    ],
)
def test_a_contact_lens_keratopathy_is_a_lens_corneal_disorder(assessment: str, code: str) -> None:
    note = f"""CC: red irritated eyes x 1 wk, sleeps in CLs.
SLE: diffuse SPK, limbal NV.
A: {assessment}
P: no CL wear x 2 wk, PF tears. RTC 2 wk."""
    assert code in _suggest(note)[1]


def test_a_conjunctival_sac_fb_is_coded_and_removed_beside_a_corneal_one() -> None:
    note = """CC: OS FB sens + OD gritty since cutting rebar 2 hrs ago.
SLE OS: 0.5 mm metallic FB 7:00 cornea, superficial.
SLE OD: K clr. Lower fornix: small grit particle on palpebral conj.
Proc: proparacaine OU. OS: FB lifted w/ 25g needle at SLP. OD: grit swept from lower fornix w/ moist cotton tip.
A: 1. corneal FB OS, removed 2. conj sac FB OD, removed
P: moxifloxacin qid OS x 5 d. RTC 2 d."""
    lines, diagnoses = _suggest(note)
    assert sorted(lines) == ["65205", "65222"]
    assert sorted(diagnoses) == ["T15.02XA", "T15.11XA"]


UVEITIS_RECHECK = """Follow-up for right anterior uveitis, started on prednisolone acetate 1% twelve days ago.
Acuity 20/20 right, 20/20 left. Right eye rare cell. Applanation pressure is 32 in the right eye and 15 in the left.
Impression: 1) acute anterior uveitis of the right eye, improving; 2) {second} intraocular pressure in the right eye \
from the topical steroid (steroid responder).
Plan: switch prednisolone to loteprednol; start timolol 0.5% twice daily in the right eye. Pressure check in one week."""


def test_a_new_steroid_pressure_rise_further_down_the_assessment_is_a_new_problem() -> None:
    assert _suggest(UVEITIS_RECHECK.format(second="new elevated"))[0] == ["92012"]
    assert _suggest(UVEITIS_RECHECK.format(second="elevated"))[0] != ["92012"]


@pytest.mark.parametrize(
    ("assessment", "code"),
    [
        ("Migraine w/ aura (typical homonymous visual aura), not intractable.", "G43.109"),
        ("Migraine with typical visual aura.", "G43.109"),
        ("Migraine without aura.", "G43.009"),
        ("Migraine.", "G43.909"),
    ],
)
def test_a_migraine_assessed_at_an_eye_visit_is_coded_by_its_aura(assessment: str, code: str) -> None:
    note = f"""CC: zig-zag shimmering lights this morning, then headache.
VA 20/20 OU. Pupils PERRL. DFE: discs sharp, no edema OU.
A: {assessment} Normal ocular exam.
P: HA diary. Letter to PCP."""
    assert _suggest(note)[1] == [code]


def test_a_migraine_long_past_is_history() -> None:
    note = """Called this morning: since Sunday a cobweb floater OS and a few flashes. \
She had migraines with zigzag lights in her 30s, none in twenty years.
VA 20/20 OU. DFE OS: Weiss ring, no tears; retina flat.
Posterior vitreous detachment in the left eye, no retinal tear. Recheck dilated in 4 weeks."""
    assert not any(code.startswith("G43") for code in _suggest(note)[1])


def test_paralytic_lagophthalmos_is_coded_per_lid_and_plugs_treat_it_without_an_exam() -> None:
    note = """Chief Complaint: Right eye burning - scheduled plug procedure
HPI: Right Bell's palsy in 2024; the right upper lid still does not close fully.
Lid closure OD: 2 mm lagophthalmos. Cornea OD: inferior SPK 3+.
Procedure: After proparacaine, silicone plugs placed in the right upper and right lower puncta.
Impression:
1. Exposure keratoconjunctivitis, right eye.
2. Paralytic lagophthalmos, right upper eyelid (residual of old Bell's palsy).
Plan: Continue tears and ointment OD. RTC 3-4 weeks."""
    lines, diagnoses = _suggest(note)
    assert sorted(lines) == ["68761", "68761"]
    assert "H02.231" in diagnoses


def test_a_routine_exam_medicare_does_not_cover_taken_as_self_pay_is_routine() -> None:
    note = """Chief Complaint: Routine eye exam - wants new glasses for reading
HPI: No eye complaints. \
Informed that Medicare does not cover a routine exam or refraction; elected to proceed self-pay.
MRx: OD +1.25 -0.50 x 090, OS +1.50 -0.75 x 085, add +2.50. VA cc 20/20 OU. IOP 15/15. Pupils PERRL. EOM full.
CVF full OU. SLE: lens 1+ NS OU. DFE: C/D 0.35 OU, macula and periphery normal.
Impression: 1. Hyperopia with astigmatism OU; presbyopia. 2. Early nuclear cataract OU, not visually significant.
Plan: New PAL Rx. RTC 1 year."""
    suggestion = OfflineCoder(opinion=None).suggest(
        coding_request(note, payer_kind="medicare", payer_name="Medicare")
    )
    exam = next(line for line in suggestion.lines if line.code == "92014")
    assert exam.modifiers == ["GY"]
    assert suggestion.diagnoses[0].code == "Z01.01"


def test_scleral_depression_without_a_drawing_is_not_extended_ophthalmoscopy() -> None:
    note = """Chief Complaint: PVD f/u OD
HPI: PVD OD dx 12/2025, no tear. Floater smaller.
Retina (DFE): flat, no breaks OU.
Scleral depression: [x] performed OD 360 - no breaks
Periphery drawing: {drawing}
Impression: PVD OD, stable, no retinal break.
Plan: RTC 6 wk / prn"""
    assert "92201" not in _suggest(note.format(drawing="[ ] done   [x] not done"))[0]
    assert "92201" in _suggest(note.format(drawing="done, see drawing OD"))[0]


def test_a_father_who_went_blind_from_glaucoma_is_family_history() -> None:
    note = """Technician visit for a threshold visual field only. Followed as a high-risk glaucoma suspect in both eyes
because of thin corneas and a father who went blind from glaucoma. No examination by the doctor today.
Humphrey 24-2 SITA Standard OU today: reliable, no glaucomatous defect.
Interpretation by Dr. Osei: normal fields in both eyes."""
    assert "Z83.511" in _suggest(note)[1]


def test_acute_hydrops_is_unstable_keratoconus_in_that_eye() -> None:
    note = """Keratoconus OU, worked in for sudden clouding of the left eye since yesterday.
Left cornea: dense central stromal edema with a break in Descemet membrane. Right cornea clear apart from the cone.
Ultrasound pachymetry today: right 452, left 812 microns.
Assessment: acute corneal hydrops of the left eye from keratoconus; keratoconus of the right eye stable.
Plan: sodium chloride 5% QID OS. Recheck in one week."""
    assert sorted(_suggest(note)[1]) == ["H18.611", "H18.622"]


def test_an_inline_assessment_after_a_sentence_heads_the_assessment() -> None:
    note = (
        "f/u POAG OU. latanoprost qhs OU, compliant. VA cc 20/20 OD 20/25 OS. IOP 15/16. C/D .55/.6, rims healthy. "
        "A: POAG OU mild stage, stable @ target. P: cont latanoprost qhs OU, RTC 4 mo."
    )
    assert _suggest(note) == (["99213"], ["H40.1131"])


def test_s_p_covers_the_operation_not_the_next_item_of_the_list() -> None:
    _, diagnoses = _suggest(
        "VA 20/20 OU. SLE clear.\nA: s/p LASIK OU, dry eye syndrome OU.\nP: Restasis BID OU."
    )
    assert diagnoses == ["H04.123"]
    _, treated = _suggest(
        "VA 20/20 OU.\nA: s/p YAG capsulotomy for posterior capsular opacification OD; myopia OU."
    )
    assert not any(code.startswith("H26.49") for code in treated)


def test_a_field_machine_being_serviced_is_no_field_today() -> None:
    note = """Glaucoma f/u. On latanoprost qhs OU.
IOP 17/17. OCT RNFL OU performed today: stable. HVF machine being serviced; pt to return for VF when repaired.
A: POAG OU, mild stage, stable.
P: Continue latanoprost qhs OU."""
    lines, _ = _suggest(note)
    assert "92133" in lines and "92083" not in lines


def test_a_problem_none_for_ten_years_in_numerals_is_history() -> None:
    note = """Floaters OS since Sunday.
VA 20/20 OU. DFE OS: Weiss ring, no tears.
A: Posterior vitreous detachment, left eye. Migraine with aura in her 30s, none for the last 10 years.
P: RD precautions. RTC 4 wk."""
    assert not any(code.startswith("G43") for code in _suggest(note)[1])


def test_a_steroid_rise_with_its_pressure_in_the_item_is_still_new() -> None:
    note = UVEITIS_RECHECK.format(second="new elevated").replace(
        "intraocular pressure in the right eye", "IOP OD 32"
    )
    assert _suggest(note)[0] == ["92012"]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("Cicatricial lagophthalmos", "H02.211"),
        ("Mechanical lagophthalmos", "H02.221"),
        ("Lagophthalmos", "H02.201"),
    ],
)
def test_lagophthalmos_is_coded_by_its_kind_per_lid(kind: str, code: str) -> None:
    note = f"""CC: right eye dry and sore on waking.
Lid closure OD: 2 mm lagophthalmos. Cornea OD: inferior SPK.
A: {kind}, right upper eyelid. Exposure keratopathy OD.
P: ointment qhs OD, tape lid. RTC 1 mo."""
    assert code in _suggest(note)[1]


def test_a_retinal_drawing_not_made_is_no_extended_ophthalmoscopy() -> None:
    note = """Chief Complaint: PVD f/u OS
Scleral depression OS 360: no breaks. Retinal drawing not made.
Impression: PVD OS, stable.
Plan: RTC 6 wk."""
    assert "92201" not in _suggest(note)[0]


def test_a_combined_cataract_named_at_length_is_the_combined_form() -> None:
    note = """Glare OD. Manifest refraction deferred. DFE: maculas flat.
Slit lamp: right eye 3+ NS with 2+ PSC; left eye 1+ NS.
Assessment: combined nuclear and posterior subcapsular age-related cataract, right eye, visually significant; early
age-related nuclear cataract, left eye.
Plan: referral for cataract surgery OD."""
    assert sorted(_suggest(note)[1]) == ["H25.12", "H25.811"]


def test_no_progression_to_a_worse_disease_rules_that_disease_out() -> None:
    note = """T2DM on metformin. VA 20/20 OU. DFE: scattered MAs and dot-blot hemes OU.
A: Moderate NPDR OU without macular edema, no progression to PDR.
P: RTC 6 mo."""
    assert sorted(_suggest(note)[1]) == ["E11.3393", "Z79.84"]


def test_lowercase_soap_headers_at_a_line_start_still_head_their_sections() -> None:
    note = "POAG f/u\nVA 20/20 OU. IOP 15/16.\na: POAG OU mild stage, stable.\np: cont latanoprost qhs OU"
    assert _suggest(note)[1] == ["H40.1131"]


def test_sle_in_parentheses_in_the_exam_is_the_slit_lamp() -> None:
    note = """HCQ for RA, 200 mg daily x 6 yr.
Exam (SLE, DFE): no bull's eye OU.
A: HCQ monitoring, RA, no toxicity.
P: annual screening."""
    assert "M32.9" not in _suggest(note)[1]


def test_a_risk_of_hydrops_is_no_hydrops() -> None:
    note = "Topography OU today.\nA: Keratoconus OU, stable. Discussed risk of hydrops.\nP: RTC 6 mo."
    assert _suggest(note)[1] == ["H18.613"]
