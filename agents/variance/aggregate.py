"""The leak: underpaid and overpaid dollars by payer and month, and by code."""

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, Field

from agents.variance.schemas import UNDERPAID_KINDS, LineVariance
from billing.money import ZERO, Money


class LeakRow(BaseModel):
    payer_id: str = ""
    month: str = Field("", description="YYYY-MM of the date of service")
    code: str = ""
    lines: int = 0
    underpaid_lines: int = 0
    underpaid: Money = ZERO
    overpaid_lines: int = 0
    overpaid: Money = ZERO
    denied_but_covered: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)


def _add(row: LeakRow, line: LineVariance) -> None:
    row.lines += 1
    row.by_kind[line.kind] = row.by_kind.get(line.kind, 0) + 1
    if line.kind in UNDERPAID_KINDS:
        row.underpaid_lines += 1
        row.underpaid += line.amount
    elif line.kind == "overpaid":
        row.overpaid_lines += 1
        row.overpaid += line.amount
    elif line.kind == "denied_but_covered":
        row.denied_but_covered += 1


def leak_by(lines: Iterable[LineVariance], *, keys: tuple[str, ...]) -> list[LeakRow]:
    """Rows grouped by any of payer_id, month and code, largest underpayment first."""
    rows: dict[tuple[str, ...], LeakRow] = {}
    for line in lines:
        values = {
            "payer_id": line.payer_id,
            "month": f"{line.date_of_service:%Y-%m}" if line.date_of_service else "",
            "code": line.code,
        }
        group = tuple(values[key] for key in keys)
        row = rows.setdefault(group, LeakRow(**{key: values[key] for key in keys}))
        _add(row, line)
    return sorted(rows.values(), key=lambda row: (-row.underpaid, *(getattr(row, key) for key in keys)))


def total_underpaid(lines: Iterable[LineVariance]) -> Decimal:
    return sum((line.amount for line in lines if line.kind in UNDERPAID_KINDS), ZERO)
