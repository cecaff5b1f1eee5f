"""General reading rules of the offline coder (titles, checkboxes, problem lists, list sites, fitting phrasing,
outside discussion)."""

from agents.coding.laterality import lids_in
from agents.coding.offline import OfflineCoder
from agents.coding.schemas import CodeSuggestion
from agents.coding.sections import SectionKind, mask_unchecked, parse_note
from tests.support.coding_requests import coding_request

_request = coding_request


def _codes(suggestion: CodeSuggestion) -> set[tuple[str, tuple[str, ...]]]:
    return {(line.code, tuple(line.modifiers)) for line in suggestion.lines}


def test_a_title_does_not_end_the_opening_sentence(coder: OfflineCoder) -> None:
    note = (
        "Mr. Diaz returns for follow-up of his dry eye syndrome in both eyes on cyclosporine twice daily. "
        "Acuity 20/25 each eye, pressures 14 and 15, trace punctate staining in both eyes.\n"
        "Assessment: dry eye syndrome of both eyes, stable.\nPlan: continue cyclosporine."
    )
    visit = {code for code, _ in _codes(coder.suggest(_request(note)))}
    assert visit & {"99212", "99213", "99214"} and not visit & {"92012", "92002"}


def test_an_unchecked_box_records_something_not_done() -> None:
    text = "[ ] DFE performed   [x] Undilated disc view: 0.6 OU\n[ ] OCT today"
    masked = mask_unchecked(text)
    assert len(masked) == len(text) and "DFE" not in masked and "OCT" not in masked
    assert "[x] Undilated disc view" in masked


def test_a_problems_list_and_orders_are_sections() -> None:
    note = parse_note("Exam: IOP 14/15\nProblems:\n1. POAG OU\nOrders: OCT RNFL in 3 mo")
    kinds = [section.kind for section in note.sections]
    assert SectionKind.ASSESSMENT in kinds and SectionKind.PLAN in kinds


def test_superior_and_inferior_name_the_puncta() -> None:
    assert lids_in("OD inferior punctum + OS inferior punctum") == {"RLL", "LLL"}
    assert lids_in("right superior punctum") == {"RUL"}


def test_plugged_puncta_listed_as_checked_boxes_are_billed_per_punctum(coder: OfflineCoder) -> None:
    note = (
        "PROCEDURE: punctal plugs\nIndication: dry eye syndrome of both eyes\nPuncta occluded:\n"
        "  [x] OD lower   [ ] OD upper\n  [x] OS lower\nComplications: none"
    )
    codes = _codes(coder.suggest(_request(note)))
    assert {("68761", ("E4",)), ("68761", ("E2",))} <= codes
    assert ("68761", ("E3",)) not in codes


def test_fitted_lenses_are_a_contact_lens_fit(coder: OfflineCoder) -> None:
    note = (
        "Routine exam and contact lens visit. Refraction: right -2.00 DS, left -2.25 DS, 20/20 each eye. "
        "Pupils, motility and fields normal, pressures 15 and 15, dilated fundi normal. "
        "We fitted a new daily disposable lens in the left eye only, centered with good movement.\n"
        "Assessment: myopia of both eyes.\nPlan: lens prescription released."
    )
    codes = _codes(coder.suggest(_request(note, payer_name="VSP", payer_kind="vision")))
    assert ("92310", ("52",)) in codes


def test_discussing_management_with_an_outside_physician_counts_as_data(coder: OfflineCoder) -> None:
    note = (
        "Ms. Lee returns for her epiretinal membrane in the left eye. Acuity 20/50 left, down from 20/30. "
        "The macular OCT done today shows a thicker membrane. {talk}\n"
        "Assessment: epiretinal membrane of the left eye, progressing.\nPlan: referral."
    )
    talked = _codes(coder.suggest(_request(note.format(talk="I discussed her case with Dr. Chen today."))))
    silent = _codes(coder.suggest(_request(note.format(talk=""))))
    assert ("99214", ()) in talked and ("99214", ()) not in silent
