"""Claims sent to payers, their lines and status history."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from billing.money import ZERO, Money


class ClaimStatus(StrEnum):
    READY = "ready"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    CLOSED = "closed"


class ClaimLine(BaseModel):
    line_number: int
    code: str
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    units: int = 1
    diagnosis_pointers: list[int] = Field(default_factory=list)
    charge: Money = ZERO
    date_of_service: date | None = None


class ClaimStatusEvent(BaseModel):
    status: ClaimStatus
    at: datetime
    note: str = ""


class Claim(BaseModel):
    id: str
    practice_id: str
    patient_id: str
    encounter_id: str
    provider_id: str
    payer_id: str
    coverage_id: str
    date_of_service: date
    place_of_service: str = "11"
    diagnosis_codes: list[str] = Field(default_factory=list, max_length=12)
    lines: list[ClaimLine] = Field(default_factory=list)
    status: ClaimStatus = ClaimStatus.READY
    history: list[ClaimStatusEvent] = Field(default_factory=list)
    submitted_on: date | None = None
    payer_claim_control_number: str = ""
    prior_auth_number: str = ""
    frequency_code: str = Field("1", description="1 original, 7 replacement, 8 void")

    @property
    def total_charge(self) -> Money:
        return sum((line.charge * 1 for line in self.lines), ZERO)
