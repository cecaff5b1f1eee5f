"""The validator against a table of claims (validator_cases.yaml), each naming exactly its findings."""

import re
from collections import Counter
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import yaml

from billing.charges import Charge, ChargeLine
from billing.claim_input import ClaimInput, ClaimPatient, ClaimPayer, HistoryVisit
from billing.findings import Severity
from billing.settings import Settings
from knowledge.base import KnowledgeBase, load_knowledge
from knowledge.validation.engine import validate, validate_charge

HERE = Path(__file__).resolve().parent
TABLE = yaml.safe_load((HERE / "validator_cases.yaml").read_text())
FINDINGS_DOC = HERE.parent.parent / "docs" / "findings.md"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def case_claim(case: dict[str, Any]) -> ClaimInput:
    data = _merge(TABLE["defaults"], case.get("claim", {}))
    for key in case.get("drop", []):
        data.pop(key, None)
    return ClaimInput.model_validate(data)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The curated knowledge (nothing imported): the table must hold without CMS files."""
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("validator") / "var")
    return load_knowledge(settings)


CASES = TABLE["cases"]


def test_table_is_large_and_ids_unique() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case(case: dict[str, Any], kb: KnowledgeBase) -> None:
    claim = case_claim(case)
    findings = validate(claim, kb, fee_schedule_codes=case.get("fee_schedule_codes"))
    got = sorted(item.code for item in findings)
    assert got == sorted(case["expect"]), [item.model_dump() for item in findings]
    for code, severity in case.get("severities", {}).items():
        assert {item.severity.value for item in findings if item.code == code} == {severity}, code
    for code, lines in case.get("lines", {}).items():
        assert [item.lines for item in findings if item.code == code] == [lines], code
    # Every finding is complete and points inside the claim; the order is by line, then code.
    for item in findings:
        assert item.severity in set(Severity)
        assert item.message.strip() and item.fix.strip(), item
        assert all(1 <= n <= len(claim.lines) for n in item.lines), item
    keys = [(item.lines[0] if item.lines else 0, item.code) for item in findings]
    assert keys == sorted(keys)


def test_every_check_is_exercised_and_documented() -> None:
    # The validator's codes are documented under "## Finding codes"; later sections cover other features.
    section = FINDINGS_DOC.read_text().split("## Finding codes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.MULTILINE))
    exercised = {code for case in CASES for code in case["expect"]}
    assert exercised == documented, (exercised - documented, documented - exercised)


def test_validation_is_deterministic(kb: KnowledgeBase) -> None:
    busy = next(case for case in CASES if case["id"] == "kitchen_sink")
    first = [item.model_dump() for item in validate(case_claim(busy), kb)]
    again = [item.model_dump() for item in validate(case_claim(busy), kb)]
    assert first == again and len(first) >= 5


def test_validate_charge_maps_pointers_and_line_numbers(kb: KnowledgeBase) -> None:
    charge = Charge(
        practice_id="p1",
        encounter_id="e1",
        patient_id="pt1",
        diagnosis_codes=["H40.1131", "T15.01XA"],
        lines=[
            ChargeLine(code="92014", diagnosis_pointers=[1]),
            ChargeLine(code="65222", modifiers=["LT"], diagnosis_pointers=[2]),
            ChargeLine(code="92083", diagnosis_pointers=[]),
        ],
    )
    findings = validate_charge(
        charge,
        kb,
        date_of_service=TABLE["defaults"]["date_of_service"],
        patient=ClaimPatient(age=70, sex="F"),
        payer=ClaimPayer(name="Medicare", kind="medicare"),
        established=True,
        history=[HistoryVisit(date="2023-01-05", codes=["92014"])],
    )
    by_code = {item.code: item.lines for item in findings}
    assert by_code == {"EM_MISSING_25": [1, 2], "LATERALITY_MISMATCH": [2], "DX_POINTER_MISSING": [3]}


def test_partial_model_gives_findings_not_errors(kb: KnowledgeBase) -> None:
    claim = ClaimInput.model_construct(
        date_of_service=None,
        patient=ClaimPatient(age=40, sex="M"),
        payer=ClaimPayer(kind="commercial"),
        established=False,
        history=[],
        lines=[],
        submitted_on=None,
        prior_auth=None,
        coverage=None,
    )
    assert Counter(item.code for item in validate(claim, kb)) == Counter(
        {"MISSING_DATE": 1, "EMPTY_CLAIM": 1}
    )
