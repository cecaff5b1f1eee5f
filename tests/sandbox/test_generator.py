"""The synthetic practice generator: determinism, coverage of scenarios, valid codes, billing history."""

import ast
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import simple_icd_10_cm as icd

from billing.practice import PlanKind
from sandbox import generator
from sandbox.dataset import SyntheticDataset
from sandbox.generator import DEFAULT_THROUGH, UNBILLED_DAYS, generate_dataset
from sandbox.generator.coding import is_new_patient
from sandbox.generator.practices import is_valid_npi
from sandbox.generator.scenarios import SCENARIOS


@pytest.fixture(scope="module")
def dataset() -> SyntheticDataset:
    return generate_dataset(seed=11, patients=300)


def test_same_seed_gives_identical_dataset_and_another_seed_differs() -> None:
    first = generate_dataset(seed=5, patients=60).model_dump_json()
    assert first == generate_dataset(seed=5, patients=60).model_dump_json()
    assert first != generate_dataset(seed=6, patients=60).model_dump_json()


def test_default_through_is_fixed(dataset: SyntheticDataset) -> None:
    assert dataset.generated_through == DEFAULT_THROUGH
    assert max(e.date_of_service for e in dataset.encounters) <= DEFAULT_THROUGH


def test_every_scenario_appears(dataset: SyntheticDataset) -> None:
    seen = {coding.scenario for coding in dataset.intended}
    assert {scenario.name for scenario in SCENARIOS} <= seen


def test_each_scenario_bills_its_signature_codes(dataset: SyntheticDataset) -> None:
    billed: dict[str, set[str]] = {}
    for coding in dataset.intended:
        billed.setdefault(coding.scenario, set()).update(line.code for line in coding.lines)
    for scenario in SCENARIOS:
        assert set(scenario.codes) & billed[scenario.name], scenario.name


def test_generator_imports_only_billing_and_its_own_modules() -> None:
    package = Path(generator.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                top = name.split(".")[0]
                assert top not in {"knowledge", "tools", "agents", "graphs", "api", "evals"}, (
                    module.name,
                    name,
                )


def test_two_practices_split_about_70_30(dataset: SyntheticDataset) -> None:
    share = Counter(p.practice_id for p in dataset.patients)
    assert set(share) == {p.id for p in dataset.practices} and len(share) == 2
    assert 0.6 <= share["prac-1"] / len(dataset.patients) <= 0.8
    localities = {p.medicare_locality for p in dataset.practices}
    assert len(localities) == 2 and all(len(loc.split("-")) == 2 for loc in localities)


def test_npis_are_ten_digits_with_valid_luhn_check() -> None:
    assert is_valid_npi("1234567893")  # the CMS example NPI
    assert not is_valid_npi("1234567890")


def test_every_generated_npi_is_valid(dataset: SyntheticDataset) -> None:
    npis = [p.npi for p in dataset.practices] + [p.npi for p in dataset.providers]
    assert all(is_valid_npi(npi) for npi in npis)
    assert {p.credentials for p in dataset.providers} >= {"OD", "MD"}


def test_patients_span_children_to_ninety_plus(dataset: SyntheticDataset) -> None:
    ages = [p.age_on(dataset.generated_through) for p in dataset.patients]
    assert min(ages) < 12 and max(ages) >= 90


def test_medicare_age_patients_have_medicare_or_advantage(dataset: SyntheticDataset) -> None:
    through = dataset.generated_through
    kinds: dict[str, set[PlanKind]] = {}
    for coverage in dataset.coverages:
        if coverage.termination is None or coverage.termination >= through:
            kinds.setdefault(coverage.patient_id, set()).add(coverage.plan_kind)
    for patient in dataset.patients:
        if patient.age_on(through) >= 66:
            assert kinds[patient.id] & {PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE}
    assert {c.plan_kind for c in dataset.coverages} == set(PlanKind)
    assert any(c.termination for c in dataset.coverages)


def test_encounters_cover_twelve_months_and_recent_ones_stay_unbilled(dataset: SyntheticDataset) -> None:
    through = dataset.generated_through
    dates = [e.date_of_service for e in dataset.encounters]
    assert min(dates) <= through - timedelta(days=365)
    billed = {charge.encounter_id for charge in dataset.charges}
    claimed = {claim.encounter_id for claim in dataset.claims}
    cutoff = through - timedelta(days=UNBILLED_DAYS)
    recent = [e for e in dataset.encounters if e.date_of_service > cutoff]
    older = [e for e in dataset.encounters if e.date_of_service <= cutoff]
    assert recent and all(e.id not in billed and e.id not in claimed for e in recent)
    assert all(e.id in billed for e in older)
    assert all(charge.source == "historical" for charge in dataset.charges)


def test_every_intended_diagnosis_is_a_valid_billable_icd10cm_code(dataset: SyntheticDataset) -> None:
    codes = {code for coding in dataset.intended for code in coding.diagnosis_codes}
    invalid = sorted(code for code in codes if not (icd.is_valid_item(code) and icd.is_leaf(code)))
    assert not invalid


def test_every_billed_code_is_in_the_practice_charge_master(dataset: SyntheticDataset) -> None:
    master = {pid: {e.code: e.amount for e in entries} for pid, entries in dataset.fee_schedules.items()}
    practice = {e.id: e.practice_id for e in dataset.encounters}
    for coding in dataset.intended:
        for line in coding.lines:
            assert master[practice[coding.encounter_id]][line.code] == line.fee
    for charge in dataset.charges:
        assert all(line.code in master[charge.practice_id] for line in charge.lines)


def test_notes_are_finalized_and_carry_the_traps(dataset: SyntheticDataset) -> None:
    assert len(dataset.notes) == len(dataset.encounters)
    assert all(note.finalized and note.finalized_at for note in dataset.notes)
    text = "\n".join(note.text for note in dataset.notes)
    for trap in (
        "denies flashes/floaters",
        "no DR OU",
        "OCT next visit",
        "VF not repeated today",
        "FHx glaucoma",
    ):
        assert trap in text
    styles = Counter("IMPRESSION:" in n.text for n in dataset.notes) + Counter(
        "A/P:" in n.text for n in dataset.notes
    )
    assert styles[True] < len(dataset.notes)  # some notes are neither template nor terse: narrative prose


def test_intended_coding_follows_the_billing_rules(dataset: SyntheticDataset) -> None:
    coverage = {c.id: c for c in dataset.coverages}
    encounters = {e.id: e for e in dataset.encounters}
    gy = twenty_five = 0
    for coding in dataset.intended:
        kind = coverage[encounters[coding.encounter_id].coverage_id or ""].plan_kind
        codes = [line.code for line in coding.lines]
        assert not {"92133", "92134"} <= set(codes)
        for line in coding.lines:
            assert line.units == 1 and line.diagnosis_pointers
            assert max(line.diagnosis_pointers) <= len(coding.diagnosis_codes)
            if line.code == "92015" and kind in (PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE):
                assert "GY" in line.modifiers
                gy += 1
            if line.code == "68761":
                assert len(set(line.modifiers) & {"E1", "E2", "E3", "E4"}) == 1
            if line.code in ("65222", "65205"):
                assert set(line.modifiers) & {"RT", "LT"}
        if set(codes) & {"65222", "65205", "68761"} and coding.lines[0].code[:3] in ("920", "992"):
            assert "25" in coding.lines[0].modifiers
            twenty_five += 1
    assert gy and twenty_five


def test_new_patient_codes_follow_the_three_year_rule(dataset: SyntheticDataset) -> None:
    specialty = {p.id: p.specialty for p in dataset.providers}
    history: dict[tuple[str, str], list] = {}
    coding = {c.encounter_id: c for c in dataset.intended}
    new_codes = {"92004", "99203", "99204", "S0620"}
    established_codes = {"92014", "99213", "99214", "99212", "S0621"}
    counts = Counter()
    for encounter in dataset.encounters:
        key = (encounter.patient_id, specialty[encounter.provider_id])
        exam = coding[encounter.id].lines[0].code
        if exam in new_codes | established_codes:
            new = is_new_patient(encounter.date_of_service, history.get(key, []))
            assert (exam in new_codes) == new
            counts[new] += 1
        history.setdefault(key, []).append(encounter.date_of_service)
    assert counts[True] and counts[False]


def test_some_historical_charges_carry_coding_errors(dataset: SyntheticDataset) -> None:
    intended = {c.encounter_id: c for c in dataset.intended}
    wrong = 0
    for charge in dataset.charges:
        gold = intended[charge.encounter_id]
        same_lines = [(line.code, line.modifiers) for line in charge.lines] == [
            (line.code, line.modifiers) for line in gold.lines
        ]
        wrong += not (same_lines and charge.diagnosis_codes == gold.diagnosis_codes)
    assert 0.025 <= wrong / len(dataset.charges) <= 0.07


def test_denial_rate_is_plausible(dataset: SyntheticDataset) -> None:
    by_claim: dict[str, list] = {}
    for outcome in dataset.outcomes:
        by_claim.setdefault(outcome.claim_id, []).append(outcome)
    denied = [
        cid for cid, lines in by_claim.items() if any(o.status == "denied" and o.group != "PR" for o in lines)
    ]
    assert 0.05 <= len(denied) / len(by_claim) <= 0.20
    rules = {o.rule for o in dataset.outcomes}
    assert {"non_covered_refraction", "timely_filing", "duplicate", "noise", "mppr"} <= rules


def test_claim_status_matches_outcomes(dataset: SyntheticDataset) -> None:
    by_claim: dict[str, list] = {}
    for outcome in dataset.outcomes:
        by_claim.setdefault(outcome.claim_id, []).append(outcome)
    appealed = {a.claim_id for a in dataset.appeals}
    for claim in dataset.claims:
        assert claim.submitted_on and claim.submitted_on >= claim.date_of_service
        assert [e.at for e in claim.history] == sorted(e.at for e in claim.history)
        assert claim.history[-1].status == claim.status
        outcomes = by_claim.get(claim.id)
        if outcomes is None:
            assert claim.status in ("submitted", "accepted")
        elif claim.id not in appealed:
            expected = "denied" if all(o.status == "denied" for o in outcomes) else None
            assert expected is None or claim.status == expected
    assert any(c.status in ("submitted", "accepted") for c in dataset.claims)


def test_contracts_cover_every_payer_at_both_practices(dataset: SyntheticDataset) -> None:
    pairs = {(c.practice_id, c.payer_id) for c in dataset.contracts}
    assert pairs == {(p.id, payer.id) for p in dataset.practices for payer in dataset.payers}
    kinds = {payer.id: payer.kind for payer in dataset.payers}
    for contract in dataset.contracts:
        if kinds[contract.payer_id] == PlanKind.MEDICARE:
            assert contract.basis == "percent_of_medicare" and contract.percent == 100
        if kinds[contract.payer_id] in (PlanKind.MEDICAID, PlanKind.VISION):
            assert contract.basis == "fee_schedule" and contract.fee_schedule


def test_every_billed_claim_falls_in_its_contracts_term(dataset: SyntheticDataset) -> None:
    """Claims go back years before the window (visits that make a patient established): so do contracts,
    or the variances the simulated payers seed on those claims could not be priced and scored."""
    contracts = {(c.practice_id, c.payer_id): c for c in dataset.contracts}
    window_start = DEFAULT_THROUGH - timedelta(days=generator.WINDOW_DAYS)
    assert min(claim.date_of_service for claim in dataset.claims) < window_start - timedelta(days=365)
    outside = [
        claim.id
        for claim in dataset.claims
        if not contracts[(claim.practice_id, claim.payer_id)].in_force(claim.date_of_service)
    ]
    assert outside == []


def test_appeals_users_and_appointments(dataset: SyntheticDataset) -> None:
    assert {a.outcome for a in dataset.appeals} >= {"won", "lost"}
    for practice in dataset.practices:
        roles = {role for u in dataset.users if practice.id in u.practice_ids for role in u.roles}
        assert roles >= {"Biller", "Coder", "Admin"}
    assert any(len(u.practice_ids) == 2 and "Admin" in u.roles for u in dataset.users)
    assert all(a.scheduled_for > dataset.generated_through for a in dataset.appointments)
    assert any(a.procedure_code == "92313" for a in dataset.appointments)
