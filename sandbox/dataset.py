"""The synthetic practice as one data object: what the generator makes and the sandbox serves."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from billing.charges import Charge, ChargeLine
from billing.claims import Claim
from billing.contracts import Contract, FeeScheduleEntry
from billing.encounters import ClinicalNote, Encounter
from billing.money import Money
from billing.practice import Coverage, Patient, Payer, Practice, Provider, User


class IntendedCoding(BaseModel):
    """What the generator meant an encounter to be billed as (the sandbox's gold, hidden from the copilot)."""

    encounter_id: str
    scenario: str
    diagnosis_codes: list[str]
    lines: list[ChargeLine]
    rationale: str = ""


class LineOutcome(BaseModel):
    """How the sandbox's simulated payer adjudicated one claim line, and which of its rules decided it."""

    claim_id: str
    line_number: int
    status: Literal["paid", "denied", "reduced"]
    group: str = ""
    carc: str = ""
    rarcs: list[str] = Field(default_factory=list)
    allowed: Money | None = None
    paid: Money | None = None
    rule: str = Field("", description="The sandbox payer rule that fired, e.g. ncci_conflict")


class Appeal(BaseModel):
    id: str
    claim_id: str
    line_number: int | None = None
    filed_on: date
    reason: str
    outcome: Literal["won", "lost", "pending"]
    decided_on: date | None = None


class RemittanceFile(BaseModel):
    id: str
    practice_id: str
    payer_id: str
    received_on: date
    filename: str
    x12: str = Field(repr=False)
    claim_ids: list[str] = Field(default_factory=list)


class SeededVariance(BaseModel):
    """Ground truth for contract-variance detection: a line the simulated payer paid off-contract."""

    remittance_id: str
    claim_id: str
    line_number: int
    kind: Literal["underpaid", "overpaid"]
    cause: str = Field(
        description=(
            "wrong_fee_schedule_year | reduction_misapplied | cost_share_misapplied | flat_cut | overpaid"
        )
    )
    expected_allowed: Money
    actual_allowed: Money
    expected_paid: Money | None = Field(None, description="What the payer should have paid on the line")
    actual_paid: Money | None = Field(None, description="What it paid (less when cost share was misapplied)")


class Appointment(BaseModel):
    id: str
    practice_id: str
    patient_id: str
    provider_id: str
    scheduled_for: date
    procedure_code: str = ""
    reason: str = ""


class SyntheticDataset(BaseModel):
    seed: int
    generated_through: date
    practices: list[Practice] = Field(default_factory=list)
    providers: list[Provider] = Field(default_factory=list)
    payers: list[Payer] = Field(default_factory=list)
    patients: list[Patient] = Field(default_factory=list)
    coverages: list[Coverage] = Field(default_factory=list)
    encounters: list[Encounter] = Field(default_factory=list)
    notes: list[ClinicalNote] = Field(default_factory=list)
    intended: list[IntendedCoding] = Field(default_factory=list)
    charges: list[Charge] = Field(
        default_factory=list, description="Historical billed charges (not for unbilled encounters)"
    )
    claims: list[Claim] = Field(default_factory=list)
    outcomes: list[LineOutcome] = Field(default_factory=list)
    remittances: list[RemittanceFile] = Field(default_factory=list)
    seeded_variances: list[SeededVariance] = Field(default_factory=list)
    appeals: list[Appeal] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
    fee_schedules: dict[str, list[FeeScheduleEntry]] = Field(
        default_factory=dict, description="practice id -> the practice's charge master"
    )
    users: list[User] = Field(default_factory=list)
    appointments: list[Appointment] = Field(default_factory=list)
