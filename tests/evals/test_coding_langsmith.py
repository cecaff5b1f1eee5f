"""The LangSmith bridge: examples and evaluators run through `langsmith.evaluate` offline and fast."""

import socket
import time
from pathlib import Path

import pytest

from agents.coding.schemas import CodeSuggestion, CodingRequest, SuggestedDiagnosis, SuggestedLine
from evals.coding.datasets import load_rows
from evals.coding.langsmith import EVALUATORS, line_f1, run_langsmith_eval, to_examples

DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "coding_dev.jsonl"


class ScriptedCoder:
    """Answers with the gold charge for the notes it was given and with nothing for the others."""

    name = "scripted"

    def __init__(self, answers: dict[str, CodeSuggestion]) -> None:
        self.answers = answers

    def suggest(self, request: CodingRequest) -> CodeSuggestion:
        return self.answers.get(request.note, CodeSuggestion(engine=self.name))


def gold_suggestion(row) -> CodeSuggestion:
    return CodeSuggestion(
        lines=[SuggestedLine(**line.model_dump(), confidence=0.95) for line in row.gold.lines],
        diagnoses=[SuggestedDiagnosis(code=code, confidence=0.95) for code in row.gold.diagnoses],
        confidence=0.95,
        engine="scripted",
    )


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every address a socket tries to reach during the test (observed, then connected as usual)."""
    seen: list = []
    connect = socket.socket.connect

    def watched(self: socket.socket, address) -> None:
        seen.append(address)
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", watched)
    return seen


def test_examples_carry_inputs_gold_and_metadata() -> None:
    rows = load_rows(DATASET, "tune")[:2]
    examples = to_examples(rows)
    assert [e.metadata["id"] for e in examples] == [r.id for r in rows]
    assert "gold" not in examples[0].inputs and examples[0].inputs["note"] == rows[0].note
    assert examples[0].outputs["lines"][0]["code"] == rows[0].gold.lines[0].code
    assert to_examples(rows)[0].id == examples[0].id  # stable ids


def test_offline_evaluate_stays_on_loopback_and_is_fast(connections: list) -> None:
    rows = load_rows(DATASET, "tune")[:4]
    coder = ScriptedCoder({row.note: gold_suggestion(row) for row in rows[:2]})
    started = time.perf_counter()
    means = run_langsmith_eval(rows, coder)
    assert time.perf_counter() - started < 10
    assert means["line_f1"] == pytest.approx(0.5)  # 2 notes perfect, 2 with nothing
    assert means["icd_f1"] == pytest.approx(0.5)
    assert means["auto_draft"] == pytest.approx(0.5)
    assert means["invalid_codes"] == 0
    assert set(means) == {"line_f1", "code_f1", "icd_f1", "laterality_errors", "invalid_codes", "auto_draft"}
    assert len(EVALUATORS) == len(means)
    assert all(address[0] in {"127.0.0.1", "::1"} for address in connections if isinstance(address, tuple))


def test_evaluator_scores_a_perfect_run_as_one() -> None:
    row = load_rows(DATASET, "tune")[0]
    example = to_examples([row])[0]
    run = type("Run", (), {"outputs": {"id": row.id, **gold_suggestion(row).model_dump(mode="json")}})()
    assert line_f1(run, example) == {"key": "line_f1", "score": 1.0}
