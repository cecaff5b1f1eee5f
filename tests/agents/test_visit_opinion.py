"""The learned second opinion on the visit code: training, storage, and what it does to a suggestion."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from agents.coding.offline import OfflineCoder
from agents.coding.schemas import AUTO_DRAFT_THRESHOLD, CodeSuggestion, SuggestedLine
from agents.coding.visit_opinion import (
    FIRM,
    NO_VISIT,
    OPINION_FILE,
    VECTORIZER,
    VisitOpinion,
    is_visit_code,
    load_opinion,
    opinion_text,
    train_opinion,
)
from evals.coding.calibrate import load_samples
from evals.coding.datasets import load_rows
from evals.coding.opinion import DATASETS, gold_visit, row_text, train
from tests.support.coding_requests import coding_request

ROUTINE = "Annual comprehensive exam, no complaints. VA 20/20 OU. IOP 15/15. DFE: healthy OU. A: myopia."
RED_EYE = "Red painful eye x 2 days, new problem. VA 20/25 OD. SLE: injection OD. A: conjunctivitis OD."
TEXTS = [f"{ROUTINE} visit {i}" for i in range(12)] + [f"{RED_EYE} visit {i}" for i in range(12)]
CODES = ["92014"] * 12 + ["92012"] * 12

FOLLOW_UP_NOTE = """CC: 3 month glaucoma follow-up. Using latanoprost OU qhs, no missed doses.
VA cc 20/25 OD, 20/25 OS. Pupils PERRL. IOP 16/17 (GAT).
SLE: quiet OU. Lens 1+ NS OU. C/D 0.6 OD, 0.65 OS, rims healthy.
A: POAG OU, mild stage, stable at target.
P: continue latanoprost. RTC 3 mo."""


def test_visit_codes_are_the_exam_em_and_vision_plan_codes_only() -> None:
    assert all(is_visit_code(c) for c in ("92004", "92012", "99213", "99205", "S0620", "s0621"))
    assert not any(is_visit_code(c) for c in ("92020", "92015", "92083", "99070", "68761", "S0500"))


def test_opinion_text_carries_the_request_facts_the_note_may_not_say() -> None:
    text = opinion_text("A: POAG", True, "vision", 67, "VSP")
    assert text.startswith("established patient payer vision VSP age band 3\n")
    assert text.endswith("A: POAG")
    assert opinion_text("A: POAG", None, "commercial", None).startswith(" payer commercial")


def test_a_trained_opinion_names_the_code_notes_like_this_one_were_billed() -> None:
    model = train_opinion(TEXTS, CODES)
    assert model.opinion(f"{ROUTINE} today").code == "92014"
    assert model.opinion(f"{RED_EYE} today").code == "92012"
    probabilities = model.probabilities(ROUTINE)
    assert set(probabilities) == {"92012", "92014"} and sum(probabilities.values()) == pytest.approx(1.0)


def test_two_classes_give_the_same_probabilities_as_scikit_learn() -> None:
    model = train_opinion(TEXTS, CODES)
    vectorizer = TfidfVectorizer(**VECTORIZER)
    reference = LogisticRegression(C=10.0, max_iter=3000).fit(vectorizer.fit_transform(TEXTS), CODES)
    expected = reference.predict_proba(vectorizer.transform([RED_EYE]))[0]
    got = model.probabilities(RED_EYE)
    assert [got[c] for c in reference.classes_] == pytest.approx(expected.tolist(), abs=1e-9)


def test_a_saved_opinion_loads_without_pickle_and_answers_the_same(tmp_path: Path) -> None:
    model = train_opinion(TEXTS, CODES)
    path = tmp_path / "opinion.npz"
    model.save(path)
    loaded = load_opinion.__wrapped__(path)
    assert loaded is not None and loaded.classes == model.classes
    for text in (ROUTINE, RED_EYE, "no words it has seen"):
        assert loaded.probabilities(text) == pytest.approx(model.probabilities(text), abs=1e-5)
    assert load_opinion.__wrapped__(tmp_path / "missing.npz") is None


def _biased(code: str) -> VisitOpinion:
    """A real opinion with one term, "ent" (of "patient", which every decided request's text holds), weighted so it
    always says `code`."""
    classes = sorted({code, "92012", NO_VISIT})
    coef = np.array([[8.0 if c == code else 0.0] for c in classes])
    return VisitOpinion(["ent"], np.ones(1), coef, np.zeros(len(classes)), classes)


def test_the_opinion_grades_a_rule_code_firm_agree_or_differ() -> None:
    opinion = _biased("92014").opinion("patient patient")
    assert opinion.code == "92014" and opinion.probability >= FIRM
    assert opinion.on("92014") == "firm"
    assert opinion.on("92012") == "differ"
    weak = train_opinion(TEXTS, CODES).opinion("visit")  # words both classes share: a weak lead
    assert weak.on(weak.code) == ("firm" if weak.probability >= FIRM else "agree")


def _leaning(shares: dict[str, float]) -> VisitOpinion:
    """A real opinion that gives every decided request's text these shares of probability (its one term, "ent",
    has a TF-IDF weight of 1, so the class scores are the log shares)."""
    classes = sorted(shares)
    coef = np.array([[np.log(shares[c])] for c in classes])
    return VisitOpinion(["ent"], np.ones(1), coef, np.zeros(len(classes)), classes)


def _visit_line(suggestion: CodeSuggestion) -> SuggestedLine:
    return next(line for line in suggestion.lines if is_visit_code(line.code))


def test_a_disputed_visit_code_waits_for_review_with_the_opinion_as_a_finding() -> None:
    request = coding_request(FOLLOW_UP_NOTE)
    plain = OfflineCoder(opinion=None).suggest(request)
    visit = _visit_line(plain)
    assert not any(f.code == "VISIT_SECOND_OPINION" for f in plain.findings)

    # the opinion leads with another code but still gives the rules' code a real chance: the rules' code stays
    disputed = OfflineCoder(opinion=_leaning({"99215": 0.8, visit.code: 0.15, NO_VISIT: 0.05})).suggest(
        request
    )
    line = _visit_line(disputed)
    assert line.code == visit.code
    assert line.confidence < AUTO_DRAFT_THRESHOLD
    (finding,) = [f for f in disputed.findings if f.code == "VISIT_SECOND_OPINION"]
    assert "99215" in finding.message and visit.code in finding.message

    shared = OfflineCoder(opinion=_biased(visit.code)).suggest(request)
    line = _visit_line(shared)
    assert not any(f.code == "VISIT_SECOND_OPINION" for f in shared.findings)
    assert "second opinion agrees" in line.rationale
    assert {d.code for d in shared.diagnoses} == {d.code for d in plain.diagnoses}


def test_a_visit_code_the_opinion_finds_very_unlikely_is_replaced_and_waits_for_review() -> None:
    request = coding_request(FOLLOW_UP_NOTE)
    plain = OfflineCoder(opinion=None).suggest(request)
    rules_code = _visit_line(plain).code
    swapped = OfflineCoder(opinion=_leaning({"99215": 0.9, rules_code: 0.02, NO_VISIT: 0.08})).suggest(
        request
    )
    line = _visit_line(swapped)
    assert line.code == "99215" and line.confidence < AUTO_DRAFT_THRESHOLD
    assert rules_code in line.rationale
    (finding,) = [f for f in swapped.findings if f.code == "VISIT_SECOND_OPINION"]
    assert "99215" in finding.message and rules_code in finding.message and finding.severity == "warning"
    assert [line.code for line in swapped.lines if not is_visit_code(line.code)] == [
        line.code for line in plain.lines if not is_visit_code(line.code)
    ]
    # not when the opinion is short of PICK_VISIT, nor with a new-patient code for an established patient
    for shares in (
        {"99215": 0.6, rules_code: 0.02, NO_VISIT: 0.38},
        {"99205": 0.9, rules_code: 0.02, NO_VISIT: 0.08},
    ):
        kept = OfflineCoder(opinion=_leaning(shares)).suggest(request)
        assert _visit_line(kept).code == rules_code


def test_a_routine_or_vision_plan_exam_is_never_replaced() -> None:
    request = coding_request(ROUTINE, payer_kind="vision")
    plain = OfflineCoder(opinion=None).suggest(request)
    rules_code = _visit_line(plain).code
    swapped = OfflineCoder(opinion=_leaning({"92012": 0.97, rules_code: 0.01, NO_VISIT: 0.02})).suggest(
        request
    )
    assert _visit_line(swapped).code == rules_code


def test_the_stored_opinion_is_what_the_gold_sets_train_today() -> None:
    stored = load_opinion(OPINION_FILE)
    assert stored is not None and NO_VISIT in stored.classes and "92014" in stored.classes
    fresh = train()
    rows = load_rows(DATASETS / "coding_tune5.jsonl", "tune5")[:15]
    for row in rows:
        assert stored.probabilities(row_text(row)) == pytest.approx(
            fresh.probabilities(row_text(row)), abs=1e-3
        )
    # trained on these rows, it names their gold visit code nearly always
    assert sum(stored.opinion(row_text(r)).code == gold_visit(r) for r in rows) >= 13


def test_untuned_samples_get_their_visit_opinion_out_of_fold(tmp_path: Path) -> None:
    kept = sorted((DATASETS.parent / "coding" / "calibration_samples").glob("untuned_tune5_at_*.jsonl"))[0]
    samples = load_samples(kept, 0.1, untuned=True)
    visits = [s for s in samples if s.features.kind == "visit" and s.features.basis != "vision_plan"]
    assert visits and all(s.features.opinion in ("firm", "agree", "differ") for s in visits)
    assert all(s.features.opinion == "" for s in samples if s.features.kind != "visit")
    # an out-of-fold opinion is no copy of the truth: it disputes some codes that were right
    assert any(s.features.opinion == "differ" for s in visits)


COMPREHENSIVE_NOTE = """CC: annual diabetic eye exam, no complaints. Type 2 DM on metformin.
VA cc 20/20 OD, 20/20 OS. Pupils PERRL, no APD. EOM full. CVF full OU. IOP 15/16.
SLE: lids/lashes, conj, cornea, AC, iris normal OU. Lens clear OU.
DFE (tropicamide): C/D 0.3 OU, macula flat, vessels normal, periphery flat OU. No retinopathy.
A: Type 2 diabetes without retinopathy OU.
P: annual dilated exam."""


def test_a_follow_up_the_opinion_firmly_reads_as_no_exam_loses_its_visit_line_with_a_finding() -> None:
    request = coding_request(FOLLOW_UP_NOTE)
    plain = OfflineCoder(opinion=None).suggest(request)
    visit = next(line for line in plain.lines if is_visit_code(line.code))
    assert visit.code.startswith("992")  # the rules read a follow-up (E/M)

    dropped = OfflineCoder(opinion=_biased(NO_VISIT)).suggest(request)
    assert not any(is_visit_code(line.code) for line in dropped.lines)
    (finding,) = [f for f in dropped.findings if f.code == "VISIT_LEFT_OUT"]
    assert visit.code in finding.message
    assert {d.code for d in dropped.diagnoses} == {d.code for d in plain.diagnoses}
    others = [line.code for line in plain.lines if line is not visit]
    assert [line.code for line in dropped.lines] == others


def test_a_comprehensive_exam_keeps_its_visit_line_whatever_the_opinion_says() -> None:
    request = coding_request(COMPREHENSIVE_NOTE)
    plain = OfflineCoder(opinion=None).suggest(request)
    visit = next(line for line in plain.lines if is_visit_code(line.code))
    assert visit.code == "92014"

    disputed = OfflineCoder(opinion=_biased(NO_VISIT)).suggest(request)
    assert visit.code in [line.code for line in disputed.lines]  # only a review finding, no change
    assert not any(f.code == "VISIT_LEFT_OUT" for f in disputed.findings)
    assert any(f.code == "VISIT_SECOND_OPINION" for f in disputed.findings)


FB_AND_GLAUCOMA = """REASON FOR VISIT: metal in the right eye from grinding this morning; also due for a glaucoma pressure check.
VA sc 20/25 OD, 20/20 OS. Cornea OD: 1 metallic FB at 4:00 with a small rust ring. IOP 17/16.
PROCEDURE: proparacaine OD; FB and rust ring removed at the slit lamp with a 25g needle. Tolerated well.
ASSESSMENT: 1. Metallic FB cornea OD - removed. 2. POAG OU, mild stage, IOP at target, stable.
PLAN: moxifloxacin qid OD x 5 d; continue timolol, refill sent; glaucoma f/u 3 mo."""


def test_a_visit_for_a_separate_problem_beside_a_procedure_stays_whatever_the_opinion_says() -> None:
    request = coding_request(FB_AND_GLAUCOMA)
    plain = OfflineCoder(opinion=None).suggest(request)
    visit = next(line for line in plain.lines if is_visit_code(line.code))
    assert "25" in visit.modifiers

    kept = OfflineCoder(opinion=_biased(NO_VISIT)).suggest(request)
    assert visit.code in [line.code for line in kept.lines]
    assert not any(f.code == "VISIT_LEFT_OUT" for f in kept.findings)


def test_a_visit_code_the_opinion_has_no_class_for_is_never_replaced() -> None:
    from agents.coding.offline import _visit_the_opinion_picks
    from agents.coding.visit import VisitChoice

    visit = VisitChoice("99205", "em", False, False)
    opinion = _leaning({"99204": 0.9, NO_VISIT: 0.1}).opinion("patient")
    assert _visit_the_opinion_picks(visit, opinion) is None
    assert (
        _visit_the_opinion_picks(VisitChoice("99203", "em", False, False), opinion) is None
    )  # 0.0 < 0.05? no class
    known = _leaning({"99204": 0.9, "99203": 0.02, NO_VISIT: 0.08}).opinion("patient")
    swapped = _visit_the_opinion_picks(VisitChoice("99203", "em", False, False), known)
    assert swapped is not None and swapped.code == "99204" and swapped.overruled == "99203"
