"""The appeal-success model against the rules baseline on a generated practice, and its versioned files."""

from datetime import date

import pytest

from agents.denials.appeal_model import (
    AppealCase,
    AppealModel,
    RulesBaseline,
    appeal_history,
    evaluate,
    load_appeal_scorer,
    split_by_time,
    train_and_save,
    versions,
)
from billing.settings import Settings
from evals.appeals import DatasetSource
from knowledge.codes.adjustments import DenialCategory
from sandbox.generator import generate_dataset

# Big enough that the held-out latest 30% of decided appeals is a real sample, not a handful.
PATIENTS = 2000


@pytest.fixture(scope="module")
def history() -> list[AppealCase]:
    return appeal_history(DatasetSource(generate_dataset(7, PATIENTS)))


def test_history_reads_every_appeal_on_a_denied_line(history: list[AppealCase]) -> None:
    assert len(history) >= 40
    assert [c.filed_on for c in history] == sorted(c.filed_on for c in history)
    assert {c.won for c in history} == {True, False, None}
    assert all(c.category is not DenialCategory.CONTRACTUAL and c.carc for c in history)
    assert any(c.service_documented for c in history) and any(not c.service_documented for c in history)


def test_the_time_split_keeps_later_appeals_for_testing(history: list[AppealCase]) -> None:
    train, test, cut = split_by_time(history)
    assert cut is not None and train and test
    assert max(c.filed_on for c in train) < cut <= min(c.filed_on for c in test)
    assert all(c.won is not None for c in train + test)


def test_the_model_beats_the_rules_baseline_on_the_held_out_appeals(history: list[AppealCase]) -> None:
    evaluation = evaluate(history)
    assert evaluation.test_appeals >= 60
    assert min(evaluation.test_won, evaluation.test_appeals - evaluation.test_won) >= 15
    assert evaluation.model_auc is not None and evaluation.baseline_auc is not None
    assert evaluation.model_auc > 0.6
    assert evaluation.model_auc > evaluation.baseline_auc


def test_models_are_saved_as_versions_and_the_baseline_scores_until_then(
    settings: Settings, history: list[AppealCase]
) -> None:
    case = history[0]
    assert isinstance(load_appeal_scorer(settings), RulesBaseline)
    assert load_appeal_scorer(settings).score(case).source == "rules@1"
    first, _ = train_and_save(settings, history)
    second, evaluation = train_and_save(settings, history)
    assert (first, second) == ("v1", "v2") and versions(settings) == [1, 2]
    assert (settings.models_dir / "appeals" / "v2.json").is_file()
    scorer = load_appeal_scorer(settings)
    assert isinstance(scorer, AppealModel)
    score = scorer.score(case)
    assert score.source == "model@v2" and 0 <= score.score <= 1
    assert evaluation.decided_appeals == sum(c.won is not None for c in history)


def test_training_needs_both_outcomes() -> None:
    case = AppealCase(
        claim_id="c",
        line_number=1,
        filed_on=date(2025, 1, 1),
        won=True,
        category=DenialCategory.CODING,
        group="CO",
        carc="16",
        code="92014",
    )
    with pytest.raises(ValueError, match="both won and lost"):
        AppealModel.fit([case, case])
