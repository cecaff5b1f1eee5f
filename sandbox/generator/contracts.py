"""Payer contracts per practice and the allowed amount each contract promises for a line."""

from datetime import date
from decimal import Decimal

from billing.contracts import Contract, FeeScheduleEntry
from billing.money import round_cents
from billing.practice import Practice
from sandbox.generator.fee_tables import MEDICAID_FEES, MEDICARE_ALLOWED_2024, VISION_FEES
from sandbox.generator.payers import EYEMED, MEDICAID, MEDICARE, MEDICARE_ADVANTAGE, PAYER_BY_ID, VSP

# payer -> (basis, percent, timely filing days); the small office negotiated slightly less.
TERMS: dict[str, tuple[str, float | None, int]] = {
    MEDICARE: ("percent_of_medicare", 100.0, 365),
    MEDICARE_ADVANTAGE: ("percent_of_medicare", 100.0, 365),
    MEDICAID: ("fee_schedule", None, 365),
    "pay-evergreen": ("percent_of_medicare", 110.0, 90),
    "pay-summit": ("percent_of_medicare", 95.0, 180),
    "pay-columbia": ("percent_of_medicare", 125.0, 120),
    VSP: ("fee_schedule", None, 365),
    EYEMED: ("fee_schedule", None, 180),
}
SPECIALTY_LENS_CODES = ["92072", "92313"]


def _fee_schedule(payer_id: str) -> list[FeeScheduleEntry]:
    fees = (
        MEDICAID_FEES
        if payer_id == MEDICAID
        else VISION_FEES.get({VSP: "vsp", EYEMED: "eyemed"}.get(payer_id, ""), {})
    )
    return [FeeScheduleEntry(code=code, amount=amount) for code, amount in sorted(fees.items())]


def build_contracts(practices: list[Practice], *, billed_from: date) -> list[Contract]:
    """One contract per practice and payer, in force from before the first date of service the practice bills.

    The simulated payers price every claim on these terms, so a claim the contract did not cover would be
    a variance no one could score: medical contracts start on 1 January of `billed_from`'s year, vision
    contracts on 1 July of the year before.
    """
    contracts: list[Contract] = []
    for practice in practices:
        for payer_id, (basis, percent, timely) in TERMS.items():
            payer = PAYER_BY_ID[payer_id]
            if percent and practice.id != "prac-1" and payer_id not in (MEDICARE, MEDICARE_ADVANTAGE):
                percent -= 5.0
            vision = payer_id in (VSP, EYEMED)
            terms = (
                f"{percent:g}% of the 2024 Medicare Physician Fee Schedule, "
                f"locality {practice.medicare_locality}"
                if percent
                else "Fixed fee schedule (attached); lesser of billed charge or scheduled amount"
            )
            contracts.append(
                Contract(
                    id=f"ctr-{practice.id}-{payer_id.removeprefix('pay-')}",
                    practice_id=practice.id,
                    payer_id=payer_id,
                    plan_name=payer.name,
                    effective=date(billed_from.year - 1, 7, 1) if vision else date(billed_from.year, 1, 1),
                    basis=basis,
                    percent=percent,
                    fee_schedule=_fee_schedule(payer_id) if basis == "fee_schedule" else [],
                    timely_filing_days=timely,
                    appeal_days=120 if payer_id == MEDICARE else 180,
                    mppr_diagnostic=not vision,
                    prior_auth_codes=SPECIALTY_LENS_CODES
                    if payer_id in (MEDICAID, MEDICARE_ADVANTAGE)
                    else [],
                    terms_text=terms + f". Claims must be filed within {timely} days of the date of service.",
                )
            )
    return contracts


def contract_allowed(contract: Contract, code: str, units: int) -> Decimal | None:
    """Contracted allowed amount before multiple-procedure cuts; None when the code is not priced."""
    if contract.basis == "percent_of_medicare":
        base = MEDICARE_ALLOWED_2024.get(code)
        if base is None or contract.percent is None:
            return None
        return round_cents(base * Decimal(str(contract.percent)) / 100 * units)
    for entry in contract.fee_schedule:
        if entry.code == code:
            return round_cents(entry.amount * units)
    return None
