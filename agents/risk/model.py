"""The denial model: one-hot claim features plus smoothed payer x code rates, logistic regression, calibrated.

Logistic regression keeps each score explainable (a feature's weight times its value is its contribution)
and trains in well under a second on a practice's history; sigmoid calibration makes the score a
probability. Training rows get their payer x code rates out of fold, so a claim never sees its own label.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from agents.risk.explain import top_factors
from agents.risk.features import claim_features, line_codes, payer_key
from agents.risk.rates import PayerCodeRates
from agents.risk.schemas import Band, RiskScore
from agents.scrub.facts import ClaimFacts
from billing.claim_input import ClaimInput
from billing.findings import Finding, Severity

FOLDS = 5
REGULARIZATION_C = 1.0
FLAG_BUDGET = 0.08  # share of paid claims the review queue may see: under the 10% bar, with room


@dataclass
class Example:
    """One adjudicated claim as the model learns from it."""

    features: dict[str, float]
    payer: str
    codes: list[str]
    line_denied: list[bool]
    denied: bool
    has_error: bool
    claim_id: str = ""
    date_of_service: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def example_for(
    claim: ClaimInput, findings: list[Finding], facts: ClaimFacts | None, line_denied: list[bool]
) -> Example:
    return Example(
        features=claim_features(claim, findings, facts),
        payer=payer_key(claim),
        codes=line_codes(claim),
        line_denied=line_denied,
        denied=any(line_denied),
        has_error=any(item.severity is Severity.ERROR for item in findings),
        claim_id=facts.claim.id if facts else "",
        date_of_service=claim.date_of_service.isoformat() if claim.date_of_service else "",
        extra={"practice_id": facts.claim.practice_id} if facts else {},
    )


def with_rates(
    features: dict[str, float], payer: str, codes: list[str], rates: PayerCodeRates
) -> dict[str, float]:
    line_rates = [rates.rate(payer, code) for code in codes] or [rates.payer_rate(payer)]
    return {
        **features,
        "rate_max": max(line_rates),
        "rate_mean": sum(line_rates) / len(line_rates),
        "payer_rate": rates.payer_rate(payer),
    }


def _rates_for(examples: Sequence[Example]) -> PayerCodeRates:
    return PayerCodeRates().fit(
        (ex.payer, code, denied)
        for ex in examples
        for code, denied in zip(ex.codes, ex.line_denied, strict=True)
    )


def _base_pipeline() -> Pipeline:
    return Pipeline(
        [
            ("vectorize", DictVectorizer(sparse=True)),
            ("scale", MaxAbsScaler()),
            ("classify", LogisticRegression(C=REGULARIZATION_C, solver="liblinear")),
        ]
    )


def choose_thresholds(scores: np.ndarray, denied: np.ndarray, has_error: np.ndarray) -> tuple[float, float]:
    """(medium, high): flagging errors or medium-and-up keeps flagged paid claims within FLAG_BUDGET."""
    paid = ~denied
    if not paid.any():
        return 0.5, 0.5
    left = FLAG_BUDGET - float((paid & has_error).sum()) / paid.sum()
    clean_paid = np.sort(scores[paid & ~has_error])
    allowed = int(max(left, 0.0) * paid.sum())
    if allowed <= 0 or len(clean_paid) == 0:
        medium = 1.0
    else:
        medium = float(clean_paid[max(len(clean_paid) - allowed, 0)])
    return medium, max(medium, 0.5)


class DenialModel:
    """A fitted model: feature weights, calibration, payer x code rates and band thresholds.

    The fitted pipeline is reduced to plain weights (coefficient / the feature's max-abs scale) and the
    sigmoid calibration's (a, b): scoring one claim is then a dict walk, not a chain of sklearn calls.
    """

    name = "denials"

    def __init__(
        self, calibrated: CalibratedClassifierCV, rates: PayerCodeRates, thresholds: tuple[float, float]
    ) -> None:
        fitted = calibrated.calibrated_classifiers_[0]
        pipeline: Pipeline = fitted.estimator
        names = pipeline.named_steps["vectorize"].feature_names_
        scale = pipeline.named_steps["scale"].scale_
        classifier: LogisticRegression = pipeline.named_steps["classify"]
        self.weights = {
            name: float(weight / scale[j])
            for j, (name, weight) in enumerate(zip(names, classifier.coef_[0], strict=True))
        }
        self.intercept = float(classifier.intercept_[0])
        self.calibration = (float(fitted.calibrators[0].a_), float(fitted.calibrators[0].b_))
        self.rates = rates
        self.medium, self.high = thresholds
        self.version = ""

    @classmethod
    def fit(cls, examples: Sequence[Example], *, seed: int = 0) -> "DenialModel":
        if len(examples) < 2 * FOLDS:
            raise ValueError(f"{len(examples)} adjudicated claims are too few to train on (need {2 * FOLDS})")
        labels = np.array([ex.denied for ex in examples])
        if labels.sum() < FOLDS or (~labels).sum() < FOLDS:
            raise ValueError(f"training needs at least {FOLDS} denied and {FOLDS} paid claims")
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
        rows: list[dict[str, float]] = [{} for _ in examples]
        for train_index, test_index in folds.split(np.zeros(len(examples)), labels):
            rates = _rates_for([examples[i] for i in train_index])
            for i in test_index:
                ex = examples[i]
                rows[i] = with_rates(ex.features, ex.payer, ex.codes, rates)
        calibrated = CalibratedClassifierCV(_base_pipeline(), method="sigmoid", cv=FOLDS, ensemble=False)
        held_out = cross_val_predict(calibrated, rows, labels, cv=folds, method="predict_proba")[:, 1]
        has_error = np.array([ex.has_error for ex in examples])
        calibrated.fit(rows, labels)
        return cls(calibrated, _rates_for(examples), choose_thresholds(held_out, labels, has_error))

    def rows(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        return [with_rates(ex.features, ex.payer, ex.codes, self.rates) for ex in examples]

    def predict(self, rows: list[dict[str, float]]) -> np.ndarray:
        a, b = self.calibration
        logits = np.array(
            [
                self.intercept + sum(self.weights.get(name, 0.0) * value for name, value in row.items())
                for row in rows
            ]
        )
        return expit(-(a * logits + b))

    def band(self, score: float) -> Band:
        if score >= self.high:
            return "high"
        return "medium" if score >= self.medium else "low"

    def contributions(self, row: dict[str, float]) -> list[tuple[str, float]]:
        """Each present feature's weight x value in the logistic model (its push on the log-odds)."""
        return [(name, self.weights[name] * value) for name, value in row.items() if name in self.weights]

    def score(self, claim: ClaimInput, findings: list[Finding], facts: ClaimFacts | None = None) -> RiskScore:
        row = with_rates(
            claim_features(claim, findings, facts), payer_key(claim), line_codes(claim), self.rates
        )
        score = float(self.predict([row])[0])
        factors = top_factors(self.contributions(row), claim, findings, facts, self.rates)
        return RiskScore(
            score=round(score, 4),
            band=self.band(score),
            factors=factors,
            model=self.name,
            version=self.version,
        )
