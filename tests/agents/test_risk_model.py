"""The denial model on a generated practice: it beats the rules baseline on PR AUC in a later time window,
its files are versioned, and every score names its version and its factors in words."""

import numpy as np
import pytest

from agents.risk.baseline import NO_MODEL, RulesBaseline
from agents.risk.model import DenialModel, Example
from agents.risk.rates import PayerCodeRates
from agents.risk.store import latest_metadata, load_latest, load_risk_scorer, save_model, versions
from agents.risk.training import LabeledClaim, evaluate, examples_from, split_by_time
from agents.scrub.checks import find_problems
from agents.scrub.facts import claim_input_for
from billing.settings import Settings
from evals.scrub import labeled_claims
from knowledge.base import KnowledgeBase, load_knowledge
from sandbox.generator import generate_dataset


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("kb") / "var"))


@pytest.fixture(scope="module")
def labeled() -> list[LabeledClaim]:
    return labeled_claims(generate_dataset(7, 600))


@pytest.fixture(scope="module")
def examples(labeled: list[LabeledClaim], kb: KnowledgeBase) -> list[Example]:
    return examples_from(labeled, kb)


def test_model_beats_rules_baseline_on_a_later_window(examples: list[Example]) -> None:
    train, test, cut = split_by_time(examples, 0.2)
    assert max(ex.date_of_service for ex in train) < cut <= min(ex.date_of_service for ex in test)
    assert sum(ex.denied for ex in test) >= 15, "the window must hold enough denials to compare on"
    result = evaluate(DenialModel.fit(train), test)
    assert result.model.pr_auc is not None and result.baseline.pr_auc is not None
    assert result.model.pr_auc > result.baseline.pr_auc
    assert result.model.brier < result.baseline.brier
    assert sum(b.claims for b in result.model.reliability) == len(test)
    # The flag thresholds keep the review queue's share of paid claims under the 10% bar.
    assert result.model_flags.paid_flagged_rate <= 0.10


def test_model_files_are_versioned_and_scores_name_their_version(
    settings: Settings, examples: list[Example], labeled: list[LabeledClaim], kb: KnowledgeBase
) -> None:
    assert isinstance(load_risk_scorer(settings), RulesBaseline)
    model = DenialModel.fit(examples)
    assert save_model(settings, model, {"claims": len(examples)}) == "v1"
    assert save_model(settings, model, {"claims": len(examples)}) == "v2"
    assert versions(settings) == [1, 2]
    assert latest_metadata(settings)["version"] == "v2"
    loaded = load_latest(settings)
    assert loaded is not None and loaded.version == "v2"

    denied = next(
        item for item in labeled if any(o.status == "denied" and o.group != "PR" for o in item.outcomes)
    )
    claim = claim_input_for(denied.facts)
    findings = find_problems(claim, kb, denied.facts)
    score = load_risk_scorer(settings).score(claim, findings, denied.facts)
    assert (score.model, score.version) == ("denials", "v2")
    assert 0.0 <= score.score <= 1.0 and score.band in ("low", "medium", "high")
    assert score.factors and all(isinstance(f, str) and f and "=" not in f for f in score.factors)


def test_baseline_says_it_is_the_baseline(labeled: list[LabeledClaim], kb: KnowledgeBase) -> None:
    item = labeled[0]
    claim = claim_input_for(item.facts)
    score = RulesBaseline().score(claim, find_problems(claim, kb, item.facts), item.facts)
    assert score.model == "rules-baseline" and NO_MODEL in score.factors


def test_payer_code_rates_shrink_rare_pairs_toward_the_code_rate() -> None:
    lines = [("A", "92250", False)] * 90 + [("A", "92250", True)] * 10 + [("B", "92250", True)]
    rates = PayerCodeRates(smoothing=10).fit(lines)
    assert rates.counts("A", "92250") == (100, 10)
    assert rates.rate("B", "92250") < 1.0  # one denial out of one line is not a 100% rate
    assert rates.rate("B", "92250") > rates.code_rate("92250")
    assert np.isclose(rates.rate("C", "92250"), rates.code_rate("92250"))
