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
