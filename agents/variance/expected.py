"""The contract's expected allowed amount on each claim line: posting writes off no more than the contract allows."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from agents.variance.pricing_terms import pricing_contract
from billing.claim_input import ClaimInput
from billing.claims import Claim
from billing.contracts import Contract
from billing.money import ZERO
from billing.pricing import MedicareFeeSource, PricingError, expected_payment


def contract_on(contracts: Iterable[Contract], on: date) -> Contract | None:
    """The contract in force on a date of service (the first, should a payer's contracts overlap)."""
    return next((contract for contract in contracts if contract.in_force(on)), None)


def claim_input_of(claim: Claim) -> ClaimInput:
    """The claim as the pricer reads it: codes, modifiers, units and charges on its date of service."""
    return ClaimInput.model_validate(
        {
            "date_of_service": claim.date_of_service,
            # Pricing reads neither the patient nor the payer kind; the validator's model requires them.
            "patient": {"age": 0, "sex": "U"},
            "payer": {"kind": "commercial"},
            "established": True,
            "lines": [
                {"code": line.code, "modifiers": line.modifiers, "units": line.units, "charge": line.charge}
                for line in claim.lines
            ],
        }
    )


def expected_allowed_lines(
    claim: Claim, contract: Contract, *, medicare: MedicareFeeSource | None, medicare_rules: bool = True
) -> dict[int, Decimal]:
    """Claim line number -> the contract's expected allowed amount, for the lines it prices and pays.

    Priced as the variance workflow prices (billing.pricing.expected_payment on the contract with Medicare's
    reduction rules where it is silent), so posting and variance agree. Empty when the contract cannot
    price the claim (not in force, no Medicare locality or fee source ...): nothing is held then.
    """
    terms = pricing_contract(contract, medicare, on=claim.date_of_service, medicare_rules=medicare_rules)
    try:
        payment = expected_payment(
            claim_input_of(claim),
            terms,
            medicare=medicare,
            place_of_service=claim.place_of_service,
            deductible_remaining=ZERO,
        )
    except PricingError:
        return {}
    return {
        claim_line.line_number: priced.expected_allowed
        for claim_line, priced in zip(claim.lines, payment.lines, strict=True)
        if priced.priced and not priced.denied
    }
