"""Crystal PM answers with no billing/ model: remittance files, outcomes, appeals, appointments, webhooks."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from billing.claims import ClaimLine
from billing.money import Money


class RemittanceFileInfo(BaseModel):
    """An 835 file Crystal PM received from the clearinghouse; `x12` is filled only when fetched by id."""

    id: str
    practice_id: str
    payer_id: str
    received_on: date
    filename: str
    claim_ids: list[str] = Field(default_factory=list)
    x12: str | None = Field(None, repr=False)


class LineOutcome(BaseModel):
    """How the payer adjudicated one claim line."""

    claim_id: str
    line_number: int
    status: Literal["paid", "denied", "reduced"]
    group: str = ""
    carc: str = ""
    rarcs: list[str] = Field(default_factory=list)
    allowed: Money | None = None
    paid: Money | None = None
    rule: str = ""


class Appeal(BaseModel):
    id: str
    claim_id: str
    line_number: int | None = None
    filed_on: date
    reason: str
    outcome: Literal["won", "lost", "pending"]
    decided_on: date | None = None


class Appointment(BaseModel):
    id: str
    practice_id: str
    patient_id: str
    provider_id: str
    scheduled_for: date
    procedure_code: str = ""
    reason: str = ""


class ClaimEdit(BaseModel):
    """A change to a claim; fields left None stay as they are, and `note` says why for the claim history."""

    lines: list[ClaimLine] | None = None
    diagnosis_codes: list[str] | None = Field(None, max_length=12)
    coverage_id: str | None = None
    note: str


class WebhookSubscription(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool = True


class WebhookDelivery(BaseModel):
    event_id: str
    url: str
    attempts: int
    status: str
    last_status_code: int | None = None
    last_error: str | None = None


class Health(BaseModel):
    status: str
