"""Appeals filed on some denials and how they ended: documented medical necessity wins more often."""

import random
from datetime import date, timedelta

from billing.claims import ClaimStatus, ClaimStatusEvent
from sandbox.dataset import Appeal
from sandbox.generator.adjudication import AdjudicatedClaim
from sandbox.generator.claims import at

# rule -> (chance the office appeals, chance to win when the record supports the service, reason text)
APPEAL_POLICY: dict[str, tuple[float, float, str]] = {
    "noise": (0.7, 0.8, "Medical necessity documented in the exam note; records attached"),
    "frequency_limit": (0.5, 0.6, "Change in clinical status justified repeat testing; records attached"),
    "missing_prior_auth": (0.6, 0.35, "Request for retro-authorization; urgent specialty lens need"),
    "diagnosis_inconsistent": (0.4, 0.5, "Covered diagnosis documented for the test; records attached"),
    "missing_modifier_25": (0.3, 0.55, "Separately identifiable problem documented; note attached"),
    "timely_filing": (0.4, 0.15, "Proof of timely original submission (clearinghouse report)"),
    "eligibility": (0.2, 0.05, "Patient presented active card at visit"),
}
# A weak record (the service was not what the note supports) rarely wins.
WEAK_RECORD_WIN = 0.08


def file_appeals(
    rng: random.Random,
    adjudicated: list[AdjudicatedClaim],
    intended_codes: dict[str, set[str]],
    through: date,
) -> list[Appeal]:
    appeals: list[Appeal] = []
    for item in adjudicated:
        denied = [r for r in item.lines if r.outcome.status == "denied" and r.outcome.rule in APPEAL_POLICY]
        if not denied:
            continue
        first = denied[0]
        appeal_chance, win_chance, reason = APPEAL_POLICY[first.outcome.rule]
        if rng.random() >= appeal_chance:
            continue
        filed = item.paid_on + timedelta(days=rng.randint(7, 45))
        if filed > through:
            continue
        documented = first.line.code in intended_codes.get(item.claim.encounter_id, set())
        decided = filed + timedelta(days=rng.randint(20, 60))
        if decided > through:
            outcome, decided_on = "pending", None
        else:
            won = rng.random() < (win_chance if documented else WEAK_RECORD_WIN)
            outcome, decided_on = ("won" if won else "lost"), decided
        appeal = Appeal(
            id=f"apl-{len(appeals) + 1:05d}",
            claim_id=item.claim.id,
            line_number=first.line.line_number,
            filed_on=filed,
            reason=reason,
            outcome=outcome,
            decided_on=decided_on,
        )
        appeals.append(appeal)
        _record(item, appeal)
    return appeals


def _record(item: AdjudicatedClaim, appeal: Appeal) -> None:
    claim = item.claim
    claim.history.append(
        ClaimStatusEvent(status=ClaimStatus.APPEALED, at=at(appeal.filed_on, 11), note=appeal.reason)
    )
    claim.status = ClaimStatus.APPEALED
    if appeal.decided_on is None:
        return
    status = ClaimStatus.PAID if appeal.outcome == "won" else ClaimStatus.CLOSED
    note = (
        "appeal won; line reprocessed for payment"
        if appeal.outcome == "won"
        else "appeal denied; denial upheld"
    )
    claim.history.append(ClaimStatusEvent(status=status, at=at(appeal.decided_on, 14), note=note))
    claim.status = status
