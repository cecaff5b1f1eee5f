"""Each patient's visits: a chronic profile, routine and acute visits, one visit before the window."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from billing.practice import Coverage, Patient
from sandbox.generator.payers import MEDICAID, active_coverage
from sandbox.generator.scenarios import SCENARIO_BY_NAME, SCENARIOS, Case, Scenario

ROUTINE = ("routine_vision", "contact_lens")
# Chronic profiles grow likelier with age: this share of each age band has one beyond routine care.
CHRONIC_SHARE = ((18, 0.12), (40, 0.35), (65, 0.75), (200, 0.9))


@dataclass
class PlannedVisit:
    dos: date
    scenario: Scenario
    case: Case
    index: int


def weekday(day: date) -> date:
    """Clinics see patients Monday to Friday: weekend dates move to Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def _vision_or_medicaid(coverages: list[Coverage], on: date) -> bool:
    vision = active_coverage(coverages, on, vision=True)
    medical = active_coverage(coverages, on, vision=False)
    return vision is not None or (medical is not None and medical.payer_id == MEDICAID)


def _pick(rng: random.Random, options: list[Scenario]) -> Scenario | None:
    if not options:
        return None
    return rng.choices(options, weights=[s.weight for s in options])[0]


def plan_visits(
    rng: random.Random, patient: Patient, coverages: list[Coverage], window_start: date, through: date
) -> list[PlannedVisit]:
    age = patient.age_on(window_start)
    fits = [s for s in SCENARIOS if not s.acute and s.ages[0] <= age <= s.ages[1]]
    chronic_share = next(share for limit, share in CHRONIC_SHARE if age < limit)
    routine_ok = _vision_or_medicaid(coverages, window_start)
    has_vision = active_coverage(coverages, window_start, vision=True) is not None
    profiles: list[Scenario] = []
    medical = _pick(rng, [s for s in fits if s.name not in ROUTINE])
    if medical and rng.random() < chronic_share:
        profiles.append(medical)
    if routine_ok and (not profiles or rng.random() < 0.4):
        options = [s for s in fits if s.name in ROUTINE and (has_vision or s.name == "routine_vision")]
        if routine := _pick(rng, options):
            profiles.append(routine)
    visits: list[PlannedVisit] = []
    for scenario in profiles:
        visits += _chronic_series(rng, scenario, patient, window_start, through)
    for scenario in SCENARIOS:
        if (
            scenario.acute
            and scenario.ages[0] <= age <= scenario.ages[1]
            and rng.random() < scenario.weight * 1.6
        ):
            visits += _episode(rng, scenario, window_start, through)
    if not visits:
        visits += _episode(rng, SCENARIO_BY_NAME["red_eye"], window_start, through)
    return sorted(visits, key=lambda v: (v.dos, v.scenario.name))


def _chronic_series(
    rng: random.Random, scenario: Scenario, patient: Patient, window_start: date, through: date
) -> list[PlannedVisit]:
    case: Case = {}
    low, high = scenario.cadence
    day = window_start + timedelta(days=rng.randint(0, high))
    series: list[PlannedVisit] = []
    if rng.random() < 0.8:
        # A visit before the window: within 3 years it makes the patient established, beyond it new again.
        earlier = weekday(day - timedelta(days=rng.randint(max(low, 380), 1400)))
        if earlier > patient.birth_date + timedelta(days=4 * 365):
            series.append(PlannedVisit(earlier, scenario, case, 0))
    while day <= through and not (scenario.max_visits and len(series) >= scenario.max_visits):
        dos = weekday(day)
        if dos <= through:
            series.append(PlannedVisit(dos, scenario, case, len(series)))
        day = day + timedelta(days=rng.randint(low, high))
    return series


def _episode(rng: random.Random, scenario: Scenario, window_start: date, through: date) -> list[PlannedVisit]:
    case: Case = {}
    first = weekday(window_start + timedelta(days=rng.randrange((through - window_start).days)))
    if first > through:
        return []
    episode = [PlannedVisit(first, scenario, case, 0)]
    low, high = scenario.cadence
    if high and rng.random() < 0.6:
        follow = weekday(first + timedelta(days=rng.randint(low, high)))
        if follow <= through:
            episode.append(PlannedVisit(follow, scenario, case, 1))
    return episode
