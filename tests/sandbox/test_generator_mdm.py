"""The generator's visit codes follow the README's MDM rule (2 of 3 elements) from the facts it writes."""

import pytest

from sandbox.generator.coding import exam_code, mdm_level
from sandbox.generator.visits import Visit


def _visit(**facts: str) -> Visit:
    return Visit(
        scenario="t", benefit="medical", exam="em", reason="", appointment_type="follow_up", dx=[], **facts
    )


@pytest.mark.parametrize(
    ("problems", "management", "data", "level"),
    [
        ("stable_chronic", "rx", "minimal", 3),  # one stable chronic illness on Rx drops
        ("two_chronic", "rx", "minimal", 4),
        ("progressing", "rx", "minimal", 4),
        ("stable_chronic", "none", "minimal", 2),  # stable, no treatment
        ("self_limited", "none", "minimal", 2),
        ("stable_chronic", "otc", "minimal", 3),
        ("progressing", "none", "minimal", 2),  # only one element at moderate
        ("progressing", "surgery", "minimal", 4),
        ("stable_chronic", "none", "limited", 3),  # an independent historian lifts the data element
    ],
)
def test_the_level_is_met_by_two_of_three_elements(
    problems: str, management: str, data: str, level: int
) -> None:
    assert mdm_level(_visit(problems=problems, management=management, data=data)) == level


def test_the_em_code_follows_the_level_and_the_eye_codes_do_not() -> None:
    stable = _visit(problems="stable_chronic", management="rx")
    assert exam_code(stable, new=False, vision_payer=None) == "99213"
    assert exam_code(stable, new=True, vision_payer=None) == "99203"
    stable.exam = "intermediate"
    assert exam_code(stable, new=False, vision_payer=None) == "92012"
