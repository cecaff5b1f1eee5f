"""The variance bar on a generated practice: recall and precision of 95% on seeded underpayments beyond tolerance."""

import time
from decimal import Decimal

from evals.contracts import evaluate_variance
from sandbox.generator import generate_dataset

PATIENTS = 300


def test_seeded_underpayments_are_found_with_95_percent_recall_and_precision() -> None:
    started = time.perf_counter()
    report = evaluate_variance(generate_dataset(11, PATIENTS), patients=PATIENTS)
    assert report.positives >= 20, "too few seeded underpayments to measure"
    assert report.recall >= 0.95, report.by_cause
    assert report.precision >= 0.95, report.false_positive_kinds
    for cause in report.by_cause:
        assert cause.found >= 0.9 * cause.beyond_tolerance, cause
    # The sandbox takes coinsurance on the short allowed amount; the contract's expected payment takes it on
    # the contract price, so the paid shortfall found is a little smaller than the one seeded.
    seeded, found = report.seeded_underpaid_dollars, report.found_on_positives_dollars
    assert Decimal("0.8") * seeded <= found <= Decimal("1.02") * seeded
    assert report.overpaid_found >= 0.9 * report.overpaid_seeded
    assert time.perf_counter() - started < 30
