"""What denial triage reads and returns: denied remittance lines, the decision on each, and the work item."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from agents.scrub.fixes import Fix
from billing.money import ZERO, Money
from billing.remittance import Adjustment
from knowledge.codes.adjustments import DenialCategory


class NextAction(StrEnum):
    CORRECT_AND_RESUBMIT = "correct_and_resubmit"
    APPEAL = "appeal"
    BILL_SECONDARY = "bill_secondary"
    BILL_PATIENT = "bill_patient"
    WRITE_OFF_REVIEW = "write_off_review"


class ReasonCode(BaseModel):
    """A CARC or RARC in words, with the dates of the code list it was read from."""

    code: str
    kind: str = Field(description="CARC | RARC | group")
    description: str
    start: date | None = None
    end: date | None = None
    in_force: bool = Field(
        True, description="valid on the remittance date (False: deactivated or not yet valid)"
    )


class DeniedLine(BaseModel):
    """One service line a remittance denied in whole or in part; ids and codes only, never names."""

    remittance_id: str
    practice_id: str = ""
    claim_id: str = Field(description="CLP01, the practice's claim id")
    line_number: int = Field(description="1-based line of the practice's claim")
    code: str
    modifiers: list[str] = Field(default_factory=list)
    date_of_service: date | None = None
    paid_on: date | None = Field(None, description="the remittance's payment date (the denial date)")
    charge: Money = ZERO
    paid: Money = ZERO
    denied_amount: Money = Field(ZERO, description="sum of the line's non-routine adjustments")
    group: str = Field(description="group code of the main (largest) denial adjustment")
    carc: str
    rarcs: list[str] = Field(default_factory=list)
    adjustments: list[Adjustment] = Field(default_factory=list)
    payer: str = ""
    payer_claim_control_number: str = ""
    claim_status: str = Field("", description="CLP02")
    claim_payment_index: int = Field(
        0, description="0-based claim payment across the remittance's transactions"
    )
    remit_line_index: int | None = Field(None, description="0-based service line of that claim payment")

    @property
    def key(self) -> str:
        return f"{self.claim_id}:{self.line_number}"

    @property
    def fully_denied(self) -> bool:
        return self.paid == ZERO


class DenialContext(BaseModel):
    """What the triage rules need beyond the codes: facts about the claim gathered elsewhere."""

    has_fix: bool = Field(False, description="the validator proposes a fix for this line")
    other_coverage: bool = Field(False, description="another plan of the patient was in force on the date")
    filed_timely: bool | None = Field(None, description="the first submission was within the filing limit")


class DenialDecision(BaseModel):
    """The rules' answer for one denial: category, root cause in our words, what can be done and what to do."""

    category: DenialCategory
    root_cause: str
    correctable: bool
    appealable: bool
    action: NextAction
    action_reason: str
    notes: list[str] = Field(default_factory=list, description="what the remark codes add")


class AppealScore(BaseModel):
    score: float = Field(ge=0, le=1, description="probability the appeal wins")
    source: str = Field(description="'model@v3' or 'rules@1' (the baseline, until a model is trained)")
    factors: list[str] = Field(default_factory=list)


class DenialTriage(BaseModel):
    """The triaged denial: a work item for a person, sorted by expected recoverable dollars."""

    line: DeniedLine
    codes: list[ReasonCode] = Field(description="group, CARC and RARCs in words with their dates")
    category: DenialCategory
    root_cause: str
    correctable: bool
    appealable: bool
    fix: list[Fix] = Field(default_factory=list, description="the validator's proposed edits for this line")
    amount: Money
    next_best_action: NextAction
    action_reason: str
    queue: str
    appeal_score: AppealScore | None = None
    expected_recovery: Money = ZERO
    factors: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return self.line.key
