"""A Medicare fee source from a plain price list per year (a MAC's fee schedule download, or a test world's)."""

from datetime import date
from decimal import Decimal

from pydantic import BaseModel


class TableIndicators(BaseModel):
    pctc: str = "0"
    mult_proc: str = "0"
    bilat_surg: str = "0"


class MedicareFeeTable:
    """billing.pricing.MedicareFeeSource over {year: {code or 'code-MOD': amount}} for one locality.

    A code with a '-TC' price has PC/TC indicator 1; `multiple_surgery_codes` carry MULT PROC 2.
    The year used is the latest one not after the date asked for (the earliest if all are later).
    """

    def __init__(
        self, prices: dict[int, dict[str, Decimal]], *, multiple_surgery_codes: frozenset[str] = frozenset()
    ) -> None:
        if not prices:
            raise ValueError("a Medicare fee table needs at least one year of prices")
        self.prices = prices
        self.multiple_surgery_codes = multiple_surgery_codes

    def _year(self, on: date | None) -> dict[str, Decimal]:
        years = sorted(self.prices)
        if on is None:
            return self.prices[years[-1]]
        usable = [year for year in years if year <= on.year]
        return self.prices[usable[-1] if usable else years[0]]

    def allowed(
        self, code: str, modifier: str = "", *, locality: str, facility: bool = False, on: date | None = None
    ) -> Decimal | None:
        table = self._year(on)
        component = next((m for m in modifier.split() if m in ("TC", "26")), "")
        if component == "TC":
            return table.get(f"{code}-TC")
        if component == "26":
            whole, technical = table.get(code), table.get(f"{code}-TC")
            return None if whole is None or technical is None else whole - technical
        return table.get(code)

    def indicators(self, code: str, on: date | None = None) -> TableIndicators | None:
        table = self._year(on)
        if code not in table:
            return None
        return TableIndicators(
            pctc="1" if f"{code}-TC" in table else "0",
            mult_proc="2" if code in self.multiple_surgery_codes else "0",
        )
