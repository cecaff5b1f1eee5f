"""Variance classification: tolerance in dollars or percent of the expected payment, denials, unpriced lines."""

from decimal import Decimal

import pytest

from billing.payment_variance import classify
from billing.pricing import ExpectedLine


@pytest.mark.parametrize(
    ("expected_paid", "actual_paid", "priced", "classification"),
    [
        ("20.00", "19.50", True, "ok"),  # 0.50 short: the dollar tolerance (1% is only 0.20)
        ("20.00", "19.49", True, "underpaid"),
        ("100.00", "99.00", True, "ok"),  # 1.00 short: 1% of 100.00 beats the 0.50 tolerance
        ("100.00", "98.99", True, "underpaid"),
        ("200.00", "198.00", True, "ok"),  # 2.00 short = 1% of 200.00
        ("200.00", "197.99", True, "underpaid"),
        ("200.00", "202.01", True, "overpaid"),
        ("80.00", "0.00", True, "denied"),
        ("0.00", "0.00", True, "ok"),  # an expected denial that was denied
        ("0.00", "10.00", False, "unpriced"),
    ],
)
def test_classify(expected_paid: str, actual_paid: str, priced: bool, classification: str) -> None:
    line = ExpectedLine(line=1, code="92014", expected_paid=Decimal(expected_paid), priced=priced)
    assert classify(line, Decimal(actual_paid), Decimal("0.50"), Decimal(1)) == classification
