"""The offline coder's confidence: the fitted logistic model, its drafting cutoff chosen out of fold, and the
stored fit."""

import json
from dataclasses import replace
from pathlib import Path

import yaml

from agents.coding.confidence import (
    AUTO_DRAFT,
    BELOW_AUTO_DRAFT,
    CALIBRATION_FILE,
    Calibration,
    CodeFeatures,
    load_calibration,
    model_inputs,
)
from agents.coding.offline import OfflineCoder
from evals.coding.calibrate import Sample, drafting_cutoff, fit, fit_model, out_of_fold
from evals.coding.splits import SPLITS
from tests.support.coding_requests import coding_request

REPO = Path(__file__).resolve().parents[2]
STATED = CodeFeatures("diagnosis", "assessment", "explicit", "explicit", family="glaucoma", support="stated")
VISIT = CodeFeatures("visit", "em", family="99213", structured=True, opinion="firm")


def _sample(features: CodeFeatures, code: str, correct: bool, group: str = "tune20") -> Sample:
    return Sample(features, code, correct, 1.0, group, untuned=True)


def test_a_code_under_the_cutoff_is_held_below_the_line_however_likely() -> None:
    calibrate = Calibration({"code=H40.1131": 4.0}, 0.0, 0.99, "test")  # p = 0.982
    assert calibrate.probability(STATED, "H40.1131") > 0.98
    assert calibrate(STATED, "H40.1131") == BELOW_AUTO_DRAFT
    assert calibrate(STATED, "H40.1131") < AUTO_DRAFT
    looser = replace(calibrate, cutoff=0.95)
    assert looser(STATED, "H40.1131") == round(looser.probability(STATED, "H40.1131"), 4)
    assert looser(STATED, "H40.1131", vote=0.9) < AUTO_DRAFT  # a silent neighbourhood pulls it under
    # agreeing neighbours never lift a code the cutoff held back (it was chosen without them)
    assert calibrate(STATED, "H40.1131", vote=1.04) == BELOW_AUTO_DRAFT
    assert looser(STATED, "H40.1131", vote=1.04) >= looser(STATED, "H40.1131")


def test_a_visit_code_the_second_opinion_disputes_waits_for_review() -> None:
    calibrate = Calibration({"code=99213": 6.0}, 0.0, 0.95, "test")  # p = 0.9975
    assert calibrate(VISIT, "99213") >= AUTO_DRAFT
    assert calibrate(replace(VISIT, opinion="differ"), "99213") == BELOW_AUTO_DRAFT


def test_without_a_stored_fit_the_rule_score_never_auto_drafts(tmp_path: Path) -> None:
    missing = load_calibration(tmp_path / "none.yaml")
    assert missing(STATED, "H40.1131") == BELOW_AUTO_DRAFT
    assert missing(replace(STATED, eye="default"), "H40.1131") < BELOW_AUTO_DRAFT


def test_model_inputs_name_every_bucket_the_code_and_its_category() -> None:
    inputs = model_inputs(STATED, "h40.1131")
    assert {f"bucket={key}" for key in STATED.buckets()} <= inputs.keys()
    assert inputs["code=H40.1131"] == 1.0 and inputs["category=H40"] == 1.0
    assert "category=992" not in model_inputs(VISIT, "99213")


def test_the_model_learns_which_kinds_of_code_miss() -> None:
    differ = replace(VISIT, opinion="differ")
    samples = [_sample(VISIT, "99213", True)] * 60 + [_sample(differ, "99213", i % 2 == 0) for i in range(40)]
    weights, intercept = fit_model(samples)
    model = Calibration(weights, intercept, 0.9, "test")
    assert model.probability(VISIT, "99213") > 0.9 > model.probability(differ, "99213")


def test_the_cutoff_is_the_lowest_probability_that_keeps_the_target_precision() -> None:
    probabilities = [0.99, 0.98, 0.97, 0.96, 0.95, 0.5]
    assert drafting_cutoff(probabilities, [True, True, True, False, True, False], 0.99) == 0.97
    assert drafting_cutoff(probabilities, [True, True, True, False, True, False], 0.8) == 0.95
    assert drafting_cutoff([0.99, 0.9], [False, True], 0.99) == 1.0  # nothing drafts
    assert drafting_cutoff([0.99, 0.98, 0.98], [True, True, False], 0.6) == 0.98  # ties draft together
    assert drafting_cutoff([0.99, 0.98, 0.98], [True, True, False], 0.7) == 0.99


def test_out_of_fold_a_set_is_scored_by_a_model_that_never_saw_it() -> None:
    # code H40.1131 misses only in tune20: a model fitted without tune20 knows nothing against it
    seen = [_sample(STATED, "H40.1111", True, group) for group in ("tune18", "tune19") for _ in range(50)]
    seen += [_sample(STATED, "H40.1121", False, "tune18")] * 5
    misses = [_sample(STATED, "H40.1131", False, "tune20")] * 20
    in_sample = [
        replace(s, untuned=False) for s in misses
    ]  # the same rows, today's coder: left out with them
    probabilities, correct = out_of_fold([*seen, *misses, *in_sample], ["tune20"], 1.0)
    assert len(probabilities) == 20 and not any(correct)  # only the fold's untuned codes are scored
    weights, intercept = fit_model([*seen, *misses])
    assert min(probabilities) > Calibration(weights, intercept, 1.0, "test").probability(STATED, "H40.1131")


def test_fit_chooses_the_cutoff_on_the_newest_sets_and_weights_older_ones_down(tmp_path: Path) -> None:
    def write(name: str, rows: list[tuple[str, bool]]) -> Path:
        path = tmp_path / name
        path.write_text(
            "".join(
                json.dumps(
                    {"id": "x", "kind": "icd", "code": code, "features": {**STATED.__dict__}, "correct": ok}
                )
                + "\n"
                for code, ok in rows
            )
        )
        return path

    paths = [
        write(
            f"untuned_tune{n}_at_abc1234.jsonl", [("H40.1131", True)] * 30 + [("H40.1132", n % 2 == 0)] * 10
        )
        for n in (3, 4, 5)
    ]
    fitted = fit(paths, [], recent=2)
    assert fitted["sources"]["recent_sets"] == ["tune4", "tune5"]
    assert fitted["out_of_fold"]["codes"] == 80 and fitted["out_of_fold"]["precision"] >= 0.99
    model = Calibration(fitted["weights"], fitted["intercept"], fitted["cutoff"], "")
    assert model(STATED, "H40.1131") >= AUTO_DRAFT > model(STATED, "H40.1132")


def test_the_stored_fit_is_fitted_on_tuning_rows_only_and_drafts_out_of_fold() -> None:
    stored = load_calibration()
    assert stored.weights and AUTO_DRAFT <= stored.cutoff < 1.0
    data = yaml.safe_load(CALIBRATION_FILE.read_text(encoding="utf-8"))
    assert data["out_of_fold"]["precision"] >= data["target_precision"] >= 0.99
    untuned = [REPO / path for path in data["sources"]["untuned"]]
    assert len(untuned) >= 8 and all(path.is_file() for path in untuned)
    # the out-of-sample evidence comes from tuning rows; holdout and check rows never feed the fit
    splits = {
        row["id"]: row["split"]
        for path in sorted((REPO / "evals" / "datasets").glob("coding_tune*.jsonl"))
        for row in map(json.loads, path.read_text().splitlines())
    }
    ids = {json.loads(line)["id"] for path in untuned for line in path.read_text().splitlines()}
    assert ids and {splits[i] for i in ids} <= {name for name in SPLITS if name.startswith("tune")}


def test_a_plainly_stated_diagnosis_auto_drafts_and_a_vague_one_waits(coder: OfflineCoder) -> None:
    note = (
        "CC: glaucoma follow-up, no complaints.\nIOP 17/18 on latanoprost qhs OU.\n"
        "Assessment:\n1. Primary open-angle glaucoma, both eyes, mild stage - stable on latanoprost.\n"
        "2. Cataract.\nPlan: continue latanoprost OU qhs. RTC 4 months."
    )
    suggestion = coder.suggest(coding_request(note))
    confidence = {d.code: d.confidence for d in suggestion.diagnoses}
    assert confidence["H40.1131"] >= AUTO_DRAFT
    vague = [code for code in confidence if code.startswith("H26") or code.startswith("H25")]
    assert vague and all(confidence[code] < AUTO_DRAFT for code in vague)
