"""Gather ClaimFacts through the Crystal PM client, once per patient and payer when scanning many claims."""

from datetime import date

from agents.scrub.facts import ClaimFacts, missing_demographics, sent_before
from billing.claims import Claim
from billing.encounters import Encounter
from billing.practice import Coverage, Patient, Payer, Sex
from tools.crystalpm import CrystalPM, NotFound


class FactsLoader:
    """Reads what a claim's scrub needs; caches payers, NPIs and each patient's record, coverage and history.

    `today` is the day a claim not yet submitted would go out (the timely-filing clock).
    """

    def __init__(self, client: CrystalPM, *, today: date) -> None:
        self.client = client
        self.today = today
        self._payers: dict[str, Payer] | None = None
        self._provider_npis: dict[str, str] | None = None
        self._practice_npis: dict[str, str] | None = None
        self._patients: dict[str, tuple[Patient | None, list[Coverage], list[Encounter], list[Claim]]] = {}

    def _payer(self, payer_id: str) -> Payer | None:
        if self._payers is None:
            self._payers = {payer.id: payer for payer in self.client.list_payers()}
        return self._payers.get(payer_id)

    def _npis(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._provider_npis is None or self._practice_npis is None:
            self._practice_npis = {practice.id: practice.npi for practice in self.client.list_practices()}
            self._provider_npis = {provider.id: provider.npi for provider in self.client.list_providers()}
        return self._provider_npis, self._practice_npis

    def _patient(
        self, patient_id: str
    ) -> tuple[Patient | None, list[Coverage], list[Encounter], list[Claim]]:
        if patient_id not in self._patients:
            try:
                patient: Patient | None = self.client.get_patient(patient_id)
                coverages = self.client.get_coverage(patient_id)
                visits = self.client.get_visit_history(patient_id)
            except NotFound:
                patient, coverages, visits = None, [], []
            claims = list(self.client.iter_claims(patient_id=patient_id))
            self._patients[patient_id] = (patient, coverages, visits, claims)
        return self._patients[patient_id]

    def forget(self, patient_id: str) -> None:
        """Drop a patient's cached record (after writing to one of their claims)."""
        self._patients.pop(patient_id, None)

    def claim_facts(self, claim_id: str) -> ClaimFacts:
        return self.facts(self.client.get_claim(claim_id))

    def facts(self, claim: Claim) -> ClaimFacts:
        patient, coverages, visits, claims = self._patient(claim.patient_id)
        provider_npis, practice_npis = self._npis()
        as_of = claim.submitted_on or self.today
        coverage = next((c for c in coverages if c.id == claim.coverage_id), None)
        encounter = next((v for v in visits if v.id == claim.encounter_id), None)
        dos = claim.date_of_service
        return ClaimFacts(
            claim=claim,
            payer=self._payer(claim.payer_id),
            coverage=coverage,
            coverages=coverages,
            patient_age=patient.age_on(dos) if patient else 0,
            patient_sex=patient.sex if patient else Sex.U,
            missing_demographics=missing_demographics(patient) if patient else ["patient record"],
            member_id=coverage.member_id if coverage else "",
            provider_npi=provider_npis.get(claim.provider_id),
            practice_npi=practice_npis.get(claim.practice_id),
            encounter_place_of_service=encounter.place_of_service if encounter else None,
            visit_dates=[
                v.date_of_service
                for v in visits
                if v.practice_id == claim.practice_id and v.date_of_service < dos
            ],
            other_claims=[other for other in claims if sent_before(other, claim, as_of)],
            as_of=as_of,
        )
