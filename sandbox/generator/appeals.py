"""Appeals the office files on appealable denials and how they ended: record, rule, payer and delay decide."""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from billing.claims import ClaimStatus, ClaimStatusEvent
from sandbox.dataset import Appeal
from sandbox.generator.adjudication import AdjudicatedClaim, LineResult
from sandbox.generator.claims import at
from sandbox.generator.payers import EYEMED, MEDICAID, MEDICARE, MEDICARE_ADVANTAGE, VSP


@dataclass(frozen=True)
class AppealPolicy:
    """How often the office appeals a denial rule, the odds of winning with a record that supports the line."""

    chance: float
    win: float
    reason: str
    record_matters: bool = True


# Billing offices appeal most medical-necessity, bundling, modifier and authorization denials; few
# eligibility or timely-filing ones, which rarely turn over.
APPEAL_POLICY: dict[str, AppealPolicy] = {
    "noise": AppealPolicy(0.9, 0.85, "Medical necessity documented in the exam note; records attached"),
    "frequency_limit": AppealPolicy(
        0.85, 0.6, "Change in clinical status justified repeat testing; records attached"
    ),
    "diagnosis_inconsistent": AppealPolicy(
        0.9, 0.55, "Covered diagnosis documented for the test; records attached"
    ),
    "laterality_mismatch": AppealPolicy(0.9, 0.6, "Laterality documented in the exam note; records attached"),
    "missing_prior_auth": AppealPolicy(
        0.9, 0.35, "Request for retro-authorization; urgent specialty lens need"
    ),
    "missing_modifier_25": AppealPolicy(
        0.9, 0.6, "Separately identifiable problem documented; note attached"
    ),
    "ncci_conflict": AppealPolicy(
        0.85, 0.5, "Distinct procedure on a separate site documented; note attached"
    ),
    "missing_modifier": AppealPolicy(0.9, 0.55, "Eye treated documented in the exam note; records attached"),
    "wrong_modifier": AppealPolicy(0.85, 0.5, "Test performed on both eyes as documented; records attached"),
    "new_patient_rule": AppealPolicy(
        0.7, 0.35, "No professional service from this group in three years", False
    ),
    "routine_exam_medical_plan": AppealPolicy(
        0.4, 0.25, "Medical complaint documented as the reason for visit"
    ),
    "timely_filing": AppealPolicy(
        0.5, 0.15, "Proof of timely original submission (clearinghouse report)", False
    ),
    "eligibility": AppealPolicy(0.4, 0.08, "Patient presented active card at visit", False),
}
# Whole-claim denials are appealed once, on the first line.
CLAIM_LEVEL_RULES = frozenset({"timely_filing", "eligibility"})
# Log-odds shifts: where the record is the argument, one that does not support the line rarely wins (a
# new-patient, timely-filing or eligibility appeal turns on dates, not the note); payers differ in how often their
# reviewers overturn; every day the appeal sits costs a little (stale records, missed windows).
WEAK_RECORD_LOGIT = -2.5
PAYER_LOGIT = {
    MEDICARE: 0.8,
    MEDICARE_ADVANTAGE: -0.8,
    MEDICAID: -1.0,
    "pay-evergreen": 0.8,
    "pay-columbia": 0.3,
    "pay-summit": -1.2,
    VSP: -0.8,
    EYEMED: -1.2,
}
PROMPT_DAYS = 14
LOGIT_PER_LATE_DAY = -0.03
NOISE_SD = 0.4
# Days from the remittance to the appeal: most within a month, some close to the payer's limit.
FILING_DAYS = (5, 120, 12)
DECISION_DAYS = (20, 60)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def win_probability(
    policy: AppealPolicy, *, documented: bool, payer_id: str, delay_days: int, noise: float
) -> float:
    logit = _logit(policy.win) + PAYER_LOGIT.get(payer_id, 0.0) + noise
    logit += LOGIT_PER_LATE_DAY * max(delay_days - PROMPT_DAYS, 0)
    if policy.record_matters and not documented:
        logit += WEAK_RECORD_LOGIT
    return 1 / (1 + math.exp(-logit))


def _appealable(item: AdjudicatedClaim) -> list[LineResult]:
    denied = [r for r in item.lines if r.outcome.status == "denied" and r.outcome.rule in APPEAL_POLICY]
    if denied and denied[0].outcome.rule in CLAIM_LEVEL_RULES:
        return denied[:1]
    return denied


def file_appeals(
    rng: random.Random,
    adjudicated: list[AdjudicatedClaim],
    intended_codes: dict[str, set[str]],
    through: date,
) -> list[Appeal]:
    """One appeal per appealable denied line the office chose to fight, filed together per claim."""
    appeals: list[Appeal] = []
    for item in adjudicated:
        lines = [r for r in _appealable(item) if rng.random() < APPEAL_POLICY[r.outcome.rule].chance]
        if not lines:
            continue
        delay = round(rng.triangular(*FILING_DAYS))
        filed = item.paid_on + timedelta(days=delay)
        if filed > through:
            continue
        decided = filed + timedelta(days=rng.randint(*DECISION_DAYS))
        claim_appeals: list[Appeal] = []
        for result in lines:
            policy = APPEAL_POLICY[result.outcome.rule]
            documented = result.line.code in intended_codes.get(item.claim.encounter_id, set())
            chance = win_probability(
                policy,
                documented=documented,
                payer_id=item.claim.payer_id,
                delay_days=delay,
                noise=rng.gauss(0, NOISE_SD),
            )
            won = rng.random() < chance
            outcome = "pending" if decided > through else ("won" if won else "lost")
            claim_appeals.append(
                Appeal(
                    id=f"apl-{len(appeals) + len(claim_appeals) + 1:05d}",
                    claim_id=item.claim.id,
                    line_number=result.line.line_number,
                    filed_on=filed,
                    reason=policy.reason,
                    outcome=outcome,
                    decided_on=None if outcome == "pending" else decided,
                )
            )
        appeals += claim_appeals
        _record(item, claim_appeals)
    return appeals


def _record(item: AdjudicatedClaim, appeals: list[Appeal]) -> None:
    claim, first = item.claim, appeals[0]
    claim.history.append(
        ClaimStatusEvent(status=ClaimStatus.APPEALED, at=at(first.filed_on, 11), note=first.reason)
    )
    claim.status = ClaimStatus.APPEALED
    if first.decided_on is None:
        return
    won = sum(appeal.outcome == "won" for appeal in appeals)
    status = ClaimStatus.PAID if won else ClaimStatus.CLOSED
    note = (
        f"appeal won on {won} of {len(appeals)} lines; reprocessed for payment"
        if won
        else "appeal denied; denial upheld"
    )
    claim.history.append(ClaimStatusEvent(status=status, at=at(first.decided_on, 14), note=note))
    claim.status = status
