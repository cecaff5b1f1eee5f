"""Scrub fixes are concrete edits, and approving them becomes one claim edit plus tasks for the biller."""

from datetime import date
from decimal import Decimal

import pytest

from agents.risk.baseline import RulesBaseline
from agents.scrub.checks import npi_valid
from agents.scrub.facts import ClaimFacts, claim_input_for
from agents.scrub.fixes import CLAIM_EDIT_OPS, Fix, FixEdit, claim_changes
from agents.scrub.scrub import scrub_claim
from billing.claims import Claim, ClaimLine
from billing.practice import Coverage, Payer, PlanKind, Sex
from billing.settings import Settings
from knowledge.base import KnowledgeBase, load_knowledge

DOS = date(2025, 3, 10)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("kb") / "var"))


def _coverage(id_: str, kind: PlanKind, payer_id: str, **dates: date) -> Coverage:
    return Coverage(
        id=id_,
        patient_id="pat-1",
        payer_id=payer_id,
        plan_name=f"{id_} plan",
        plan_kind=kind,
        member_id="M1",
        **dates,
    )


def _facts(lines: list[ClaimLine], diagnoses: list[str], **changes: object) -> ClaimFacts:
    medicare = _coverage("cov-med", PlanKind.MEDICARE, "pay-medicare")
    vision = _coverage("cov-vis", PlanKind.VISION, "pay-vsp")
    claim = Claim(
        id="clm-1",
        practice_id="prac-1",
        patient_id="pat-1",
        encounter_id="enc-1",
        provider_id="prv-1",
        payer_id="pay-medicare",
        coverage_id="cov-med",
        date_of_service=DOS,
        diagnosis_codes=diagnoses,
        lines=lines,
        submitted_on=DOS,
    )
    values: dict[str, object] = {
        "claim": claim,
        "payer": Payer(id="pay-medicare", name="Medicare Part B", kind=PlanKind.MEDICARE),
        "coverage": medicare,
        "coverages": [medicare, vision],
        "patient_age": 70,
        "patient_sex": Sex.F,
        "member_id": "M1",
        "provider_npi": "1234567893",
        "practice_npi": "1234567893",
        "encounter_place_of_service": "11",
        "visit_dates": [date(2024, 3, 1)],
        "as_of": DOS,
        **changes,
    }
    return ClaimFacts.model_validate(values)


def _line(
    number: int, code: str, modifiers: list[str] | None = None, pointers: list[int] | None = None
) -> ClaimLine:
    return ClaimLine(
        line_number=number,
        code=code,
        modifiers=modifiers or [],
        diagnosis_pointers=pointers or [1],
        charge=Decimal("100.00"),
    )


def test_errors_get_concrete_edits_and_approval_is_one_claim_edit(kb: KnowledgeBase) -> None:
    facts = _facts(
        [_line(1, "92014"), _line(2, "65222", pointers=[2]), _line(3, "92015", pointers=[3])],
        ["H40.1131", "T15.01XA", "H52.13"],
    )
    result = scrub_claim(claim_input_for(facts), kb, RulesBaseline(), facts)
    edits = {(fix.edit.op, fix.edit.line, str(fix.edit.value)) for fix in result.fixes}
    assert ("add_modifier", 1, "25") in edits  # the exam beside a minor procedure
    assert ("add_modifier", 2, "RT") in edits  # 65222 for a right-eye foreign body
    assert ("add_modifier", 3, "GY") in edits or ("move_line_to_payer", 3, "cov-vis") in edits
    assert result.risk.band == "high" and result.needs_review

    changes = claim_changes(facts.claim, result.fixes, note="test", plan_names={"cov-vis": "VSP"})
    assert changes.edit is not None and changes.edit.lines is not None
    by_code = {line.code: line for line in changes.edit.lines}
    assert "25" in by_code["92014"].modifiers and "RT" in by_code["65222"].modifiers
    assert [line.line_number for line in changes.edit.lines] == list(range(1, len(changes.edit.lines) + 1))


def test_routine_claim_to_medicare_moves_to_the_vision_plan(kb: KnowledgeBase) -> None:
    facts = _facts([_line(1, "S0621")], ["Z01.00"])
    result = scrub_claim(claim_input_for(facts), kb, RulesBaseline(), facts)
    assert any(fix.edit.op == "set_coverage" and fix.edit.value == "cov-vis" for fix in result.fixes)
    changes = claim_changes(facts.claim, result.fixes, note="move")
    assert changes.edit is not None and changes.edit.coverage_id == "cov-vis"


def test_missing_coverage_unknown_payer_bad_npi_are_findings(kb: KnowledgeBase) -> None:
    facts = _facts([_line(1, "92014")], ["H40.1131"], coverage=None, payer=None, provider_npi="1234567890")
    result = scrub_claim(claim_input_for(facts), kb, RulesBaseline(), facts)
    codes = {item.code for item in result.findings}
    assert {"COVERAGE_MISSING", "PAYER_UNKNOWN", "NPI_INVALID"} <= codes
    assert result.has_errors


def test_empty_claim_is_a_finding_not_a_crash(kb: KnowledgeBase) -> None:
    facts = _facts([], [])
    result = scrub_claim(claim_input_for(facts), kb, RulesBaseline(), facts)
    assert "EMPTY_CLAIM" in {item.code for item in result.findings}


def test_duplicate_claim_already_sent(kb: KnowledgeBase) -> None:
    first = _facts([_line(1, "92014")], ["H40.1131"]).claim.model_copy(update={"id": "clm-0"})
    facts = _facts([_line(1, "92014")], ["H40.1131"], other_claims=[first])
    result = scrub_claim(claim_input_for(facts), kb, RulesBaseline(), facts)
    duplicate = next(item for item in result.findings if item.code == "DUPLICATE_CLAIM")
    assert duplicate.lines == [1] and "clm-0" in duplicate.message


def test_task_fixes_do_not_edit_the_claim() -> None:
    facts = _facts([_line(1, "92014")], ["H40.1131"])
    fixes = [Fix(description="Get the authorization", edit=FixEdit(op="task", value="Call the payer"))]
    changes = claim_changes(facts.claim, fixes, note="n")
    assert changes.edit is None and [t.kind for t in changes.tasks] == ["claim_fix"]
    assert "task" not in CLAIM_EDIT_OPS


def test_npi_check_digit() -> None:
    assert npi_valid("1234567893")
    assert not npi_valid("1234567890")
    assert not npi_valid("123456789")
