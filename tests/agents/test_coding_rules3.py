"""Round-3 reading rules of the offline coder (per-eye stages across "/", keratoconus stability, conjunctivitis
type, resolved DME, history-only findings, high MDM, procedures sided by their diagnosis, tests ordered vs done)
and the sharper confidence buckets."""

import pytest

from agents.coding.confidence import CodeFeatures, diagnosis_features, line_features
from agents.coding.context import context_reader
from agents.coding.laterality import lids_in
from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request, diagnosis_codes, line_keys

_request = coding_request


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("POAG OD severe stage / OS moderate stage - stable", {"H40.1113", "H40.1122"}),
        ("dry AMD early OD / intermediate OS - stable", {"H35.3111", "H35.3122"}),
    ],
)
def test_a_slash_between_eyes_separates_their_stages(
    coder: OfflineCoder, item: str, expected: set[str]
) -> None:
    note = f"CC: 3 mo check. IOP 14/13. SLE quiet.\nIMP: 1. {item}\nP: cont latanoprost qhs OU. RTC 3 mo."
    assert expected <= diagnosis_codes(coder.suggest(_request(note)))


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("KC OD stable", "H18.611"),
        ("KC OS unstable / progressing", "H18.622"),
        ("Keratoconus OU, stable (no progression since CXL)", "H18.613"),
        ("keratoconus OU with no further progression", "H18.613"),
    ],
)
def test_keratoconus_stability_is_read_with_its_negations(
    coder: OfflineCoder, item: str, expected: str
) -> None:
    note = f"KCN f/u. Topo today: Kmax stable.\nA: {item}\nP: RTC 6 mo."
    codes = diagnosis_codes(coder.suggest(_request(note)))
    assert expected in codes and not {c for c in codes if c.startswith("H18.60")}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("viral (adenoviral) conjunctivitis OU - clinical dx", "B30.1"),
        ("adenoviral conjunctivitis both eyes", "B30.1"),
        ("acute allergic (atopic) conjunctivitis, both eyes", "H10.13"),
        ("bacterial (mucopurulent) conjunctivitis OD", "H10.021"),
    ],
)
def test_a_parenthetical_type_keeps_the_conjunctivitis_type(
    coder: OfflineCoder, item: str, expected: str
) -> None:
    note = f"CC: red eye x 2 d.\nVA 20/20 OU. SLE: conj injection.\nAssessment: {item}\nPlan: compresses."
    codes = diagnosis_codes(coder.suggest(_request(note)))
    assert expected in codes and "H10.33" not in codes and "B30.9" not in codes


def test_dme_resolved_after_treatment_is_its_own_code_and_bullets_under_assessment_are_diagnoses(
    coder: OfflineCoder,
) -> None:
    note = (
        "Encounter: annual diabetic exam\nOD/OS VA 20/30 20/25. [x] DFE performed\n"
        "Assessment:\n- Type 2 DM w/ severe NPDR OU, no current macular edema\n"
        "- DME OD resolved following anti-VEGF treatment\n- Insulin-requiring; also on oral agent\n"
        "Plan: return 3 mo."
    )
    codes = diagnosis_codes(coder.suggest(_request(note)))
    assert {"E11.3493", "E11.37X1", "Z79.4", "Z79.84"} <= codes
    assert "E11.3413" not in codes


def test_a_comparison_over_time_is_not_a_differential() -> None:
    text = "moderate NPDR without macular edema - stable vs 10/2025"
    assert not context_reader().assertions(text, [(0, 13)])[0].uncertain
    assert context_reader().assertions("POAG vs OHT", [(0, 4)])[0].uncertain


def test_a_combination_code_absorbs_its_manifestation(coder: OfflineCoder) -> None:
    note = (
        "Returns for her 4 month visit on cyclosporine. SLE: trace punctate staining OU.\n"
        "Assessment: Sjogren syndrome with keratoconjunctivitis sicca, both eyes, stable on cyclosporine.\n"
        "Plan: continue."
    )
    suggestion = coder.suggest(_request(note))
    assert "M35.01" in diagnosis_codes(suggestion) and not {
        c for c in diagnosis_codes(suggestion) if c.startswith("H16.22")
    }
    assert {code for code, _ in line_keys(suggestion)} & {"99213"}  # the eye problem counts for MDM


def test_threat_to_vision_and_urgent_surgery_make_high_mdm(coder: OfflineCoder) -> None:
    note = (
        "S: POAG f/u. on latanoprost qhs OU + Cosopt bid OU.\nO: IOP 15 OD / 41 OS.\n"
        "A: 1. POAG OD moderate - stable\n2. POAG OS severe - uncontrolled on max meds, threat to remaining vision\n"
        "P: oral acetazolamide; called Dr. Haines - urgent trab OS tomorrow."
    )
    assert "99215" in {code for code, _ in line_keys(coder.suggest(_request(note)))}
    calm = note.replace(", threat to remaining vision", "").replace("urgent trab OS tomorrow", "trab consult")
    assert "99215" not in {code for code, _ in line_keys(coder.suggest(_request(calm)))}


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (
            "Proc: epilation. recurrent trichiasis R lower lid.\nLashes removed w/ forceps at slit lamp.\n"
            "A: trichiasis without entropion RLL\nP: RTC prn",
            ("67820", ("E4",)),
        ),
        (
            "3 misdirected lashes LUL. Epilated today with forceps.\nAssessment: trichiasis LUL\nPlan: AT prn.",
            ("67820", ("E1",)),
        ),
        (
            "Sharp pain left eye on waking. Loose epithelium was debrided with a sponge; BCL placed.\n"
            "Assessment: recurrent corneal erosion of the left eye.\nPlan: return in 3 days.",
            ("65435", ("LT",)),
        ),
    ],
)
def test_a_procedure_takes_its_side_from_the_diagnosis_it_treats(
    coder: OfflineCoder, note: str, expected: tuple[str, tuple[str, ...]]
) -> None:
    assert expected in line_keys(coder.suggest(_request(note)))


def test_a_procedure_only_planned_is_not_billed(coder: OfflineCoder) -> None:
    note = "Trichiasis RLL, 2 lashes.\nAssessment: trichiasis RLL\nPlan: will epilate next visit."
    assert "67820" not in {code for code, _ in line_keys(coder.suggest(_request(note)))}


@pytest.mark.parametrize(
    ("orders", "billed"),
    [
        ("HVF 24-2 OU next visit (not today).", False),
        ("HVF 24-2 OU not done today, ordered.", False),
        ("HVF 24-2 OU performed today: full.", True),
    ],
)
def test_a_test_ordered_is_not_billed(coder: OfflineCoder, orders: str, billed: bool) -> None:
    note = f"CC: 3mo IOP ck.\nIOP 14/13.\nIMP: 1. POAG OU mild - stable\nOrders: {orders}\nRTC 3 mo."
    assert ("92083" in {code for code, _ in line_keys(coder.suggest(_request(note)))}) is billed


def test_sensorimotor_exam_and_strabismus(coder: OfflineCoder) -> None:
    note = (
        "Lily, 6, returns for her intermittent exotropia. Her mother provides the history. Today we measured "
        "the deviation with prism and alternate cover at distance and near.\n"
        "Assessment: intermittent alternating exotropia, stable control.\nPlan: observe; return in 6 months."
    )
    suggestion = coder.suggest(_request(note))
    assert "H50.34" in diagnosis_codes(suggestion)
    assert {"92060", "99213"} <= {code for code, _ in line_keys(suggestion)}


def test_problem_oriented_visit_is_an_em_visit(coder: OfflineCoder) -> None:
    note = (
        "Problem-oriented visit - Glaucoma clinic\nMeds: Combigan BID OU, cyclosporine BID OU.\n"
        "IOP 12/13. Cornea tr SPK OU.\nProblems:\n1. POAG both eyes, severe stage - stable\n"
        "2. Dry eye syndrome both eyes - stable on cyclosporine\nPlan: cont all meds; RTC 3 mo."
    )
    assert "99214" in {code for code, _ in line_keys(coder.suggest(_request(note)))}


def test_a_prose_impression_beats_the_reason_for_referral(coder: OfflineCoder) -> None:
    note = (
        "Thank you for sending Ms. W for a glaucoma evaluation. Pressures were 14 and 15. "
        "My impression is normal tension glaucoma in both eyes, mild stage. I started latanoprost."
    )
    codes = diagnosis_codes(coder.suggest(_request(note)))
    assert "H40.1231" in codes and "H40.9" not in codes


def test_an_unnumbered_header_free_problem_list_is_read_whole(coder: OfflineCoder) -> None:
    note = (
        "1. DM2 - on metformin. Annual DFE today, no DR.\n2. Early NS cataract OU - monitor\n"
        "3. Myopia / presbyopia - MRx OD -2.00, OS -2.25, add +1.75; Rx given\nIOP 14/14 CF full EOM full."
    )
    assert {"E11.9", "H25.13", "H52.13", "H52.4"} <= diagnosis_codes(coder.suggest(_request(note)))


@pytest.mark.parametrize(
    ("text", "lids"),
    [
        ("Demodex blepharitis R upper & lower lids", {"RUL", "RLL"}),
        ("Blepharitis OS lower lid", {"LLL"}),
        ("plugs in both lower lids", {"RLL", "LLL"}),
    ],
)
def test_upper_and_lower_lids_of_one_side(text: str, lids: set[str]) -> None:
    assert lids_in(text) == lids


def test_strongest_support_gets_its_own_bucket() -> None:
    stated = diagnosis_features("assessment", "explicit", "explicit", "poag", "glaucoma", True)
    loose = diagnosis_features("assessment", "explicit", "n/a", "poag", "glaucoma", True)
    assert stated.buckets()[0].endswith("|stated") and stated.buckets()[1:] == loose.buckets()
    visit = line_features("visit", "em", "99213", False, True, "complete-medicare")
    assert visit.buckets()[0] == "visit|em|sure|99213|complete-medicare"
    assert CodeFeatures("test", "today").buckets()[0] == "test|today|sure|"
