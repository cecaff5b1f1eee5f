"""The claim-scrub evaluation on a synthetic practice: train before a cut date, measure on the later window.

Reports the denial model against the rules baseline (ROC AUC, PR AUC, precision at the 10% review budget,
Brier score and reliability bins), and the flagging bar on the first month of new claims after the cut:
flagged (errors or risk above low) against what the sandbox's payers did, with the misses by payer rule.
"""

from collections import Counter
from datetime import date, timedelta

from pydantic import BaseModel

from agents.risk.model import DenialModel, Example
from agents.risk.training import (
    Evaluation,
    FlagTable,
    LabeledClaim,
    evaluate,
    examples_from,
    flag_table,
    split_by_time,
)
from agents.scrub.facts import ClaimFacts, missing_demographics
from billing.claims import Claim
from knowledge.base import KnowledgeBase
from sandbox.dataset import SyntheticDataset
from tools.crystalpm.models import LineOutcome

MONTH_DAYS = 30
NOISE_RULE = "noise"  # the sandbox's random denials (CARC 16/22/50 drawn by chance): nothing predicts them


def labeled_claims(dataset: SyntheticDataset) -> list[LabeledClaim]:
    """Every adjudicated claim of the dataset with the facts Crystal PM would give the scrubber."""
    payers = {payer.id: payer for payer in dataset.payers}
    provider_npis = {p.id: p.npi for p in dataset.providers}
    practice_npis = {p.id: p.npi for p in dataset.practices}
    patients = {p.id: p for p in dataset.patients}
    coverages: dict[str, list] = {}
    for coverage in dataset.coverages:
        coverages.setdefault(coverage.patient_id, []).append(coverage)
    encounters = {e.id: e for e in dataset.encounters}
    visits: dict[str, list] = {}
    for encounter in dataset.encounters:
        visits.setdefault(encounter.patient_id, []).append(encounter)
    claims_of: dict[str, list[Claim]] = {}
    for claim in dataset.claims:
        claims_of.setdefault(claim.patient_id, []).append(claim)
    outcomes: dict[str, list[LineOutcome]] = {}
    for outcome in dataset.outcomes:
        outcomes.setdefault(outcome.claim_id, []).append(LineOutcome.model_validate(outcome.model_dump()))
    labeled = []
    for claim in sorted(dataset.claims, key=lambda c: (c.date_of_service, c.id)):
        if claim.id not in outcomes:
            continue
        patient = patients[claim.patient_id]
        coverage = next((c for c in coverages.get(claim.patient_id, []) if c.id == claim.coverage_id), None)
        as_of = claim.submitted_on or dataset.generated_through
        encounter = encounters.get(claim.encounter_id)
        dos = claim.date_of_service
        facts = ClaimFacts(
            claim=claim,
            payer=payers.get(claim.payer_id),
            coverage=coverage,
            coverages=coverages.get(claim.patient_id, []),
            patient_age=patient.age_on(dos),
            patient_sex=patient.sex,
            missing_demographics=missing_demographics(patient),
            member_id=coverage.member_id if coverage else "",
            provider_npi=provider_npis.get(claim.provider_id),
            practice_npi=practice_npis.get(claim.practice_id),
            encounter_place_of_service=encounter.place_of_service if encounter else None,
            visit_dates=[
                v.date_of_service
                for v in visits.get(claim.patient_id, [])
                if v.practice_id == claim.practice_id and v.date_of_service < dos
            ],
            other_claims=[
                other
                for other in claims_of[claim.patient_id]
                if other.id != claim.id
                and other.submitted_on is not None
                and (other.submitted_on, other.id) < (as_of, claim.id)
            ],
            as_of=as_of,
        )
        labeled.append(LabeledClaim(facts=facts, outcomes=outcomes[claim.id]))
    return labeled


class MonthBar(BaseModel):
    """The flagging bar on one month of new claims: >= 90% of denials flagged, <= 10% of paid ones."""

    start: str
    end: str
    claims: int
    model: FlagTable
    baseline: FlagTable
    model_without_noise: FlagTable
    missed_by_rule: dict[str, int]
    denied_by_rule: dict[str, int]


class ScrubEvalReport(BaseModel):
    patients: int
    seed: int
    claims: int
    denied: int
    cut_date: str
    train_claims: int
    test_claims: int
    holdout: Evaluation
    month: MonthBar
    thresholds: dict[str, float]


def _rules(example: Example) -> list[str]:
    return [rule for rule in example.extra.get("denial_rules", "").split(",") if rule]


def month_bar(model: DenialModel, examples: list[Example], start: date) -> MonthBar:
    end = start + timedelta(days=MONTH_DAYS)
    month = [ex for ex in examples if start.isoformat() <= ex.date_of_service < end.isoformat()]
    scores = model.predict(model.rows(month)) if month else []
    flagged = [ex.has_error or model.band(float(s)) != "low" for ex, s in zip(month, scores, strict=True)]
    labels = [ex.denied for ex in month]
    predictable = [not (ex.denied and set(_rules(ex)) == {NOISE_RULE}) for ex in month]
    missed, denied = Counter(), Counter()
    for ex, was_flagged in zip(month, flagged, strict=True):
        for rule in _rules(ex):
            denied[rule] += 1
            missed[rule] += not was_flagged
    return MonthBar(
        start=start.isoformat(),
        end=end.isoformat(),
        claims=len(month),
        model=flag_table(flagged, labels),
        baseline=flag_table([ex.has_error for ex in month], labels),
        model_without_noise=flag_table(
            [f for f, keep in zip(flagged, predictable, strict=True) if keep],
            [y for y, keep in zip(labels, predictable, strict=True) if keep],
        ),
        missed_by_rule={rule: n for rule, n in sorted(missed.items()) if n},
        denied_by_rule=dict(sorted(denied.items())),
    )


def run_scrub_eval(
    dataset: SyntheticDataset, kb: KnowledgeBase, *, holdout_fraction: float = 0.2, seed: int = 0
) -> ScrubEvalReport:
    examples = examples_from(labeled_claims(dataset), kb)
    train, test, cut = split_by_time(examples, holdout_fraction)
    model = DenialModel.fit(train, seed=seed)
    return ScrubEvalReport(
        patients=len(dataset.patients),
        seed=dataset.seed,
        claims=len(examples),
        denied=sum(ex.denied for ex in examples),
        cut_date=cut,
        train_claims=len(train),
        test_claims=len(test),
        holdout=evaluate(model, test),
        month=month_bar(model, test, date.fromisoformat(cut)),
        thresholds={"medium": round(model.medium, 4), "high": round(model.high, 4)},
    )
