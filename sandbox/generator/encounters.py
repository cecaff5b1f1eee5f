"""Turns each patient's planned visits into encounters, finalized notes and intended codings."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from billing.encounters import ClinicalNote, Encounter
from billing.practice import Coverage, Patient, PlanKind, Provider
from sandbox.dataset import IntendedCoding
from sandbox.generator.coding import code_visit, is_new_patient
from sandbox.generator.notes import render_note
from sandbox.generator.payers import MEDICAID, active_coverage
from sandbox.generator.timeline import ROUTINE, PlannedVisit
from sandbox.generator.visits import VisitContext


@dataclass
class WrittenVisit:
    """One encounter with everything written about it, before ids are handed out in date order."""

    encounter: Encounter
    note: ClinicalNote
    intended: IntendedCoding
    chronic: bool


@dataclass
class PatientChart:
    visits: list[WrittenVisit] = field(default_factory=list)
    seen: list[tuple[date, str, str]] = field(default_factory=list)
    done: dict[str, date] = field(default_factory=dict)


def write_visits(
    rng: random.Random,
    patient: Patient,
    planned: list[PlannedVisit],
    coverages: list[Coverage],
    providers: list[Provider],
    fees: dict[str, Decimal],
) -> PatientChart:
    chart = PatientChart()
    own = [p for p in providers if p.practice_id == patient.practice_id]
    optometrists = [p for p in own if p.specialty == "optometry"]
    surgeons = [p for p in own if p.specialty == "ophthalmology"]
    usual = rng.choice(optometrists)
    for plan in planned:
        dos = plan.dos
        vision = active_coverage(coverages, dos, vision=True)
        medical = active_coverage(coverages, dos, vision=False)
        ctx = VisitContext(
            dos=dos,
            age=patient.age_on(dos),
            sex=patient.sex.value,
            vision_payer=vision.payer_id if vision else None,
            index=plan.index,
            done=dict(chart.done),
        )
        if not plan.case:
            plan.case.update(plan.scenario.start(rng, ctx))
        visit = plan.scenario.build(rng, plan.case, ctx)
        coverage = vision if visit.benefit == "vision" else medical
        if coverage is None or (
            visit.scenario in ROUTINE
            and coverage.plan_kind != PlanKind.VISION
            and coverage.payer_id != MEDICAID
        ):
            continue  # self-pay visits are outside the billing data set
        provider = surgeons[0] if visit.wants_specialist and surgeons else usual
        prior = [
            d
            for d, practice, specialty in chart.seen
            if practice == patient.practice_id and specialty == provider.specialty
        ]
        new = is_new_patient(dos, prior)
        intended = code_visit(
            visit,
            encounter_id="",
            new=new,
            payer_kind=coverage.plan_kind,
            vision_payer=ctx.vision_payer,
            fees=fees,
        )
        encounter = Encounter(
            id="",
            practice_id=patient.practice_id,
            patient_id=patient.id,
            provider_id=provider.id,
            date_of_service=dos,
            visit_reason=visit.reason,
            coverage_id=coverage.id,
            appointment_type=visit.appointment_type,
        )
        signer = f"{provider.name}, {provider.credentials}"
        note = ClinicalNote(
            id="",
            encounter_id="",
            text=render_note(rng, visit, age=ctx.age, sex=ctx.sex, dos=dos, provider=signer),
            finalized=True,
            finalized_at=datetime.combine(
                dos + timedelta(days=rng.choice((0, 0, 0, 1))), time(rng.randint(12, 19), 0)
            ),
            author_provider_id=provider.id,
        )
        chart.visits.append(WrittenVisit(encounter, note, intended, chronic=not plan.scenario.acute))
        chart.seen.append((dos, patient.practice_id, provider.specialty))
        chart.done.update({line.code: dos for line in intended.lines})
    return chart
