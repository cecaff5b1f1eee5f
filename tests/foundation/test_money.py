"""Money is Decimal, rounded half-up to the cent, and travels in JSON as a two-decimal string."""

import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from billing.money import Money, round_cents, to_money


class Priced(BaseModel):
    amount: Money


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", "12.50"),
        (12.5, "12.50"),
        (0.1, "0.10"),
        ("$1,234.005", "1234.01"),
        (7, "7.00"),
        ("-3.335", "-3.34"),
    ],
)
def test_money_serializes_as_two_decimal_string(raw: object, expected: str) -> None:
    assert json.loads(Priced(amount=raw).model_dump_json())["amount"] == expected


def test_money_stays_decimal_in_python() -> None:
    priced = Priced(amount="19.99")
    assert isinstance(priced.amount, Decimal)
    assert priced.amount + Decimal("0.01") == Decimal("20.00")


@pytest.mark.parametrize(("raw", "expected"), [("2.675", "2.68"), ("2.665", "2.67"), ("0.005", "0.01")])
def test_round_half_up_to_the_cent(raw: str, expected: str) -> None:
    assert round_cents(Decimal(raw)) == Decimal(expected)


@pytest.mark.parametrize("raw", ["twelve", True, "", None])
def test_not_money_is_refused(raw: object) -> None:
    with pytest.raises((ValidationError, ValueError)):
        Priced(amount=raw)
    if raw is not None and raw != "":
        with pytest.raises(ValueError):
            to_money(raw)
