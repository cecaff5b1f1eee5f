"""Coding metrics on tiny hand-made gold/predicted pairs, with the expected numbers worked out by hand."""

from typing import Any

import pytest

from evals.coding.datasets import GoldRow
from evals.coding.metrics import percentile, prf, score_note, summarize


def gold_row(row_id: str, family: str, split: str, diagnoses: list[str], lines: list[tuple]) -> GoldRow:
    return GoldRow.model_validate(
        {
            "id": row_id,
            "split": split,
            "family": family,
            "note": "synthetic note",
            "gold": {
                "diagnoses": diagnoses,
                "lines": [
                    {"code": c, "modifiers": m, "units": 1, "diagnosis_codes": diagnoses[:1]}
                    for c, m in lines
                ],
            },
        }
    )


def predicted(row_id: str, confidence: float, diagnoses: list[tuple], lines: list[tuple]) -> dict[str, Any]:
    return {
        "id": row_id,
        "confidence": confidence,
        "diagnoses": [{"code": code, "confidence": conf, "evidence": []} for code, conf in diagnoses],
        "lines": [
            {"code": c, "modifiers": m, "units": 1, "diagnosis_codes": [], "confidence": conf, "evidence": []}
            for c, m, conf in lines
        ],
        "findings": [],
    }


# Note A: one exact line, one with a wrong RT, one wrong test; cataract on the wrong eye; G2211 ignored.
ROW_A = gold_row(
    "a", "glaucoma", "tune", ["H40.1131", "H25.13"], [("92014", []), ("92133", []), ("92083", [])]
)
PRED_A = predicted(
    "a",
    0.95,
    [("H40.1131", 0.95), ("H25.12", 0.8)],
    [("92014", [], 0.95), ("92133", ["RT"], 0.7), ("92250", [], 0.6), ("G2211", [], 0.99)],
)
# Note B (holdout): the procedure right, an extra E/M, an unknown CPT and a non-billable ICD category.
ROW_B = gold_row("b", "foreign_body", "holdout", ["T15.01XA"], [("65222", ["RT"])])
PRED_B = predicted(
    "b",
    0.5,
    [("T15.01XA", 0.95), ("H40.11", 0.3)],
    [("65222", ["RT"], 0.92), ("99213", ["25"], 0.5), ("99999", [], 0.2)],
)


@pytest.fixture(scope="module")
def metrics():
    return summarize([score_note(ROW_A, PRED_A), score_note(ROW_B, PRED_B)], [10.0, 20.0, 30.0, 40.0])


def test_line_code_and_icd_precision_recall_f1(metrics) -> None:
    # lines: A tp 1 (92014) fp 2 fn 2, B tp 1 fp 2 fn 0 -> P 2/6, R 2/4, F1 0.4
    assert (metrics.lines.tp, metrics.lines.fp, metrics.lines.fn) == (2, 4, 2)
    assert metrics.lines.precision == pytest.approx(1 / 3)
    assert metrics.lines.recall == pytest.approx(0.5)
    assert metrics.lines.f1 == pytest.approx(0.4)
    # codes alone: 92133 now counts -> tp 3 fp 3 fn 1 -> P 0.5, R 0.75, F1 0.6
    assert (metrics.codes.tp, metrics.codes.fp, metrics.codes.fn) == (3, 3, 1)
    assert metrics.codes.f1 == pytest.approx(0.6)
    # ICD: tp 2 fp 2 fn 1 -> P 0.5, R 2/3, F1 4/7
    assert (metrics.icd.precision, metrics.icd.recall) == (pytest.approx(0.5), pytest.approx(2 / 3))
    assert metrics.icd.f1 == pytest.approx(4 / 7)


def test_modifier_accuracy_and_laterality(metrics) -> None:
    # code-matched pairs: 92014 (ok), 92133 (RT extra), 65222-RT (ok)
    assert (metrics.modifier_pairs, metrics.modifier_accuracy) == (3, pytest.approx(2 / 3))
    # eye errors: 92133-RT and H25.12 for H25.13, over 3 line pairs + 2 exact ICD + 1 ICD one eye apart
    assert (metrics.laterality_errors, metrics.laterality_items) == (2, 6)
    assert metrics.laterality_error_rate == pytest.approx(1 / 3)


def test_per_punctum_modifiers_count_as_laterality() -> None:
    row = gold_row("p", "punctal_plugs", "tune", ["H04.123"], [("68761", ["E1"]), ("68761", ["E3"])])
    score = score_note(
        row, predicted("p", 0.9, [("H04.123", 0.9)], [("68761", ["E1"], 0.9), ("68761", ["E4"], 0.9)])
    )
    assert (score.modifier_pairs, score.modifier_correct) == (2, 1)
    assert score.laterality_errors == 1


def test_stage_difference_is_not_a_laterality_error() -> None:
    row = gold_row("g", "glaucoma", "tune", ["H40.1131"], [("92014", [])])
    score = score_note(row, predicted("g", 0.9, [("H40.1132", 0.9)], [("92014", [], 0.9)]))
    assert score.laterality_errors == 0
    assert score.icd == {"tp": 0, "fp": 1, "fn": 1}


def test_invalid_codes_and_ignored_codes(metrics) -> None:
    assert metrics.invalid_codes == 2  # 99999 (no such CPT) and H40.11 (a category, not billable)
    assert "G2211" not in metrics.per_code


def test_abstention_auto_draft_and_calibration(metrics) -> None:
    assert metrics.abstention_rate == pytest.approx(0.5)  # note B's 0.5 is under the 0.9 threshold
    # 10 scored codes (G2211 left out); 4 at >= 0.9 and all 4 right
    assert metrics.auto_draft_coverage == pytest.approx(0.4)
    assert metrics.auto_draft_precision == pytest.approx(1.0)
    assert sum(b.count for b in metrics.calibration) == 10
    top = metrics.calibration[-1]
    assert (top.count, top.accuracy) == (4, pytest.approx(1.0))


def test_latency_percentiles(metrics) -> None:
    assert metrics.latency_p50_ms == pytest.approx(25.0)
    assert metrics.latency_p95_ms == pytest.approx(38.5)
    assert percentile([], 50) == 0.0


def test_holdout_rows_never_show_per_note_diffs(metrics) -> None:
    assert [e.id for e in metrics.note_errors] == ["a"]
    pairs = {(c.kind, c.gold, c.predicted) for c in metrics.confusion}
    assert pairs == {("line", "92083", "92250"), ("icd", "H25.13", "H25.12")}
    assert set(metrics.per_family) == {"glaucoma", "foreign_body"}
    assert metrics.per_family["foreign_body"].lines.recall == pytest.approx(1.0)


def test_an_engine_error_scores_as_an_empty_abstaining_prediction() -> None:
    score = score_note(ROW_A, {"id": "a", "error": "engine failed"})
    assert score.failed and score.confidence == 0.0
    assert score.lines == {"tp": 0, "fp": 0, "fn": 3}


def test_prf_edges() -> None:
    assert prf(0, 0, 0).f1 == 1.0
    assert prf(0, 0, 2).precision == 0.0
