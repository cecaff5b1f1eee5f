"""Misfires a review of the round-9 rules found (each ran on the coder before the mend)."""

from agents.coding.offline import OfflineCoder
from tests.agents.test_coding_rules8 import _visit
from tests.support.coding_requests import coding_request


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


def _codes(note: str, **overrides: object) -> list[str]:
    return [line.code for line in _suggest(note, **overrides).lines]


GLAUCOMA = (
    "POAG OU f/u on latanoprost.\nIOP 15/16.\n{test}\nA: POAG OU, mild, stable.\nP: continue latanoprost."
)


def test_a_negative_finding_at_the_end_of_a_tests_line_keeps_the_test() -> None:
    assert "92020" in _codes(GLAUCOMA.format(test="Gonioscopy OU: open to scleral spur 360, PAS: none"))
    assert "92134" in _codes(
        "AMD f/u.\nOCT macula OU: drusen OU, subretinal fluid: no\nA: dry AMD OU, intermediate.\nP: AREDS2."
    )


def test_elective_surgery_or_a_patients_choice_does_not_drop_a_service() -> None:
    biometry = "Pre-op.\nIOLMaster biometry OD for elective CE/IOL: AL 23.41 mm, K 43.5/44.2.\nA: nuclear cataract OD."
    assert "92136" in _codes(biometry)
    plugs = (
        "Dry eye OU, not controlled on tears. TBUT 5 s.\nA: dry eye syndrome OU.\nP: Discussed options; patient "
        "elected to proceed with punctal plugs today, collagen plugs inserted RLL and LLL."
    )
    assert _codes(plugs).count("68761") == 2
    asked = GLAUCOMA.format(test="OCT RNFL OU repeated today at patient's request: avg 92/90, no thinning.")
    assert "92133" in _codes(asked)


def test_taken_and_reviewed_still_respects_the_future_and_the_past() -> None:
    assert "92134" not in _codes(
        "AMD f/u.\nA: dry AMD OU.\nP: OCT macula will be performed and interpreted at the 4 month visit."
    )
    assert "92134" not in _codes(
        "AMD f/u.\nOCT macula from 1/2025 obtained and reviewed: ERM OS.\nA: ERM OS."
    )
    assert "92250" not in _codes(
        "Nevus f/u.\nDr. Patel's fundus photos taken and reviewed; lesion same size.\nA: choroidal nevus OD, stable."
    )


def test_a_field_pattern_is_not_a_date() -> None:
    assert "92083" in _codes(GLAUCOMA.format(test="HVF 24/2: reliable, stable superior arcuate defect OS."))


def test_no_imaging_today_leaves_a_visual_field_done_today() -> None:
    note = GLAUCOMA.format(test="No imaging today (OCT down for service).\nHVF 24-2 OU: reliable, full OD.")
    assert "92083" in _codes(note)


def test_a_sensorimotor_template_header_without_measurements_is_not_92060() -> None:
    note = (
        "Annual exam. VA cc 20/20 OU. Pupils PERRL. CF full.\nSensorimotor: CT ortho dist/near, EOM full OU, NPC to "
        "nose.\nIOP 14/15. SLE wnl. DFE: healthy OU.\nA: myopia OU.\nP: RTC 1 yr."
    )
    assert "92060" not in _codes(note)


def test_corneal_thickness_in_topography_or_exam_prose_is_not_pachymetry() -> None:
    topo = (
        "KCN f/u.\nPentacam topography OU today: Kmax 52.1 OD, corneal thickness map thinnest point inferior.\n"
        "A: keratoconus OD, stable."
    )
    assert "76514" not in _codes(topo)
    assert "76514" not in _codes(
        "Red eye.\nSLE WNL OU, corneal thickness appears normal, no edema.\nA: dry eye OU."
    )


def test_a_cycloplegic_autorefraction_is_not_a_refraction() -> None:
    note = (
        "Routine exam, age 7.\nVA sc 20/20 OU. Cover test ortho. EOM full. CF full.\nCyclo (1% x2): autorefraction "
        "OD +0.75 DS, OS +0.75 DS, no Rx needed.\nDFE: healthy OU.\nA: healthy eyes.\nP: RTC 1 yr."
    )
    assert "92015" not in _codes(note, patient_age=7, payer_kind="vision")


def test_pseudopapilledema_and_papilledema_beside_iih() -> None:
    pseudo = "A: pseudopapilledema OU from crowded small discs; no true disc edema.\nP: observe."
    assert [d.code for d in _suggest(pseudo).diagnoses] == ["H47.333"]
    iih = "A: papilledema OU, improving; IIH.\nP: continue acetazolamide per neurology."
    assert {d.code for d in _suggest(iih).diagnoses} == {"H47.11", "G93.2"}
    htn = "A: papilledema OU from raised intracranial pressure, improving; HTN controlled.\nP: neurology."
    assert {d.code for d in _suggest(htn).diagnoses} == {"H47.11", "I10"}


def test_a_full_exam_with_a_lens_fitting_keeps_its_exam_line() -> None:
    note = (
        "CC: {cc}\nVA cc 20/20 OU. Pupils PERRL. EOM full. CF full. IOP 14/15. SLE wnl. DFE: healthy OU.\n"
        "MRx OD -2.00 DS, OS -2.25 DS, 20/20; Rx given.\nCL fit: Acuvue Oasys -2.00 OD, -2.25 OS, centered, good "
        "movement.\nA: myopia OU.\nP: CL follow-up 1 wk."
    )
    assert _visit(note.format(cc="CL fit at her annual eye exam; wants contacts for sports.")) == "92014"
    assert (
        _visit(note.format(cc="wants to be fitted for contact lenses; 3 yrs since her last exam.")) == "92014"
    )


def test_an_image_the_patient_paid_for_is_not_billed_where_it_is_named_again() -> None:
    note = (
        "Pre-test: AR, NCT 14/15. Optomap: pt elected screening photo ($39, paid) - captured.\nDr: VA 20/20 OU. "
        "Dilated fundus: healthy OU; Optomap looked over with her, same.\nImpression: healthy eyes, myopia OU."
    )
    assert "92250" not in _codes(note)
    looked = (
        "AMD f/u.\nOCT macula OU: no SRF or IRF OD, drusen OS, looked over images with pt.\nA: dry AMD OU."
    )
    assert "92134" in _codes(looked)


def test_monocular_diplopia_from_a_cataract_is_not_coded_apart() -> None:
    note = "A: cortical cataract OD causing monocular diplopia; NS OS.\nP: cataract referral."
    assert "H53.2" not in {d.code for d in _suggest(note).diagnoses}
