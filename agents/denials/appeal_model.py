"""Appeal-success scoring: a scikit-learn model trained on the practice's appeal history, and the rules baseline.

History comes from Crystal PM (appeals, their claims, the denied line's codes, the note). Evaluation splits by
time (the oldest appeals train, the latest are held out) and reports ROC AUC of the model and of the baseline on
the same held-out appeals. Models are versioned files: <models_dir>/appeals/v<N>.joblib beside v<N>.json.
"""

import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
import sklearn
from pydantic import BaseModel, Field
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from agents.appeals.facts import clinical_facts, documentation_signals
from agents.denials.schemas import AppealScore
from agents.denials.triage import appeal_prior
from billing.claims import Claim, ClaimStatus
from billing.encounters import ClinicalNote
from billing.money import ZERO, Money
from billing.practice import Payer
from billing.settings import Settings
from knowledge.codes.adjustments import DenialCategory, categorize_denial
from tools.crystalpm.models import Appeal, LineOutcome

BASELINE_VERSION = "rules@1"
REGULARIZATION_C = 0.5
HOLDOUT_FRACTION = 0.3
MODEL_FILE = re.compile(r"^v(\d+)\.joblib$")
LCD_REMARKS = frozenset({"N115", "N386"})
# The baseline's only adjustments to its category prior: a late appeal and a weak record both cut the odds.
LATE_APPEAL_DAYS = 90
LATE_FACTOR = 0.7
UNDOCUMENTED_FACTOR = 0.5
DENIED_STATUSES = frozenset({ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID})


class AppealHistorySource(Protocol):
    """What training reads from Crystal PM (a subset of tools.crystalpm.CrystalPM)."""

    def iter_appeals(
        self, practice_id: str | None = None, *, claim_id: str | None = None
    ) -> Iterable[Appeal]: ...
    def get_claim(self, claim_id: str) -> Claim: ...
    def get_claim_outcome(self, claim_id: str) -> list[LineOutcome]: ...
    def get_note(self, encounter_id: str) -> ClinicalNote: ...
    def list_payers(self) -> list[Payer]: ...


class AppealCase(BaseModel):
    """One denied line as the model sees it; `won` is None for an appeal still pending (or a line to score)."""

    claim_id: str
    line_number: int
    filed_on: date = Field(description="when the appeal went out (or would): the time-split key")
    won: bool | None = None
    category: DenialCategory
    group: str
    carc: str
    rarcs: list[str] = Field(default_factory=list)
    payer_id: str = ""
    payer_kind: str = ""
    code: str
    amount: Money = ZERO
    days_since_denial: int = 0
    service_documented: bool = False
    diagnosis_documented: bool = False


def case_features(case: AppealCase) -> dict[str, float | str]:
    """The model's inputs: denial category and codes, payer, code family, amount, timing, documentation."""
    return {
        "category": case.category.value,
        "carc": f"{case.group}-{case.carc}",
        "payer": case.payer_id,
        "payer_kind": case.payer_kind,
        "family": case.code[:3],
        "log_amount": math.log1p(float(case.amount)),
        "months_since_denial": case.days_since_denial / 30,
        "service_documented": float(case.service_documented),
        "diagnosis_documented": float(case.diagnosis_documented),
        "lcd_remark": float(bool(LCD_REMARKS & set(case.rarcs))),
    }


def _factors(case: AppealCase) -> list[str]:
    factors = [
        "the note documents the service" if case.service_documented else "the note does not show the service",
    ]
    if case.diagnosis_documented:
        factors.append("the note documents a billed diagnosis")
    if LCD_REMARKS & set(case.rarcs):
        factors.append("decided under a coverage determination: cite its criteria")
    if case.days_since_denial > LATE_APPEAL_DAYS:
        factors.append(f"{case.days_since_denial} days since the denial")
    return factors


class RulesBaseline:
    """The category's prior appeal-success rate, cut for a late appeal or a record that does not show the service."""

    name = "rules-baseline"
    version = BASELINE_VERSION

    def probability(self, case: AppealCase) -> float:
        score = appeal_prior(case.category)
        if case.days_since_denial > LATE_APPEAL_DAYS:
            score *= LATE_FACTOR
        if not case.service_documented:
            score *= UNDOCUMENTED_FACTOR
        return score

    def score(self, case: AppealCase) -> AppealScore:
        return AppealScore(
            score=round(self.probability(case), 4),
            source=self.version,
            factors=[*_factors(case), "no appeal model trained yet: rules baseline"],
        )


class AppealModel:
    """Logistic regression over one-hot denial, payer and code features plus amount, timing and documentation."""

    name = "appeals"

    def __init__(self, pipeline: Pipeline, version: str = "unsaved") -> None:
        self.pipeline = pipeline
        self.version = version

    @classmethod
    def fit(cls, cases: Sequence[AppealCase]) -> "AppealModel":
        labels = [bool(case.won) for case in cases]
        if len(set(labels)) < 2:
            raise ValueError("training needs both won and lost appeals")
        pipeline = Pipeline(
            [
                ("vectorize", DictVectorizer(sparse=True)),
                ("scale", MaxAbsScaler()),
                (
                    "classify",
                    LogisticRegression(C=REGULARIZATION_C, class_weight="balanced", solver="liblinear"),
                ),
            ]
        )
        pipeline.fit([case_features(case) for case in cases], labels)
        return cls(pipeline)

    def probabilities(self, cases: Sequence[AppealCase]) -> list[float]:
        if not cases:
            return []
        return [float(p) for p in self.pipeline.predict_proba([case_features(c) for c in cases])[:, 1]]

    def score(self, case: AppealCase) -> AppealScore:
        return AppealScore(
            score=round(self.probabilities([case])[0], 4),
            source=f"model@{self.version}",
            factors=_factors(case),
        )


AppealScorer = AppealModel | RulesBaseline


# History


def _denial_date(claim: Claim, before: date) -> date | None:
    """The last time the claim was marked denied or partly paid on or before `before` (the remittance)."""
    dates = [
        event.at.date()
        for event in claim.history
        if event.status in DENIED_STATUSES and event.at.date() <= before
    ]
    return max(dates, default=None)


def case_for(
    claim: Claim,
    outcome: LineOutcome,
    *,
    filed_on: date,
    note_text: str,
    payer: Payer | None,
    won: bool | None = None,
    denied_on: date | None = None,
    amount: Decimal | None = None,
) -> AppealCase:
    """The model's view of one denied line; documentation signals come from reading the note."""
    line = next((line for line in claim.lines if line.line_number == outcome.line_number), None)
    code = line.code if line else ""
    diagnoses = [
        claim.diagnosis_codes[p - 1]
        for p in (line.diagnosis_pointers if line else [])
        if 0 < p <= len(claim.diagnosis_codes)
    ] or list(claim.diagnosis_codes)
    signals = documentation_signals(clinical_facts(note_text), code, diagnoses) if note_text else None
    denied_on = denied_on or _denial_date(claim, filed_on) or filed_on
    return AppealCase(
        claim_id=claim.id,
        line_number=outcome.line_number,
        filed_on=filed_on,
        won=won,
        category=categorize_denial(outcome.group, outcome.carc, outcome.rarcs),
        group=outcome.group,
        carc=outcome.carc,
        rarcs=outcome.rarcs,
        payer_id=claim.payer_id,
        payer_kind=payer.kind.value if payer else "",
        code=code,
        amount=amount if amount is not None else (line.charge if line else ZERO),
        days_since_denial=max((filed_on - denied_on).days, 0),
        service_documented=bool(signals and signals.service_documented),
        diagnosis_documented=bool(signals and signals.diagnosis_documented),
    )


def appeal_history(source: AppealHistorySource, practice_id: str | None = None) -> list[AppealCase]:
    """Every appeal on a denied line, with its outcome (None while pending), oldest first."""
    payers = {payer.id: payer for payer in source.list_payers()}
    cases: list[AppealCase] = []
    for appeal in source.iter_appeals(practice_id):
        if appeal.line_number is None:
            continue
        claim = source.get_claim(appeal.claim_id)
        outcome = next(
            (o for o in source.get_claim_outcome(claim.id) if o.line_number == appeal.line_number), None
        )
        if outcome is None or not outcome.carc:
            continue
        note_text = source.get_note(claim.encounter_id).text
        won = None if appeal.outcome == "pending" else appeal.outcome == "won"
        cases.append(
            case_for(
                claim,
                outcome,
                filed_on=appeal.filed_on,
                note_text=note_text,
                payer=payers.get(claim.payer_id),
                won=won,
            )
        )
    return sorted(cases, key=lambda case: (case.filed_on, case.claim_id, case.line_number))


# Evaluation and training


class AppealEvaluation(BaseModel):
    """Held-out ROC AUC of the model and the baseline on the same latest appeals."""

    decided_appeals: int
    train_appeals: int
    test_appeals: int
    test_won: int
    cut_date: date | None
    model_auc: float | None
    baseline_auc: float | None
    train_won: int


def split_by_time(
    cases: Sequence[AppealCase], holdout_fraction: float = HOLDOUT_FRACTION
) -> tuple[list[AppealCase], list[AppealCase], date | None]:
    """Decided appeals only: the oldest train, the latest `holdout_fraction` (whole filing days) test."""
    decided = sorted((c for c in cases if c.won is not None), key=lambda c: (c.filed_on, c.claim_id))
    if len(decided) < 2:
        return decided, [], None
    cut = decided[min(int(len(decided) * (1 - holdout_fraction)), len(decided) - 1)].filed_on
    return [c for c in decided if c.filed_on < cut], [c for c in decided if c.filed_on >= cut], cut


def _auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    if len(set(labels)) < 2:
        return None
    return round(float(roc_auc_score(np.asarray(labels), np.asarray(scores))), 4)


def evaluate(cases: Sequence[AppealCase], holdout_fraction: float = HOLDOUT_FRACTION) -> AppealEvaluation:
    """Fit on the older appeals, score the held-out later ones with the model and with the baseline."""
    train, test, cut = split_by_time(cases, holdout_fraction)
    labels = [bool(c.won) for c in test]
    baseline = RulesBaseline()
    try:
        model_scores = AppealModel.fit(train).probabilities(test)
    except ValueError:
        model_scores = []
    return AppealEvaluation(
        decided_appeals=len(train) + len(test),
        train_appeals=len(train),
        test_appeals=len(test),
        test_won=sum(labels),
        train_won=sum(bool(c.won) for c in train),
        cut_date=cut,
        model_auc=_auc(labels, model_scores) if model_scores else None,
        baseline_auc=_auc(labels, [baseline.probability(c) for c in test]),
    )


def model_dir(settings: Settings) -> Path:
    return settings.models_dir / "appeals"


def versions(settings: Settings) -> list[int]:
    folder = model_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for path in folder.iterdir() if (m := MODEL_FILE.match(path.name)))


def train_and_save(settings: Settings, cases: Sequence[AppealCase]) -> tuple[str, AppealEvaluation]:
    """Evaluate on the time split, refit on every decided appeal, write the next version; returns it."""
    evaluation = evaluate(cases)
    model = AppealModel.fit([c for c in cases if c.won is not None])
    folder = model_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    version = f"v{(versions(settings) or [0])[-1] + 1}"
    model.version = version
    meta: dict[str, Any] = {
        "version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn": sklearn.__version__,
        "evaluation": evaluation.model_dump(mode="json"),
    }
    # Metadata first: a reader that finds v<N>.joblib always finds its JSON too.
    (folder / f"{version}.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    joblib.dump(model, folder / f"{version}.joblib")
    return version, evaluation


def load_appeal_scorer(settings: Settings) -> AppealScorer:
    """The latest trained model, or the rules baseline until one is trained."""
    found = versions(settings)
    if not found:
        return RulesBaseline()
    model: AppealModel = joblib.load(model_dir(settings) / f"v{found[-1]}.joblib")
    model.version = f"v{found[-1]}"
    return model
