"""Managed-care contracts and their fee schedules."""

from datetime import date

from pydantic import BaseModel, Field

from billing.money import Money


class FeeScheduleEntry(BaseModel):
    code: str
    modifier: str = ""
    amount: Money


class Contract(BaseModel):
    id: str
    practice_id: str
    payer_id: str
    plan_name: str = ""
    effective: date
    termination: date | None = None
    basis: str = Field("fee_schedule", description="fee_schedule | percent_of_medicare | percent_of_charges")
    percent: float | None = Field(None, description="Percent of Medicare or of billed charges")
    fee_schedule: list[FeeScheduleEntry] = Field(default_factory=list)
    timely_filing_days: int = 365
    appeal_days: int = 180
    mppr_diagnostic: bool = True
    prior_auth_codes: list[str] = Field(default_factory=list)
    terms_text: str = ""
