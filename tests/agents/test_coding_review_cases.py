"""Review cases of the coder's rules (tests/agents/coding_review_cases.yaml): each note with what a coder bills."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.coding.offline import OfflineCoder
from agents.coding.schemas import PriorVisit
from tests.support.coding_requests import coding_request

CASES = yaml.safe_load((Path(__file__).parent / "coding_review_cases.yaml").read_text(encoding="utf-8"))
SURGERY = [{"date": "2026-01-27", "codes": ["66984"], "specialty": "ophthalmology"}]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_review_case(case: dict[str, Any]) -> None:
    history = [PriorVisit(**visit) for visit in case.get("history", SURGERY)]
    fields = {"payer_kind": "medicare", "date_of_service": date(2026, 2, 3), "history": history}
    fields |= {
        key: case[key]
        for key in ("payer_kind", "date_of_service", "established", "patient_age")
        if key in case
    }
    suggestion = OfflineCoder(opinion=None).suggest(coding_request(case["note"], **fields))
    codes = [line.code for line in suggestion.lines]
    diagnoses = {d.code for d in suggestion.diagnoses}
    expect = case["expect"]
    # every case's note bills something: a check of what is absent must not pass on an empty charge
    assert codes and diagnoses, (codes, diagnoses)
    assert not set(expect.get("absent", [])) & set(codes), codes
    assert set(expect.get("present", [])) <= set(codes), codes
    if "lines" in expect:
        assert codes == expect["lines"]
    for code, modifier in expect.get("modifier_on", {}).items():
        assert any(line.code == code and modifier in line.modifiers for line in suggestion.lines), (
            suggestion.lines
        )
    for modifier in expect.get("no_modifier", []):
        assert all(modifier not in line.modifiers for line in suggestion.lines), suggestion.lines
    if "diagnoses" in expect:
        assert diagnoses == set(expect["diagnoses"])
    assert not set(expect.get("dx_absent", [])) & diagnoses, diagnoses
    assert set(expect.get("dx_present", [])) <= diagnoses, diagnoses
