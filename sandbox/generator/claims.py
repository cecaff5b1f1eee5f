"""Historical billing: a posted charge and a submitted claim per encounter older than the unbilled window."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from billing.charges import Charge, ChargeStatus
from billing.claims import Claim, ClaimLine, ClaimStatus, ClaimStatusEvent
from billing.contracts import Contract
from billing.encounters import Encounter
from billing.practice import Coverage, PlanKind
from sandbox.dataset import IntendedCoding
from sandbox.generator.coding_errors import BillingDraft, seed_error


@dataclass
class BilledEncounter:
    encounter: Encounter
    intended: IntendedCoding


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0))


class HistoryBiller:
    """Turns intended codings into what the office actually billed, mistakes included."""

    def __init__(
        self,
        rng: random.Random,
        through: date,
        contracts: dict[tuple[str, str], Contract],
        coverages: dict[str, Coverage],
        patient_coverages: dict[str, list[Coverage]],
        fees: dict[str, dict[str, Decimal]],
    ) -> None:
        self.rng = rng
        self.through = through
        self.contracts = contracts
        self.coverages = coverages
        self.patient_coverages = patient_coverages
        self.fees = fees
        self.charges: list[Charge] = []
        self.claims: list[Claim] = []
        self.errors: dict[str, str] = {}
        self.billed_codes: dict[str, set[str]] = {}

    def bill(self, item: BilledEncounter) -> None:
        encounter, intended = item.encounter, item.intended
        coverage = self.coverages[encounter.coverage_id or ""]
        contract = self.contracts[(encounter.practice_id, coverage.payer_id)]
        charge = Charge(
            id=f"chg-{len(self.charges) + 1:06d}",
            practice_id=encounter.practice_id,
            encounter_id=encounter.id,
            patient_id=encounter.patient_id,
            provider_id=encounter.provider_id,
            diagnosis_codes=list(intended.diagnosis_codes),
            lines=[line.model_copy(deep=True) for line in intended.lines],
            status=ChargeStatus.POSTED,
            source="historical",
            created_at=at(encounter.date_of_service + timedelta(days=self.rng.choice((0, 0, 1, 2))), 17),
        )
        needs_auth = any(line.code in contract.prior_auth_codes for line in charge.lines)
        draft = BillingDraft(
            charge=charge,
            dos=encounter.date_of_service,
            coverage=coverage,
            prior_auth_number=f"PA{self.rng.randrange(10**7, 10**8)}" if needs_auth else "",
            scenario=intended.scenario,
            medical_coverages=[
                c for c in self.patient_coverages[encounter.patient_id] if c.plan_kind != PlanKind.VISION
            ],
            billed_before=self.billed_codes.setdefault(encounter.patient_id, set()),
            fees=self.fees[encounter.practice_id],
        )
        if error := seed_error(self.rng, draft):
            self.errors[charge.id] = error
        self.billed_codes[encounter.patient_id].update(line.code for line in charge.lines)
        self.charges.append(charge)
        claim = self._claim(draft, encounter)
        self.claims.append(claim)
        if self.rng.random() < 0.006:
            self._resubmit_duplicate(claim)

    def _claim(self, draft: BillingDraft, encounter: Encounter) -> Claim:
        charge, dos = draft.charge, encounter.date_of_service
        contract = self.contracts[(encounter.practice_id, draft.coverage.payer_id)]
        created = charge.created_at.date() if charge.created_at else dos
        submitted = created + timedelta(days=self._delay(contract, dos))
        claim = Claim(
            id=f"clm-{len(self.claims) + 1:06d}",
            practice_id=encounter.practice_id,
            patient_id=encounter.patient_id,
            encounter_id=encounter.id,
            provider_id=encounter.provider_id,
            payer_id=draft.coverage.payer_id,
            coverage_id=draft.coverage.id,
            date_of_service=dos,
            diagnosis_codes=list(charge.diagnosis_codes),
            lines=[
                ClaimLine(
                    line_number=number,
                    code=line.code,
                    modifiers=list(line.modifiers),
                    units=line.units,
                    diagnosis_pointers=list(line.diagnosis_pointers),
                    charge=line.fee * line.units,
                    date_of_service=dos,
                )
                for number, line in enumerate(charge.lines, start=1)
            ],
            prior_auth_number=draft.prior_auth_number,
        )
        self._submit(claim, created, submitted)
        return claim

    def _delay(self, contract: Contract, dos: date) -> int:
        roll = self.rng.random()
        if roll < 0.02:
            late = contract.timely_filing_days + self.rng.randint(5, 60)
            if dos + timedelta(days=late) <= self.through - timedelta(days=3):
                return late
        if roll < 0.06:
            return self.rng.randint(11, 45)
        return self.rng.randint(1, 10)

    def _submit(self, claim: Claim, created: date, submitted: date) -> None:
        submitted = min(submitted, self.through)
        ready = at(created, 17 if created < submitted else 8)
        claim.history = [ClaimStatusEvent(status=ClaimStatus.READY, at=ready, note="claim created")]
        claim.history.append(
            ClaimStatusEvent(status=ClaimStatus.SUBMITTED, at=at(submitted, 10), note="837P sent")
        )
        claim.submitted_on = submitted
        claim.status = ClaimStatus.SUBMITTED
        accepted = submitted + timedelta(days=1)
        if accepted <= self.through:
            claim.history.append(
                ClaimStatusEvent(status=ClaimStatus.ACCEPTED, at=at(accepted, 6), note="999/277CA accepted")
            )
            claim.status = ClaimStatus.ACCEPTED

    def _resubmit_duplicate(self, original: Claim) -> None:
        """A biller re-sends a claim they thought was lost: the payer will deny it as a duplicate."""
        again = (original.submitted_on or original.date_of_service) + timedelta(days=self.rng.randint(25, 45))
        if again > self.through:
            return
        duplicate = original.model_copy(deep=True, update={"id": f"clm-{len(self.claims) + 1:06d}"})
        self._submit(duplicate, again, again)
        self.claims.append(duplicate)
