"""Money: Decimal amounts, rounded half-up to the cent, serialized as two-decimal strings."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")


def to_money(value: Any) -> Decimal:
    """Parse a money amount; floats go through str() so 0.1 stays 0.10, never 0.1000000000000000055."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a money amount cannot be a boolean")
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a money amount: {value!r}") from exc


def round_cents(amount: Decimal) -> Decimal:
    """Round to the cent, half-up, as payers do."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(amount: Decimal) -> str:
    return f"{round_cents(amount)}"


Money = Annotated[
    Decimal,
    BeforeValidator(to_money),
    PlainSerializer(money_str, return_type=str, when_used="json"),
]
ZERO = Decimal("0.00")
