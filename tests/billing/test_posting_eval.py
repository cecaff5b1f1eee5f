"""The posting eval on a generated practice: >= 99% of a month's claim payments auto-matched, none wrongly."""

import pytest

from evals.posting import MANGLE_MODES, evaluate_posting, last_month, parse_month
from sandbox.dataset import SyntheticDataset
from sandbox.generator import generate_dataset


@pytest.fixture(scope="module")
def practice() -> SyntheticDataset:
    return generate_dataset(7, 300)


@pytest.fixture(scope="module")
def month(practice: SyntheticDataset):
    return parse_month(practice)


def test_a_sandbox_month_auto_matches_at_least_99_percent_with_no_wrong_match(practice, month) -> None:
    report = evaluate_posting(practice, seed=3, mangle_share=0.0, parsed=month)
    files = last_month(practice)
    assert report.files == len(files)
    assert report.claim_payments == sum(len(f.claim_ids) for f in files) > 20
    assert report.wrong_matches == 0, report.wrong_examples
    assert report.auto_match_rate >= 0.99
    assert report.unexplained == 0


def test_mangled_control_numbers_are_found_again_and_never_matched_wrongly(practice, month) -> None:
    report = evaluate_posting(practice, seed=3, mangle_share=0.3, parsed=month)
    mangled = sum(report.mangled.values())
    assert set(report.mangled) <= set(MANGLE_MODES) and mangled > 0
    assert report.wrong_matches == 0, report.wrong_examples
    assert report.matched_by.get("fuzzy", 0) > 0
    # Each mangled payment is matched to its own claim or left to a person, never given to another claim.
    unmatched = sum(report.unmatched_causes.values())
    assert report.mangled_matched + unmatched == mangled
    assert report.mangled_matched >= 0.75 * mangled
    assert report.claim_payments - report.auto_matched == unmatched
    assert all(cause.startswith("mangled") for cause in report.unmatched_causes)
    assert report.unexplained == 0
