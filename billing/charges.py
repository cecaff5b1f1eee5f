"""Charges: what a visit is billed as, before it becomes a claim."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from billing.money import ZERO, Money


class ChargeStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    VOID = "void"


class ChargeLine(BaseModel):
    code: str = Field(description="CPT or HCPCS code")
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    units: int = Field(1, ge=0)
    diagnosis_pointers: list[int] = Field(
        default_factory=list, description="1-based into Charge.diagnosis_codes"
    )
    fee: Money = ZERO


class Charge(BaseModel):
    id: str = ""
    practice_id: str
    encounter_id: str
    patient_id: str
    provider_id: str = ""
    diagnosis_codes: list[str] = Field(default_factory=list, max_length=12)
    lines: list[ChargeLine] = Field(default_factory=list)
    status: ChargeStatus = ChargeStatus.DRAFT
    source: str = Field("manual", description="manual | ai_suggested | historical")
    created_at: datetime | None = None
    note: str = ""

    def line_diagnoses(self, line: ChargeLine) -> list[str]:
        return [
            self.diagnosis_codes[p - 1] for p in line.diagnosis_pointers if 0 < p <= len(self.diagnosis_codes)
        ]
