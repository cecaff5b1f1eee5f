"""The synthetic practice generator: generate_dataset(seed, patients, through) builds a SyntheticDataset."""

import random
from datetime import date, timedelta

from billing.practice import Coverage, Patient, Practice, Provider
from sandbox.dataset import RemittanceFile, SeededVariance, SyntheticDataset
from sandbox.generator.adjudication import AdjudicatedClaim, Payer
from sandbox.generator.appeals import file_appeals
from sandbox.generator.claims import BilledEncounter, HistoryBiller
from sandbox.generator.contracts import build_contracts
from sandbox.generator.encounters import WrittenVisit, write_visits
from sandbox.generator.payer_rules import PatientRecord
from sandbox.generator.payers import PAYER_BY_ID, PAYERS, build_coverages
from sandbox.generator.people import build_patients
from sandbox.generator.practices import build_practices, build_users, charge_master
from sandbox.generator.schedule import book_appointments
from sandbox.generator.timeline import plan_visits
from sandbox.generator.x12_835 import render_835

DEFAULT_THROUGH = date(2026, 11, 15)
WINDOW_DAYS = 455
UNBILLED_DAYS = 30

__all__ = ["DEFAULT_THROUGH", "UNBILLED_DAYS", "WINDOW_DAYS", "generate_dataset"]


def generate_dataset(seed: int, patients: int, through: date | None = None) -> SyntheticDataset:
    """A deterministic synthetic practice group for (seed, patients, through); never reads the clock."""
    through = through or DEFAULT_THROUGH
    rng = random.Random(seed)
    window_start = through - timedelta(days=WINDOW_DAYS)
    practices, providers = build_practices(rng)
    fee_schedules = {practice.id: charge_master(practice) for practice in practices}
    fees = {pid: {entry.code: entry.amount for entry in entries} for pid, entries in fee_schedules.items()}
    patient_list = build_patients(rng, patients, through)
    coverages = build_coverages(rng, patient_list, window_start, through)
    by_patient: dict[str, list[Coverage]] = {}
    for coverage in coverages:
        by_patient.setdefault(coverage.patient_id, []).append(coverage)

    written: list[WrittenVisit] = []
    last_chronic: dict[str, WrittenVisit] = {}
    for patient in patient_list:
        planned = plan_visits(rng, patient, by_patient[patient.id], window_start, through)
        chart = write_visits(
            rng, patient, planned, by_patient[patient.id], providers, fees[patient.practice_id]
        )
        written += chart.visits
        for visit in chart.visits:
            if visit.chronic:
                last_chronic[patient.id] = visit
    written.sort(key=lambda v: (v.encounter.date_of_service, v.encounter.patient_id))
    for number, visit in enumerate(written, start=1):
        encounter_id = f"enc-{number:06d}"
        visit.encounter.id = visit.note.encounter_id = visit.intended.encounter_id = encounter_id
        visit.note.id = f"note-{number:06d}"

    first_visit = min((v.encounter.date_of_service for v in written), default=window_start)
    contracts = build_contracts(practices, billed_from=first_visit)
    contract_by_key = {(c.practice_id, c.payer_id): c for c in contracts}
    coverage_by_id = {c.id: c for c in coverages}
    biller = HistoryBiller(rng, through, contract_by_key, coverage_by_id, by_patient, fees)
    billed_through = through - timedelta(days=UNBILLED_DAYS)
    for visit in written:
        if visit.encounter.date_of_service <= billed_through:
            biller.bill(BilledEncounter(visit.encounter, visit.intended))

    records = {patient.id: PatientRecord() for patient in patient_list}
    specialties = {provider.id: provider.specialty for provider in providers}
    for visit in written:
        encounter = visit.encounter
        records[encounter.patient_id].visits.append(
            (encounter.date_of_service, encounter.practice_id, specialties[encounter.provider_id])
        )
    payer = Payer(rng, through, contract_by_key, coverage_by_id, specialties, records)
    due = [(payer.paid_on(claim), claim) for claim in biller.claims]
    adjudicated = [
        payer.adjudicate(claim, paid_on)
        for paid_on, claim in sorted(
            ((p, c) for p, c in due if p is not None),
            key=lambda pair: (pair[0], pair[1].submitted_on, pair[1].id),
        )
    ]
    for coverage in coverages:
        coverage.deductible_met = payer.deductible_met.get(
            (coverage.id, through.year), coverage.deductible_met
        )

    remittances, variances = _remittances(adjudicated, practices, providers, patient_list, coverage_by_id)
    intended_codes = {v.encounter.id: {line.code for line in v.intended.lines} for v in written}
    appeals = file_appeals(rng, adjudicated, intended_codes, through)
    last_visits = [
        (pid, v.encounter.practice_id, v.encounter.provider_id, v.intended.scenario)
        for pid, v in sorted(last_chronic.items())
    ]
    return SyntheticDataset(
        seed=seed,
        generated_through=through,
        practices=practices,
        providers=providers,
        payers=PAYERS,
        patients=patient_list,
        coverages=coverages,
        encounters=[v.encounter for v in written],
        notes=[v.note for v in written],
        intended=[v.intended for v in written],
        charges=biller.charges,
        claims=biller.claims,
        outcomes=[r.outcome for item in adjudicated for r in item.lines],
        remittances=remittances,
        seeded_variances=variances,
        appeals=appeals,
        contracts=contracts,
        fee_schedules=fee_schedules,
        users=build_users(practices),
        appointments=book_appointments(rng, last_visits, through),
    )


def _remittances(
    adjudicated: list[AdjudicatedClaim],
    practices: list[Practice],
    providers: list[Provider],
    patients: list[Patient],
    coverages: dict[str, Coverage],
) -> tuple[list[RemittanceFile], list[SeededVariance]]:
    """One 835 per payer, practice and weekly payment date; variances point at the file that carried them."""
    groups: dict[tuple[str, str, date], list[AdjudicatedClaim]] = {}
    for item in adjudicated:
        groups.setdefault((item.claim.practice_id, item.claim.payer_id, item.paid_on), []).append(item)
    practice_by_id = {p.id: p for p in practices}
    patient_by_id = {p.id: p for p in patients}
    provider_by_id = {p.id: p for p in providers}
    files: list[RemittanceFile] = []
    variances: list[SeededVariance] = []
    for number, ((practice_id, payer_id, paid_on), items) in enumerate(sorted(groups.items()), start=1):
        payer = PAYER_BY_ID[payer_id]
        remittance_id = f"era-{number:05d}"
        x12 = render_835(
            control_number=number,
            payer=payer,
            practice=practice_by_id[practice_id],
            paid_on=paid_on,
            claims=items,
            patients=patient_by_id,
            coverages=coverages,
            providers=provider_by_id,
        )
        files.append(
            RemittanceFile(
                id=remittance_id,
                practice_id=practice_id,
                payer_id=payer_id,
                received_on=paid_on,
                filename=f"{payer.payer_id}_{practice_id}_{paid_on:%Y%m%d}.835",
                x12=x12,
                claim_ids=[item.claim.id for item in items],
            )
        )
        for item in items:
            variances += [
                SeededVariance(
                    remittance_id=remittance_id,
                    claim_id=item.claim.id,
                    line_number=v.line_number,
                    kind=v.kind,
                    cause=v.cause,
                    expected_allowed=v.expected_allowed,
                    actual_allowed=v.actual_allowed,
                    expected_paid=v.expected_paid,
                    actual_paid=v.actual_paid,
                )
                for v in item.variances
            ]
    return files, variances
