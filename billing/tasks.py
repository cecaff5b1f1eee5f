"""Work items staff act on in Crystal PM."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from billing.money import Money


class Task(BaseModel):
    id: str = ""
    practice_id: str
    kind: str = Field(description="claim_fix | appeal | dispute | refund | follow_up | posting | prior_auth")
    title: str
    body: str = ""
    claim_id: str | None = None
    patient_id: str | None = None
    amount: Money | None = None
    due: date | None = None
    assigned_role: str = "Biller"
    status: str = "open"
    created_at: datetime | None = None
