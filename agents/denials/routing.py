"""Work-queue routing of triaged denials: by next action and category, then by amount (thresholds in Settings)."""

from decimal import Decimal

from agents.denials.schemas import NextAction
from billing.practice import Role
from billing.settings import Settings
from knowledge.codes.adjustments import DenialCategory

# Coding problems go to coders; everything else is billing work.
CODING_CATEGORIES = frozenset({DenialCategory.CODING, DenialCategory.MODIFIER, DenialCategory.BUNDLING})
ACCESS_CATEGORIES = frozenset({DenialCategory.ELIGIBILITY, DenialCategory.COB})
HIGH_VALUE_SUFFIX = ":high_value"
SMALL_BALANCE_QUEUE = "small_balance_review"

QUEUE_ROLES: dict[str, Role] = {
    "coding_corrections": Role.CODER,
    "claim_corrections": Role.BILLER,
    "eligibility": Role.BILLER,
    "appeals": Role.BILLER,
    "secondary_billing": Role.BILLER,
    "patient_billing": Role.BILLER,
    "write_off_review": Role.BILLER,
    SMALL_BALANCE_QUEUE: Role.BILLER,
}


def base_queue(category: DenialCategory, action: NextAction) -> str:
    if action is NextAction.CORRECT_AND_RESUBMIT:
        if category in CODING_CATEGORIES:
            return "coding_corrections"
        return "eligibility" if category in ACCESS_CATEGORIES else "claim_corrections"
    return {
        NextAction.APPEAL: "appeals",
        NextAction.BILL_SECONDARY: "secondary_billing",
        NextAction.BILL_PATIENT: "patient_billing",
        NextAction.WRITE_OFF_REVIEW: "write_off_review",
    }[action]


def route(category: DenialCategory, action: NextAction, amount: Decimal, settings: Settings) -> str:
    """The queue name: `<queue>`, `<queue>:high_value` at or above the high-value threshold, or the
    small-balance review queue for write-offs below the small-balance threshold."""
    queue = base_queue(category, action)
    if amount >= settings.denial_high_value_threshold:
        return queue + HIGH_VALUE_SUFFIX
    if action is NextAction.WRITE_OFF_REVIEW and amount < settings.denial_small_balance_threshold:
        return SMALL_BALANCE_QUEUE
    return queue


def queue_role(queue: str) -> Role:
    """Who works the queue (the Crystal PM task's assigned role)."""
    return QUEUE_ROLES.get(queue.removesuffix(HIGH_VALUE_SUFFIX), Role.BILLER)
