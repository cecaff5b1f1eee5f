"""Approved extracted terms written onto a Contract, each term's sentence kept as its evidence."""

from datetime import date
from decimal import Decimal
from typing import Any

from agents.contracts.schemas import ExtractedTerm
from billing.contracts import Contract, Copay, CostShare, MultipleProcedureRule
from billing.money import to_money


def _update_for(term: ExtractedTerm, contract: Contract) -> dict[str, Any]:
    """The Contract fields one term sets (empty for terms that are references only)."""
    value = term.value
    match term.term:
        case "basis":
            return {"basis": str(value)}
        case "percent":
            return {"percent": float(value)}
        case "medicare.year":
            return {"medicare": contract.medicare.model_copy(update={"year": int(value)})}
        case "medicare.locality":
            return {"medicare": contract.medicare.model_copy(update={"locality": str(value)})}
        case "unlisted_percent_of_charges":
            return {"unlisted_percent_of_charges": Decimal(str(value))}
        case "lesser_of_billed":
            return {"lesser_of_billed": bool(value)}
        case "timely_filing_days":
            return {"timely_filing_days": int(value)}
        case "appeal_days":
            return {"appeal_days": int(value)}
        case "multiple_procedure":
            if value is None:
                return {"multiple_procedure": None}
            schedule = [Decimal(str(p)) for p in value.get("schedule", [100, 50])]
            return {"multiple_procedure": MultipleProcedureRule(schedule=schedule)}
        case "mppr_diagnostic":
            update: dict[str, Any] = {"mppr_diagnostic": bool(value.get("applies", True))}
            if value.get("tc_pct") is not None:
                update["mppr_tc_pct"] = Decimal(str(value["tc_pct"]))
            return update
        case "prior_auth_codes":
            return {"prior_auth_codes": [str(code) for code in value]}
        case "cost_share.deductible":
            return {"cost_share": contract.cost_share.model_copy(update={"deductible": to_money(value)})}
        case "cost_share.coinsurance_pct":
            return {
                "cost_share": contract.cost_share.model_copy(update={"coinsurance_pct": Decimal(str(value))})
            }
        case "cost_share.copay":
            copay = Copay(kind=str(value["kind"]), amount=to_money(value["amount"]))
            kept = [c for c in contract.cost_share.copays if c.kind != copay.kind]
            return {"cost_share": CostShare(**{**contract.cost_share.model_dump(), "copays": [*kept, copay]})}
        case "effective":
            return {"effective": date.fromisoformat(str(value))}
        case "termination":
            return {"termination": date.fromisoformat(str(value))}
    return {}


def apply_terms(contract: Contract, terms: list[ExtractedTerm]) -> Contract:
    """contract with the terms set, in order; `evidence` maps each term to its sentence."""
    evidence = dict(contract.evidence)
    for term in terms:
        contract = contract.model_copy(update=_update_for(term, contract))
        evidence[term.term] = term.sentence
    validated = Contract.model_validate({**contract.model_dump(), "evidence": evidence})
    return validated
