"""The offline coder on hand-written notes: negation, tests done today, staging, procedures, payers, input."""

from datetime import date

import pytest

from agents.coding.offline import OfflineCoder
from agents.coding.schemas import CodeSuggestion, CodingRequest, PriorVisit
from knowledge.codes.icd10 import icd10_billable
from tests.support.coding_requests import coding_request

GLAUCOMA_NOTE = """S: 70 y/o F, annual glaucoma exam. Latanoprost qhs OU. Denies flashes or floaters.
O: VA cc 20/25 OD, 20/20 OS. PERRL. CF full OU. EOM full. IOP 17/15.
SLE: quiet OU, 1+ NS OU.
DFE: C/D .8/.6, mac flat, periph intact.
{oct}
A: 1. POAG, right eye moderate stage, left eye mild stage.
P: cont latanoprost. RTC 4 mo."""


def _request(note: str, **overrides) -> CodingRequest:
    return coding_request(note, **{"patient_age": 70, "patient_sex": "F", **overrides})


def _lines(suggestion: CodeSuggestion) -> set[tuple[str, tuple[str, ...], int]]:
    return {(line.code, tuple(line.modifiers), line.units) for line in suggestion.lines}


def _dx(suggestion: CodeSuggestion) -> list[str]:
    return [d.code for d in suggestion.diagnoses]


def test_negated_symptoms_are_not_coded(coder: OfflineCoder) -> None:
    suggestion = coder.suggest(_request(GLAUCOMA_NOTE.format(oct="")))
    assert not [code for code in _dx(suggestion) if code.startswith("H43.")]


def test_stages_that_differ_get_one_code_per_eye(coder: OfflineCoder) -> None:
    codes = _dx(coder.suggest(_request(GLAUCOMA_NOTE.format(oct=""))))
    assert {"H40.1112", "H40.1121"} <= set(codes)
    assert not [code for code in codes if code.startswith("H40.113")]


def test_a_test_is_billed_only_when_done_today(coder: OfflineCoder) -> None:
    done = coder.suggest(_request(GLAUCOMA_NOTE.format(oct="OCT RNFL today: inferior thinning OD.")))
    not_done = coder.suggest(
        _request(GLAUCOMA_NOTE.format(oct="OCT RNFL not repeated today (machine down)."))
    )
    planned = coder.suggest(_request(GLAUCOMA_NOTE.format(oct="").replace("RTC 4 mo.", "OCT next visit.")))
    assert ("92133", (), 1) in _lines(done)
    assert "92133" not in {line.code for line in not_done.lines}
    assert "92133" not in {line.code for line in planned.lines}
    oct_line = next(line for line in done.lines if line.code == "92133")
    assert set(oct_line.diagnosis_codes) == {"H40.1112", "H40.1121"}


def test_comprehensive_exam_for_established_and_new_patients(coder: OfflineCoder) -> None:
    note = GLAUCOMA_NOTE.format(oct="")
    established = coder.suggest(_request(note))
    lapsed = coder.suggest(_request(note, history=[PriorVisit(date=date(2022, 3, 1), codes=["92014"])]))
    other_specialty = coder.suggest(
        _request(
            note, history=[PriorVisit(date=date(2025, 9, 1), codes=["99213"], specialty="ophthalmology")]
        )
    )
    assert "92014" in {line.code for line in established.lines}
    assert "92004" in {line.code for line in lapsed.lines}
    assert "92004" in {line.code for line in other_specialty.lines}


FB_NOTE = """CC: FB sensation OD since grinding yesterday.
VA sc 20/25 OD, 20/20 OS.
SLE OD: metallic FB paracentral cornea with rust ring. OS wnl.
Proc: proparacaine, FB removed with 25g needle at the slit lamp, rust ring removed with Alger brush.
A: corneal foreign body OD, removed.
P: moxifloxacin qid OD. RTC 2 days."""
FB_FOLLOW_UP = """Returns 3 days after removal of a corneal foreign body from the right eye. Feels normal.
VA 20/20 OU. Cornea: faint scar, epithelium healed, no infiltrate.
Assessment: healed corneal foreign body site, right eye; follow-up after removal.
Plan: return as needed."""


def test_foreign_body_takes_initial_then_subsequent_encounter(coder: OfflineCoder) -> None:
    removal = coder.suggest(_request(FB_NOTE))
    follow_up = coder.suggest(_request(FB_FOLLOW_UP))
    assert _dx(removal) == ["T15.01XA"]
    assert _lines(removal) == {("65222", ("RT",), 1)}
    assert _dx(follow_up) == ["T15.01XD"]
    assert "65222" not in {line.code for line in follow_up.lines}
    assert {line.code for line in follow_up.lines} <= {"99212", "99213"}


PLUG_NOTE = """Proc visit: punctal plugs. DES OU, failed PF AT qid + Restasis x 4 mo.
Silicone plugs inserted LLL + RLL without complication. Pt tolerated well.
P: cont AT. RTC 4 wks."""


def test_punctal_plugs_one_line_per_punctum_and_no_exam(coder: OfflineCoder) -> None:
    suggestion = coder.suggest(_request(PLUG_NOTE, payer_kind="medicare", payer_name="Medicare"))
    assert _lines(suggestion) == {("68761", ("E2",), 1), ("68761", ("E4",), 1)}
    assert _dx(suggestion) == ["H04.123"]
    assert all(line.diagnosis_codes == ["H04.123"] for line in suggestion.lines)


def test_separate_problem_on_a_procedure_day_takes_modifier_25(coder: OfflineCoder) -> None:
    note = PLUG_NOTE.replace(
        "Proc visit: punctal plugs.", "POAG OU f/u: latanoprost qhs OU, IOP 15/16."
    ).replace("P: cont AT.", "A: POAG OU mild, stable. Dry eye syndrome OU.\nP: cont latanoprost, AT.")
    suggestion = coder.suggest(_request(note))
    visit = next(line for line in suggestion.lines if line.code.startswith("992"))
    assert visit.modifiers == ["25"]
    assert visit.diagnosis_codes == ["H40.1131"]


REFRACTION_NOTE = """Annual exam, wants new glasses.
MRx OD -1.75 -0.50x090, OS -1.50 -0.75x080, add +2.50 -> 20/20 OU.
IOP 14/15. PERRL. CF/EOM nl. SLE clr. DFE: healthy OU.
A: nonexudative AMD OU, early stage. Myopic astig OU, presbyopia.
P: SRx. RTC 1 yr."""


def test_refraction_takes_gy_for_original_medicare_only(coder: OfflineCoder) -> None:
    medicare = coder.suggest(_request(REFRACTION_NOTE, payer_kind="medicare", payer_name="Medicare"))
    advantage = coder.suggest(
        _request(REFRACTION_NOTE, payer_kind="medicare_advantage", payer_name="Humana MA")
    )
    commercial = coder.suggest(_request(REFRACTION_NOTE))
    assert ("92015", ("GY",), 1) in _lines(medicare)
    assert ("92015", (), 1) in _lines(advantage)
    assert ("92015", (), 1) in _lines(commercial)
    refraction = next(line for line in medicare.lines if line.code == "92015")
    assert set(refraction.diagnosis_codes) == {"H52.13", "H52.223", "H52.4"}
    exam = next(line for line in medicare.lines if line.code == "92014")
    assert exam.modifiers == [] and exam.diagnosis_codes == ["H35.3131"]


ROUTINE_NOTE = """Routine exam. No complaints, wants new specs.
MRx OD -2.25 -0.50x180, OS -2.00 sph -> 20/20 OU.
IOP 15/16. PERRL, CF full, EOM full. SLE wnl OU. DFE: healthy OU.
A: myopia OU, regular astigmatism OD. Healthy eyes.
P: SRx. RTC 1 yr."""


@pytest.mark.parametrize(
    ("payer_name", "payer_kind", "expected"),
    [
        ("EyeMed", "vision", {("S0621", (), 1)}),
        ("VSP", "vision", {("92014", (), 1), ("92015", (), 1)}),
        ("Medicare", "medicare", {("92014", ("GY",), 1), ("92015", ("GY",), 1)}),
    ],
)
def test_routine_exam_follows_the_plan_convention(
    coder: OfflineCoder, payer_name: str, payer_kind: str, expected: set
) -> None:
    suggestion = coder.suggest(_request(ROUTINE_NOTE, payer_name=payer_name, payer_kind=payer_kind))
    assert _lines(suggestion) == expected
    assert _dx(suggestion) == ["Z01.01", "H52.13", "H52.221"]


def test_evidence_offsets_index_the_note_exactly(coder: OfflineCoder) -> None:
    for note in (GLAUCOMA_NOTE.format(oct="OCT RNFL today: thinning."), FB_NOTE, PLUG_NOTE, REFRACTION_NOTE):
        suggestion = coder.suggest(_request(note))
        spans = [e for d in suggestion.diagnoses for e in d.evidence] + [
            e for line in suggestion.lines for e in line.evidence
        ]
        assert spans
        assert all(note[e.start : e.end] == e.text for e in spans)
        assert all(d.evidence for d in suggestion.diagnoses)


def test_the_same_request_gives_the_same_answer(coder: OfflineCoder) -> None:
    request = _request(GLAUCOMA_NOTE.format(oct="OCT RNFL today: thinning."))
    first = coder.suggest(request).model_dump_json()
    assert all(OfflineCoder().suggest(request).model_dump_json() == first for _ in range(3))


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("", "NOTE_EMPTY"),
        ("   \n\t ", "NOTE_EMPTY"),
        ("A: POAG OU mild. " * 20_000, "NOTE_TOO_LONG"),
        ("\x00\x01\x02\xff\xfe" * 200, "NOTE_UNREADABLE"),
    ],
)
def test_unreadable_input_gives_an_empty_suggestion_with_a_finding(
    coder: OfflineCoder, note: str, finding: str
) -> None:
    suggestion = coder.suggest(_request(note))
    assert not suggestion.lines and not suggestion.diagnoses
    assert [f.code for f in suggestion.findings] == [finding]
    assert not suggestion.auto_draft


def test_codes_are_billable_and_confidence_is_calibrated(coder: OfflineCoder) -> None:
    suggestion = coder.suggest(_request(GLAUCOMA_NOTE.format(oct="OCT RNFL today: thinning.")))
    assert all(icd10_billable(d.code) for d in suggestion.diagnoses)
    assert all(0.0 <= d.confidence <= 1.0 for d in suggestion.diagnoses)
    assert suggestion.confidence == min(
        [d.confidence for d in suggestion.diagnoses] + [line.confidence for line in suggestion.lines]
    )
