"""Train and measure the denial model on adjudicated claims: time split, metrics, rules baseline, flag table."""

import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

import numpy as np
from pydantic import BaseModel, Field
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from agents.risk.baseline import CLEAN_SCORE, ERROR_SCORE, WARNING_SCORE
from agents.risk.model import DenialModel, Example, example_for
from agents.scrub.checks import find_problems
from agents.scrub.facts import ClaimFacts, claim_input_for
from agents.scrub.load import FactsLoader
from billing.claims import Claim
from knowledge.base import KnowledgeBase
from knowledge.codes.procedures import get_procedure
from tools.crystalpm import CrystalPM
from tools.crystalpm.models import LineOutcome

REVIEW_BUDGET = 0.10
RELIABILITY_BINS = 10


class LabeledClaim(BaseModel):
    facts: ClaimFacts
    outcomes: list[LineOutcome]


def line_denials(claim: Claim, outcomes: list[LineOutcome]) -> list[bool]:
    """Per claim line: denied with the practice liable (a patient-responsibility denial, PR, is not an error)."""
    denied = {o.line_number for o in outcomes if o.status == "denied" and o.group != "PR"}
    return [line.line_number in denied for line in claim.lines]


def examples_from(labeled: Iterable[LabeledClaim], kb: KnowledgeBase) -> list[Example]:
    examples = []
    for item in labeled:
        if not item.outcomes:
            continue
        claim_input = claim_input_for(item.facts)
        findings = find_problems(claim_input, kb, item.facts)
        example = example_for(
            claim_input, findings, item.facts, line_denials(item.facts.claim, item.outcomes)
        )
        example.extra["denial_rules"] = ",".join(
            sorted({o.rule for o in item.outcomes if o.status == "denied" and o.group != "PR"})
        )
        examples.append(example)
    return examples


def load_labeled_claims(client: CrystalPM, *, practice_id: str | None, today: date) -> Iterator[LabeledClaim]:
    """Adjudicated claims with their line outcomes, through the Crystal PM client (oldest first)."""
    loader = FactsLoader(client, today=today)
    claims = sorted(client.iter_claims(practice_id), key=lambda c: (c.date_of_service, c.id))
    for claim in claims:
        outcomes = client.get_claim_outcome(claim.id)
        if outcomes:
            yield LabeledClaim(facts=loader.facts(claim), outcomes=outcomes)


class ReliabilityBin(BaseModel):
    low: float
    high: float
    claims: int
    mean_score: float | None
    denied_rate: float | None


class Metrics(BaseModel):
    claims: int
    denied: int
    roc_auc: float | None
    pr_auc: float | None
    precision_at_budget: float | None = Field(description="Precision among the top 10% scores")
    brier: float | None
    reliability: list[ReliabilityBin] = Field(default_factory=list)


class FlagTable(BaseModel):
    """Flagged (errors or risk above low) against what the payer did."""

    denied_flagged: int
    denied_passed: int
    paid_flagged: int
    paid_passed: int

    @property
    def denied_caught(self) -> float:
        total = self.denied_flagged + self.denied_passed
        return self.denied_flagged / total if total else 0.0

    @property
    def paid_flagged_rate(self) -> float:
        total = self.paid_flagged + self.paid_passed
        return self.paid_flagged / total if total else 0.0


def metrics(scores: Sequence[float], labels: Sequence[bool]) -> Metrics:
    y, p = np.asarray(labels, dtype=bool), np.asarray(scores, dtype=float)
    both = 0 < y.sum() < len(y)
    top = max(1, round(len(p) * REVIEW_BUDGET))
    order = np.argsort(-p, kind="stable")
    edges = np.linspace(0, 1, RELIABILITY_BINS + 1)
    bins = []
    for low, high in itertools.pairwise(edges):
        inside = (p >= low) & ((p < high) if high < 1 else (p <= high))
        bins.append(
            ReliabilityBin(
                low=round(float(low), 2),
                high=round(float(high), 2),
                claims=int(inside.sum()),
                mean_score=round(float(p[inside].mean()), 4) if inside.any() else None,
                denied_rate=round(float(y[inside].mean()), 4) if inside.any() else None,
            )
        )
    return Metrics(
        claims=len(y),
        denied=int(y.sum()),
        roc_auc=round(float(roc_auc_score(y, p)), 4) if both else None,
        pr_auc=round(float(average_precision_score(y, p)), 4) if both else None,
        precision_at_budget=round(float(y[order[:top]].mean()), 4) if len(y) else None,
        brier=round(float(brier_score_loss(y, p)), 4) if len(y) else None,
        reliability=bins,
    )


def baseline_score(example: Example) -> float:
    if example.has_error:
        return ERROR_SCORE
    return WARNING_SCORE if example.features.get("warnings") else CLEAN_SCORE


def flag_table(flagged: Sequence[bool], labels: Sequence[bool]) -> FlagTable:
    pairs = list(zip(flagged, labels, strict=True))
    return FlagTable(
        denied_flagged=sum(f and d for f, d in pairs),
        denied_passed=sum(not f and d for f, d in pairs),
        paid_flagged=sum(f and not d for f, d in pairs),
        paid_passed=sum(not f and not d for f, d in pairs),
    )


class Evaluation(BaseModel):
    model: Metrics
    baseline: Metrics
    model_flags: FlagTable
    baseline_flags: FlagTable


def evaluate(model: DenialModel, examples: Sequence[Example]) -> Evaluation:
    labels = [ex.denied for ex in examples]
    scores = model.predict(model.rows(examples)) if examples else np.array([])
    return Evaluation(
        model=metrics(scores, labels),
        baseline=metrics([baseline_score(ex) for ex in examples], labels),
        model_flags=flag_table(
            [ex.has_error or model.band(s) != "low" for ex, s in zip(examples, scores, strict=True)], labels
        ),
        baseline_flags=flag_table([ex.has_error for ex in examples], labels),
    )


class TrainingReport(BaseModel):
    claims: int
    denied: int
    cut_date: str = Field(description="Held-out window: claims with a date of service on or after this day")
    train_claims: int
    test_claims: int
    holdout: Evaluation
    thresholds: dict[str, float]
    version: str = ""


def split_by_time(
    examples: Sequence[Example], holdout_fraction: float
) -> tuple[list[Example], list[Example], str]:
    """The oldest claims to train, the latest `holdout_fraction` (whole days) to test."""
    ordered = sorted(examples, key=lambda ex: (ex.date_of_service, ex.claim_id))
    cut = ordered[int(len(ordered) * (1 - holdout_fraction))].date_of_service
    return (
        [ex for ex in ordered if ex.date_of_service < cut],
        [ex for ex in ordered if ex.date_of_service >= cut],
        cut,
    )


def train_denials(
    examples: Sequence[Example], *, holdout_fraction: float = 0.2, seed: int = 0
) -> tuple[DenialModel, TrainingReport]:
    """Measure on the later window with a model fitted on the earlier one, then refit on everything."""
    train, test, cut = split_by_time(examples, holdout_fraction)
    trial = DenialModel.fit(train, seed=seed)
    holdout = evaluate(trial, test)
    final = DenialModel.fit(examples, seed=seed)
    report = TrainingReport(
        claims=len(examples),
        denied=sum(ex.denied for ex in examples),
        cut_date=cut,
        train_claims=len(train),
        test_claims=len(test),
        holdout=holdout,
        thresholds={"medium": round(final.medium, 4), "high": round(final.high, 4)},
    )
    return final, report


def denial_rates(examples: Sequence[Example]) -> list[dict[str, object]]:
    """Claims and denied claims by month, payer and code family (for GET /scrub/denial-rates)."""
    table: dict[tuple[str, str, str, str], list[int]] = {}
    for ex in examples:
        families = {(get_procedure(code).family if get_procedure(code) else "other") for code in ex.codes}
        denied_families = {
            (get_procedure(code).family if get_procedure(code) else "other")
            for code, denied in zip(ex.codes, ex.line_denied, strict=True)
            if denied
        }
        practice = ex.extra.get("practice_id", "")
        for family in families:
            counts = table.setdefault((practice, ex.date_of_service[:7], ex.payer, family), [0, 0])
            counts[0] += 1
            counts[1] += family in denied_families
    return [
        {
            "practice_id": p,
            "month": m,
            "payer": payer,
            "code_family": f,
            "claims": n,
            "denied": d,
            "denial_rate": round(d / n, 4),
        }
        for (p, m, payer, f), (n, d) in sorted(table.items())
    ]
