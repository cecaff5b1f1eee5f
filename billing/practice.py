"""Who the practice is: practices, providers, patients, payers, coverage, staff users and roles."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from billing.money import ZERO, Money


class PlanKind(StrEnum):
    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    VISION = "vision"


class Role(StrEnum):
    BILLER = "Biller"
    CODER = "Coder"
    ADMIN = "Admin"
    SERVICE = "Service"


class Sex(StrEnum):
    F = "F"
    M = "M"
    U = "U"


class Practice(BaseModel):
    id: str
    name: str
    npi: str = Field(description="Group (billing) NPI")
    tax_id: str = ""
    medicare_locality: str = Field("", description="MAC locality key, e.g. '01112-05'")
    state: str = ""
    place_of_service: str = "11"


class Provider(BaseModel):
    id: str
    practice_id: str
    name: str
    npi: str
    specialty: str = Field("optometry", description="optometry (Medicare 41) or ophthalmology (18)")
    credentials: str = "OD"


class Payer(BaseModel):
    id: str
    name: str
    kind: PlanKind
    payer_id: str = Field("", description="Clearinghouse payer id")
    timely_filing_days: int = 365


class Coverage(BaseModel):
    id: str
    patient_id: str
    payer_id: str
    plan_name: str
    plan_kind: PlanKind
    member_id: str
    group_number: str = ""
    priority: int = Field(1, description="1 primary, 2 secondary, ...")
    effective: date | None = None
    termination: date | None = None
    copay: Money = ZERO
    coinsurance_pct: int = Field(0, ge=0, le=100)
    deductible: Money = ZERO
    deductible_met: Money = ZERO


class Patient(BaseModel):
    """A synthetic patient; real PHI never enters fixtures."""

    id: str
    practice_id: str
    first_name: str
    last_name: str
    birth_date: date
    sex: Sex
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    phone: str = ""

    def age_on(self, on: date) -> int:
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class User(BaseModel):
    id: str
    username: str
    display_name: str = ""
    roles: list[Role]
    practice_ids: list[str] = Field(default_factory=list)
    active: bool = True
