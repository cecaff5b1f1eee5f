"""A contract made ready for pricing remitted lines: Medicare's reduction rules where the contract is silent."""

from datetime import date

from billing.contracts import Contract, FeeScheduleEntry, MultipleProcedureRule, code_matches
from billing.money import round_cents
from billing.pricing import MedicareFeeSource


def pricing_contract(
    contract: Contract, medicare: MedicareFeeSource | None, *, on: date, medicare_rules: bool
) -> Contract:
    """The contract as the payer prices it.

    With `medicare_rules`: no multiple-procedure rule means Medicare's standard one (MULT PROC 2/3 codes,
    100% then 50%); and a fee schedule under MPPR takes each test's technical component as the fee times
    Medicare's TC share, where the schedule lists no '-TC' fee of its own.
    """
    update: dict[str, object] = {}
    if medicare_rules and contract.multiple_procedure is None and not contract.vision:
        update["multiple_procedure"] = MultipleProcedureRule(codes=[], pfs_indicator=True)
    if (
        medicare_rules
        and medicare is not None
        and contract.basis == "fee_schedule"
        and contract.mppr_diagnostic
        and contract.fee_schedule
    ):
        locality = contract.medicare.locality
        listed = {(entry.code, entry.modifier.upper()) for entry in contract.fee_schedule}
        technical_rows = []
        for entry in contract.fee_schedule:
            if (
                entry.modifier
                or (entry.code, "TC") in listed
                or not code_matches(entry.code, contract.mppr_codes)
            ):
                continue
            whole = medicare.allowed(entry.code, "", locality=locality, on=on)
            technical = medicare.allowed(entry.code, "TC", locality=locality, on=on)
            if whole and technical:
                share = technical / whole
                technical_rows.append(
                    FeeScheduleEntry(code=entry.code, modifier="TC", amount=round_cents(entry.amount * share))
                )
        if technical_rows:
            update["fee_schedule"] = [*contract.fee_schedule, *technical_rows]
    return contract.model_copy(update=update) if update else contract


def prior_year_contract(contract: Contract, on: date) -> Contract | None:
    """The same contract priced on the previous year's Medicare schedule; None when it is not Medicare-based."""
    medicare_based = contract.basis == "percent_of_medicare" or any(
        carve.basis == "percent_of_medicare" for carve in contract.carve_outs
    )
    if not medicare_based:
        return None
    year = (contract.medicare.year or on.year) - 1
    return contract.model_copy(update={"medicare": contract.medicare.model_copy(update={"year": year})})


def unreduced_contract(contract: Contract) -> Contract:
    """The same contract without multiple-procedure or MPPR cuts: each line's price before reductions."""
    return contract.model_copy(update={"multiple_procedure": None, "mppr_diagnostic": False})
