"""The variance models: a classified remittance line, the options, and the refund and dispute drafts."""

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from billing.money import ZERO, Money

VarianceKind = Literal[
    "ok",
    "underpaid",
    "overpaid",
    "wrong_fee_schedule_year",
    "reduction_misapplied",
    "cost_share_misapplied",
    "denied_but_covered",
    "expected_denial",
    "unpriced",
    "unmatched",
]
UNDERPAID_KINDS: frozenset[str] = frozenset(
    {"underpaid", "wrong_fee_schedule_year", "reduction_misapplied", "cost_share_misapplied"}
)


class VarianceOptions(BaseModel):
    tolerance: Money = Field(Decimal("0.50"), description="Dollars of difference still counted as ok")
    tolerance_pct: Decimal = Field(
        Decimal(1), description="Percent of the expected amount still counted as ok"
    )
    min_dispute_amount: Money = Field(Decimal("5.00"), description="Smaller shortfalls are not disputed")
    refund_days: int = Field(
        60, description="Days to return an identified overpayment (Medicare's 60-day rule)"
    )
    medicare_rules: bool = Field(
        True,
        description="A contract that sets no multiple-procedure rule follows Medicare's (MULT PROC 2/3: 100/50)",
    )


class CostShareFacts(BaseModel):
    """The patient's plan cost share, from Crystal PM's coverage record (or the contract's terms)."""

    coinsurance_pct: Decimal = Decimal(0)
    copay: Money = ZERO


class LineVariance(BaseModel):
    id: str = Field(description="'<remittance>:<claim>:<line>', stable across re-runs")
    practice_id: str
    payer_id: str
    contract_id: str
    remittance_id: str
    claim_id: str
    payer_claim_control_number: str = ""
    line_number: int
    code: str
    modifiers: list[str] = Field(default_factory=list)
    date_of_service: date | None = None
    charge: Money = ZERO
    expected_allowed: Money = ZERO
    actual_allowed: Money = ZERO
    prior_year_allowed: Money | None = None
    expected_paid: Money = ZERO
    actual_paid: Money = ZERO
    kind: VarianceKind
    amount: Money = Field(ZERO, description="Dollars at stake: the shortfall, or the overpayment")
    explanation: str = ""
    steps: list[str] = Field(default_factory=list)


class DisputeLine(BaseModel):
    line_number: int
    code: str
    kind: str
    expected_allowed: Money
    actual_allowed: Money
    expected_paid: Money
    actual_paid: Money
    amount: Money


class DisputeDraft(BaseModel):
    id: str = Field(description="'dispute:<remittance>:<claim>'")
    practice_id: str
    payer_id: str
    contract_id: str
    claim_id: str
    remittance_id: str
    remittance_reference: str = Field(description="Payer claim number and the payment's trace number")
    amount: Money
    clause: str = Field(description="The contract sentence the expected price comes from")
    clause_term: str = ""
    deadline: date = Field(
        description="Last day to dispute: the payment date plus the contract's appeal days"
    )
    lines: list[DisputeLine]
    summary: str


class RefundDraft(BaseModel):
    id: str = Field(description="'refund:<remittance>:<claim>'")
    practice_id: str
    payer_id: str
    claim_id: str
    remittance_id: str
    remittance_reference: str
    amount: Money
    identified_on: date
    deadline: date
    rule: str
    line_numbers: list[int]
