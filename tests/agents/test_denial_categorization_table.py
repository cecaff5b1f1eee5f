"""Denial categorization and next actions against a hand-labelled table of CARC/RARC combinations."""

from pathlib import Path

import pytest
import yaml

from agents.denials.schemas import DenialContext, NextAction
from agents.denials.triage import decide
from knowledge.codes.adjustments import DenialCategory

CASES = yaml.safe_load((Path(__file__).parent / "denial_cases.yaml").read_text(encoding="utf-8"))


def _case_id(case: dict) -> str:
    remarks = "+".join(case["rarcs"]) or "none"
    context = ",".join(f"{k}={v}" for k, v in sorted(case.get("context", {}).items()))
    return f"{case['group']}-{case['carc']}/{remarks}" + (f"/{context}" if context else "")


def test_the_table_is_large_enough_and_distinct() -> None:
    assert len(CASES) >= 40
    assert len({_case_id(case) for case in CASES}) == len(CASES)
    combinations = {(case["group"], case["carc"], tuple(case["rarcs"])) for case in CASES}
    assert len(combinations) >= 40


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_denial_matches_the_hand_label(case: dict) -> None:
    decision = decide(case["group"], case["carc"], case["rarcs"], DenialContext(**case.get("context", {})))
    assert decision.category is DenialCategory(case["category"])
    assert decision.correctable is case["correctable"]
    assert decision.appealable is case["appealable"]
    assert decision.action is NextAction(case["action"])
    assert decision.root_cause and decision.action_reason


def test_group_prefix_and_case_are_ignored() -> None:
    assert decide("co", "co-50", ["n115"]).action is NextAction.APPEAL
