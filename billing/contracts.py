"""Managed-care contracts: fee schedules, pricing terms, reductions, vision allowances and cost share."""

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from billing.money import Money

Basis = Literal["fee_schedule", "percent_of_medicare", "percent_of_charges"]
VisionCategory = Literal[
    "exam", "refraction", "contact_lens_fit", "frame", "lenses", "contact_lens", "materials"
]
# Vision service fees are the plan's fee (the rest is written off); material allowances cap the benefit
# and the patient pays the overage.
VISION_SERVICES: frozenset[str] = frozenset({"exam", "refraction", "contact_lens_fit"})
VISION_CODES: dict[str, list[str]] = {
    "exam": ["92002-92014", "S0620-S0621"],
    "refraction": ["92015"],
    "contact_lens_fit": ["92310-92317", "S0592"],
    "frame": ["V2020-V2025"],
    "lenses": ["V2100-V2499", "V2700-V2799"],
    "contact_lens": ["V2500-V2599"],
    "materials": ["V2020-V2025", "V2100-V2499", "V2500-V2599", "V2700-V2799"],
}
# Copay kinds that need no code list in a contract.
COPAY_CODES: dict[str, list[str]] = {
    **VISION_CODES,
    "office_visit": ["99202-99215", "92002-92014"],
    "specialist": ["99202-99215", "92002-92014"],
    "diagnostic_test": ["76510-76519", "92020-92287"],
}
# CY2013 MPFS list of ophthalmic diagnostic tests whose technical component takes the MPPR.
MPPR_DIAGNOSTIC_CODES: list[str] = [
    "76510-76514",
    "76516",
    "76519",
    "92025",
    "92060",
    "92081-92083",
    "92132-92134",
    "92136",
    "92228",
    "92235",
    "92240",
    "92250",
    "92265",
    "92270",
    "92275",
    "92283-92286",
]


def code_matches(code: str, patterns: list[str]) -> bool:
    """A code matches "92083" exactly, a range "92002-92014" of same-length codes, or a prefix "V25*"."""
    code = code.strip().upper()
    for pattern in patterns:
        pattern = pattern.strip().upper()
        if pattern.endswith("*"):
            if code.startswith(pattern[:-1]):
                return True
        elif "-" in pattern:
            low, _, high = pattern.partition("-")
            if len(low) == len(high) == len(code) and low <= code <= high:
                return True
        elif code == pattern:
            return True
    return False


class _Terms(BaseModel):
    """Contract terms refuse unknown keys, so a misspelt YAML field is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class FeeScheduleEntry(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    code: str
    modifier: str = ""
    amount: Money


class MedicareTerms(_Terms):
    """Which Medicare PFS amounts a percent-of-Medicare contract multiplies."""

    locality: str = Field("", description="'<mac>-<locality>', e.g. '10112-00'; empty: the caller's default")
    year: int | None = Field(
        None, description="Price on that year's PFS; None: the release in force on the DOS"
    )
    facility: bool | None = Field(
        None, description="Force facility/non-facility; None: from place of service"
    )


class CarveOut(_Terms):
    """Codes priced apart from the main basis (e.g. a flat fee for 92134)."""

    codes: list[str]
    basis: Basis
    amount: Money | None = Field(None, description="Per unit, for basis fee_schedule")
    percent: Decimal | None = Field(None, description="For percent_of_medicare / percent_of_charges")
    exempt_from_reductions: bool = Field(True, description="Skip multiple-procedure, MPPR and per-visit cap")


class MultipleProcedureRule(_Terms):
    """Surgical multiple-procedure reduction: the highest-priced procedure first, the others cut."""

    codes: list[str] = Field(default_factory=list, description="Code patterns the rule covers")
    pfs_indicator: bool = Field(True, description="Also cover codes with PFS MULT PROC indicator 2 or 3")
    schedule: list[Decimal] = Field(
        default_factory=lambda: [Decimal(100), Decimal(50), Decimal(50), Decimal(50), Decimal(50)],
        description="Percent paid for the 1st, 2nd ... procedure; the last percent repeats",
        min_length=1,
    )


class BilateralRule(_Terms):
    """Modifier 50 pricing."""

    percent: Decimal = Field(Decimal(150), description="Percent of one side paid for a bilateral procedure")
    codes: list[str] = Field(default_factory=list, description="Codes priced as bilateral-eligible")
    pfs_indicator: bool = Field(
        True, description="Use the PFS BILAT SURG indicator (1: percent, 2: 100, 3: 200)"
    )


class PerVisitCap(_Terms):
    amount: Money
    codes: list[str] = Field(default_factory=list, description="Lines the cap covers; empty: every line")


class VisionAllowance(_Terms):
    amount: Money = Field(
        description="Service categories: the plan fee; materials: the allowance (benefit cap)"
    )
    codes: list[str] = Field(default_factory=list, description="Empty: the category's usual codes")
    overage_discount_pct: Decimal = Field(Decimal(0), description="Discount on the material overage")
    frequency_months: int | None = Field(None, description="Once every N months (checked against history)")


class Copay(_Terms):
    kind: str = Field(description="exam, office_visit, materials, contact_lens_fit, ...")
    amount: Money
    codes: list[str] = Field(default_factory=list, description="Empty: the usual codes of a known kind")
    waives_deductible_and_coinsurance: bool = Field(
        False, description="Lines this copay covers owe only the copay (office-visit style)"
    )

    @model_validator(mode="after")
    def _codes_known(self) -> "Copay":
        if not self.codes and self.kind not in COPAY_CODES:
            raise ValueError(
                f"copay kind {self.kind!r} needs a codes list (known kinds: {', '.join(sorted(COPAY_CODES))})"
            )
        return self

    @property
    def covered_codes(self) -> list[str]:
        return self.codes or COPAY_CODES[self.kind]


class CostShare(_Terms):
    """Applied per line after the allowed amount: deductible, then coinsurance, then copay (once per visit)."""

    deductible: Money = Decimal("0.00")
    coinsurance_pct: Decimal = Decimal(0)
    copays: list[Copay] = Field(default_factory=list)


class Contract(BaseModel):
    # YAML reads an unquoted 92015 as a number; codes are text.
    model_config = ConfigDict(coerce_numbers_to_str=True)

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
    medicare: MedicareTerms = Field(default_factory=MedicareTerms)
    unlisted_percent_of_charges: Decimal | None = Field(
        None, description="Percent of charges for codes neither on the fee schedule nor priced by the basis"
    )
    lesser_of_billed: bool = Field(True, description="Allowed is never more than the billed charge")
    carve_outs: list[CarveOut] = Field(default_factory=list)
    exclusions: list[str] = Field(default_factory=list, description="Code patterns the contract never pays")
    excluded_patient_liable: bool = Field(True, description="The patient owes the charge of an excluded line")
    multiple_procedure: MultipleProcedureRule | None = None
    mppr_codes: list[str] = Field(default_factory=lambda: list(MPPR_DIAGNOSTIC_CODES))
    mppr_tc_pct: Decimal = Field(Decimal(80), description="Percent of the TC paid on the 2nd and later test")
    bilateral: BilateralRule = Field(default_factory=BilateralRule)
    per_visit_cap: PerVisitCap | None = None
    vision: dict[VisionCategory, VisionAllowance] = Field(default_factory=dict)
    cost_share: CostShare = Field(default_factory=CostShare)
    evidence: dict[str, str] = Field(
        default_factory=dict, description="Term name -> the contract sentence it was read from"
    )

    @field_validator("basis")
    @classmethod
    def _known_basis(cls, value: str) -> str:
        if value not in ("fee_schedule", "percent_of_medicare", "percent_of_charges"):
            raise ValueError("must be fee_schedule, percent_of_medicare or percent_of_charges")
        return value

    def in_force(self, on: date) -> bool:
        return self.effective <= on and (self.termination is None or on <= self.termination)

    def fee(self, code: str, modifiers: list[str]) -> FeeScheduleEntry | None:
        """The fee-schedule entry for code with one of modifiers, else the entry without a modifier."""
        code = code.strip().upper()
        wanted = {m.strip().upper() for m in modifiers}
        plain = None
        for entry in self.fee_schedule:
            if entry.code.strip().upper() != code:
                continue
            modifier = entry.modifier.strip().upper()
            if modifier and modifier in wanted:
                return entry
            if not modifier:
                plain = entry
        return plain

    def vision_category(self, code: str) -> str | None:
        """The vision-allowance category of code under this contract, or None."""
        for category, allowance in self.vision.items():
            if code_matches(code, allowance.codes or VISION_CODES[category]):
                return category
        return None
