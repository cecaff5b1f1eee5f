"""Remittance advice (X12 835) as models: payments, claim and service-line payments, adjustments."""

import datetime as dt

from pydantic import BaseModel, Field

from billing.money import ZERO, Money


class Adjustment(BaseModel):
    group: str = Field(description="CAS group code: CO, PR, OA, PI, CR")
    reason: str = Field(description="CARC")
    amount: Money
    quantity: float | None = None


class ServiceLinePayment(BaseModel):
    code: str
    modifiers: list[str] = Field(default_factory=list)
    submitted_code: str = Field("", description="SVC06 when the payer adjudicated a different code")
    charge: Money = ZERO
    paid: Money = ZERO
    allowed: Money | None = None
    units: float = 1
    original_units: float | None = Field(
        None, description="SVC07 when the payer paid other units than billed"
    )
    date_of_service: dt.date | None = None
    date_of_service_end: dt.date | None = Field(None, description="DTM*151 when the line spans a period")
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list, description="RARCs (LQ*HE)")
    line_control_number: str = ""


class ClaimPayment(BaseModel):
    patient_control_number: str
    status: str = Field(description="CLP02: 1 primary, 2 secondary, 3 tertiary, 4 denied, 22 reversal, ...")
    charge: Money = ZERO
    paid: Money = ZERO
    patient_responsibility: Money = ZERO
    payer_claim_control_number: str = ""
    filing_indicator: str = ""
    patient_name: str = ""
    corrected_patient_name: str = Field("", description="NM1*74: the name the payer has on file")
    reversal: bool = Field(False, description="CLP02 = 22: takes back an earlier payment")
    statement_from: dt.date | None = Field(None, description="DTM*232")
    statement_to: dt.date | None = Field(None, description="DTM*233")
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list, description="MOA/MIA remark codes")
    lines: list[ServiceLinePayment] = Field(default_factory=list)


class ProviderAdjustment(BaseModel):
    provider_id: str = ""
    fiscal_period: str = ""
    reason: str
    reference: str = ""
    amount: Money


class Payment(BaseModel):
    handling: str = Field(
        "", description="BPR01: I remittance with payment, H notification only, C payment only"
    )
    method: str = Field("", description="BPR04: ACH, CHK, NON, FWT, BOP")
    amount: Money = ZERO
    date: dt.date | None = None
    trace: str = Field("", description="TRN02 check or EFT trace number")


class RemittanceTransaction(BaseModel):
    payer: str = ""
    payer_id: str = ""
    payee: str = ""
    payee_npi: str = ""
    payee_tax_id: str = ""
    interchange_control_number: str = Field("", description="ISA13")
    transaction_control_number: str = Field("", description="ST02")
    payment: Payment = Field(default_factory=Payment)
    claims: list[ClaimPayment] = Field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = Field(default_factory=list)


class Remittance(BaseModel):
    id: str = ""
    practice_id: str = ""
    transactions: list[RemittanceTransaction] = Field(default_factory=list)
    raw_x12: str = Field("", repr=False)
