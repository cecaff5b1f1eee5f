"""The pieces behind the item page: evidence segments of a note, and a typed edit read into a Coding."""

import pytest

from api.web.edit_form import EditedCharge, EditedLine, EditProblem
from api.web.editing import coding_from_edit, pointer_letters
from api.web.evidence import EvidenceSpan, highlight_segments

NOTE = "IOP 17 OD. OCT RNFL today. Assessment: glaucoma OU."


def test_segments_rebuild_the_note_and_tag_overlaps_with_every_code() -> None:
    oct_at = NOTE.index("OCT RNFL")
    evidence = {
        "92133": [EvidenceSpan(start=oct_at, end=oct_at + 8, text="OCT RNFL")],
        "92012": [EvidenceSpan(start=oct_at + 4, end=oct_at + 14, text=NOTE[oct_at + 4 : oct_at + 14])],
        # Offsets that do not match the text are found again by the text itself.
        "H40.1131": [EvidenceSpan(start=0, end=3, text="glaucoma OU")],
        "H04.123": [EvidenceSpan(start=500, end=510, text="not in the note")],
    }
    segments = highlight_segments(NOTE, evidence)
    assert "".join(segment.text for segment in segments) == NOTE
    tagged = {segment.text: segment.codes for segment in segments if segment.codes}
    assert tagged == {
        "OCT ": ["92133"],
        "RNFL": ["92012", "92133"],
        " today": ["92012"],
        "glaucoma OU": ["H40.1131"],
    }


def test_an_edit_reads_slot_letters_numbers_and_modifiers_and_drops_blank_lines() -> None:
    edit = EditedCharge(
        diagnoses=["h401131", "", "H04.123"],
        lines=[
            EditedLine(code="92012", modifiers="", units="1", pointers="a c"),
            EditedLine(code="92133", modifiers="rt, 59", units="2", pointers="1"),
            EditedLine(code="", modifiers="LT", units="1", pointers="A"),
        ],
    )
    coding = coding_from_edit(edit)
    assert coding.diagnosis_codes == ["H40.1131", "H04.123"]
    assert [(line.code, line.modifiers, line.units, line.diagnosis_codes) for line in coding.lines] == [
        ("92012", [], 1, ["H40.1131", "H04.123"]),
        ("92133", ["RT", "59"], 2, ["H40.1131"]),
    ]
    assert pointer_letters(coding.diagnosis_codes, ["H04.123", "H40.1131"]) == "B A"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (EditedLine(code="92012", pointers="B"), "points to B, which holds no diagnosis"),
        (EditedLine(code="92012", pointers="Z9"), "not a diagnosis letter"),
        (EditedLine(code="92012", units="0", pointers="A"), "units must be a whole number"),
        (EditedLine(code="92012", modifiers="RT LT 59 25 GY", pointers="A"), "at most 4 modifiers"),
    ],
)
def test_an_edit_that_cannot_become_a_charge_says_which_field(line: EditedLine, message: str) -> None:
    with pytest.raises(EditProblem, match=message):
        coding_from_edit(EditedCharge(diagnoses=["H40.1131"], lines=[line]))
