"""ClaimFacts: what the scrubber knows about one claim beyond its lines, and the ClaimInput it checks."""

from datetime import date, timedelta

from pydantic import BaseModel, Field

from billing.claim_input import (
    ClaimCoverage,
    ClaimInput,
    ClaimInputLine,
    ClaimPatient,
    ClaimPayer,
    HistoryVisit,
)
from billing.claim_input import PriorAuth as ClaimPriorAuth
from billing.claims import Claim
from billing.practice import Coverage, Patient, Payer, PlanKind, Sex

NEW_PATIENT_WINDOW_DAYS = 3 * 365
DEMOGRAPHIC_FIELDS = ("birth_date", "sex", "address", "city", "state", "zip")


class ClaimFacts(BaseModel):
    """One claim and its context, ids and plan facts only (no names): what load and scan gather."""

    claim: Claim
    payer: Payer | None = Field(None, description="None when Crystal PM does not know the claim's payer")
    coverage: Coverage | None = Field(None, description="The claim's coverage; None when missing")
    coverages: list[Coverage] = Field(default_factory=list, description="Every coverage of the patient")
    patient_age: int = 0
    patient_sex: Sex = Sex.U
    missing_demographics: list[str] = Field(default_factory=list)
    member_id: str = ""
    provider_npi: str | None = Field(None, description="Rendering NPI; None when the provider is unknown")
    practice_npi: str | None = Field(None, description="Billing (group) NPI; None when unknown")
    encounter_place_of_service: str | None = None
    visit_dates: list[date] = Field(default_factory=list, description="Earlier visits with this practice")
    other_claims: list[Claim] = Field(
        default_factory=list, description="The patient's other claims already sent when this one is scrubbed"
    )
    as_of: date = Field(description="When the claim goes out: its submitted_on, or the day of the scrub")

    @property
    def plan_kind(self) -> PlanKind | None:
        if self.coverage is not None:
            return self.coverage.plan_kind
        return self.payer.kind if self.payer is not None else None

    @property
    def payer_name(self) -> str:
        if self.payer is not None:
            return self.payer.name
        return self.coverage.plan_name if self.coverage is not None else ""

    @property
    def days_to_submission(self) -> int:
        return (self.as_of - self.claim.date_of_service).days


def missing_demographics(patient: Patient) -> list[str]:
    """Names of the demographic fields a claim needs that the patient record lacks (never their values)."""
    missing = [name for name in DEMOGRAPHIC_FIELDS if name != "sex" and not getattr(patient, name)]
    if patient.sex is Sex.U:
        missing.append("sex")
    return missing


def sent_before(other: Claim, claim: Claim, as_of: date) -> bool:
    """Whether `other` had gone out before `claim` is sent on `as_of` (same day: the lower id first)."""
    if other.id == claim.id or other.submitted_on is None:
        return False
    return (other.submitted_on, other.id) < (as_of, claim.id)


def established(facts: ClaimFacts) -> bool:
    dos = facts.claim.date_of_service
    start = dos - timedelta(days=NEW_PATIENT_WINDOW_DAYS)
    return any(start <= seen < dos for seen in facts.visit_dates)


def claim_input_for(facts: ClaimFacts) -> ClaimInput:
    """The claim as the validator reads it: lines with their diagnoses, history from earlier claims."""
    claim = facts.claim
    dos = claim.date_of_service
    billed: dict[date, list[str]] = {}
    for other in facts.other_claims:
        if other.date_of_service < dos:
            billed.setdefault(other.date_of_service, []).extend(line.code for line in other.lines)
    history_dates = sorted({seen for seen in facts.visit_dates if seen < dos} | set(billed))
    kind = facts.plan_kind or PlanKind.COMMERCIAL
    values: dict[str, object] = {
        "date_of_service": dos,
        "patient": ClaimPatient(age=facts.patient_age, sex=facts.patient_sex),
        "payer": ClaimPayer(name=facts.payer_name, kind=kind),
        "established": established(facts),
        "history": [HistoryVisit(date=seen, codes=billed.get(seen, [])) for seen in history_dates],
        "lines": [
            ClaimInputLine(
                code=line.code,
                modifiers=line.modifiers,
                units=max(line.units, 1),
                diagnosis_codes=[
                    claim.diagnosis_codes[p - 1]
                    for p in line.diagnosis_pointers
                    if 0 < p <= len(claim.diagnosis_codes)
                ],
                charge=line.charge,
            )
            for line in claim.lines
        ],
        "submitted_on": facts.as_of,
        # Crystal PM keeps only the approved authorization's number: none on file means "no authorization".
        "prior_auth": ClaimPriorAuth(number=claim.prior_auth_number) if claim.prior_auth_number else None,
    }
    if facts.coverage is not None:
        values["coverage"] = ClaimCoverage(
            plan=facts.coverage.plan_name,
            effective=facts.coverage.effective,
            termination=facts.coverage.termination,
        )
    return ClaimInput(**values)
