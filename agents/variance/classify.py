"""Each remitted line priced under its contract and classified: underpaid (and why), overpaid, denied but covered."""

from collections.abc import Callable
from decimal import Decimal

from agents.variance.pricing_terms import pricing_contract, prior_year_contract, unreduced_contract
from agents.variance.schemas import CostShareFacts, LineVariance, VarianceKind, VarianceOptions
from billing.claim_input import ClaimInput
from billing.contracts import Contract
from billing.money import ZERO, round_cents
from billing.pricing import HUNDRED, ExpectedLine, MedicareFeeSource, PricingError, expected_payment
from billing.remittance import ClaimPayment, Remittance, ServiceLinePayment

REVERSAL = "22"
REDUCTION_CARCS = frozenset({"59"})  # processed under multiple or concurrent procedure rules
# How close an allowed amount must be to the prior year's price to say the payer used that schedule.
PRIOR_YEAR_MATCH = Decimal("0.10")
PRIOR_YEAR_MATCH_PCT = Decimal("0.5")

CostShareLookup = Callable[[str], CostShareFacts | None]


def _key(code: str, modifiers: list[str]) -> tuple[str, tuple[str, ...]]:
    return code.strip().upper(), tuple(sorted(m.strip().upper() for m in modifiers))


def _adjusted(line: ServiceLinePayment, group: str, reasons: frozenset[str] | None = None) -> Decimal:
    return sum(
        (a.amount for a in line.adjustments if a.group == group and (reasons is None or a.reason in reasons)),
        ZERO,
    )


def actual_allowed(line: ServiceLinePayment) -> Decimal:
    """AMT*B6 when the payer sent it, else paid plus the patient's share (CAS PR)."""
    if line.allowed is not None:
        return line.allowed
    return line.paid + _adjusted(line, "PR")


def line_number_of(claim: ClaimPayment, line: ServiceLinePayment, position: int) -> int:
    """The billed line number from REF*6R '<claim>-<n>' when present, else the line's position."""
    prefix, _, number = line.line_control_number.rpartition("-")
    if number.isdigit() and (prefix == claim.patient_control_number or not prefix):
        return int(number)
    return position


def claim_from_remit(claim: ClaimPayment) -> ClaimInput:
    """The claim as billed, read back from the remit's service lines."""
    dos = next((line.date_of_service for line in claim.lines if line.date_of_service), None)
    return ClaimInput.model_validate(
        {
            "date_of_service": dos or claim.statement_from,
            "patient": {"age": 0, "sex": "U"},
            "payer": {"kind": "commercial"},
            "established": True,
            "lines": [
                {
                    "code": line.submitted_code or line.code,
                    "modifiers": line.modifiers[:4],
                    "units": max(1, round(line.original_units or line.units or 1)),
                    "charge": line.charge,
                }
                for line in claim.lines
            ],
        }
    )


def _price(
    claim: ClaimInput, contract: Contract, medicare: MedicareFeeSource | None
) -> tuple[list[ExpectedLine] | None, str]:
    """The priced lines, or None and the reason the claim cannot be priced."""
    try:
        return expected_payment(claim, contract, medicare=medicare, deductible_remaining=ZERO).lines, ""
    except PricingError as exc:
        return None, str(exc)


class _Gap:
    def __init__(self, options: VarianceOptions) -> None:
        self.options = options

    def allowed(self, expected: Decimal) -> Decimal:
        return max(self.options.tolerance, round_cents(abs(expected) * self.options.tolerance_pct / HUNDRED))


def _patient_share(
    allowed: Decimal, deductible: Decimal, copay: Decimal, cost_share: CostShareFacts
) -> tuple[Decimal, Decimal, Decimal]:
    """(deductible, copay, coinsurance) on an allowed amount, with the payer's deductible and copay taken as given."""
    deductible = min(deductible, allowed)
    copay = min(copay, allowed - deductible)
    coinsurance = round_cents((allowed - deductible - copay) * cost_share.coinsurance_pct / HUNDRED)
    return deductible, copay, coinsurance


def classify_remittance(
    remittance: Remittance,
    contract: Contract,
    *,
    remittance_id: str,
    medicare: MedicareFeeSource | None = None,
    cost_share_for: CostShareLookup | None = None,
    options: VarianceOptions | None = None,
) -> list[LineVariance]:
    """Every non-reversal service line of the remittance, priced under contract and classified.

    The payer's deductible (PR-1) and copay (PR-3) are taken as applied (up to the plan's copay);
    coinsurance is recomputed from the plan's percent (`cost_share_for(claim id)`, else the contract's).
    """
    options = options or VarianceOptions()
    found: list[LineVariance] = []
    for transaction in remittance.transactions:
        for paid_claim in transaction.claims:
            if paid_claim.status == REVERSAL or paid_claim.reversal or not paid_claim.lines:
                continue
            found += _classify_claim(
                paid_claim,
                contract,
                remittance_id=remittance_id,
                practice_id=remittance.practice_id or contract.practice_id,
                medicare=medicare,
                cost_share=(cost_share_for(paid_claim.patient_control_number) if cost_share_for else None)
                or CostShareFacts(
                    coinsurance_pct=contract.cost_share.coinsurance_pct,
                    copay=sum((c.amount for c in contract.cost_share.copays), ZERO),
                ),
                options=options,
            )
    return found


def _classify_claim(
    paid_claim: ClaimPayment,
    contract: Contract,
    *,
    remittance_id: str,
    practice_id: str,
    medicare: MedicareFeeSource | None,
    cost_share: CostShareFacts,
    options: VarianceOptions,
) -> list[LineVariance]:
    billed = claim_from_remit(paid_claim)
    dos = billed.date_of_service
    priced = prior = unreduced = None
    why_unpriced = "the remittance gives no date of service"
    if dos is not None:
        terms = pricing_contract(contract, medicare, on=dos, medicare_rules=options.medicare_rules)
        priced, why_unpriced = _price(billed, terms, medicare)
        prior_terms = prior_year_contract(terms, dos)
        prior = _price(billed, prior_terms, medicare)[0] if prior_terms and medicare else None
        unreduced = _price(billed, unreduced_contract(terms), medicare)[0]
    count = len(priced or [])
    unclaimed = list(zip(priced or [], prior or [None] * count, unreduced or [None] * count, strict=False))
    copay_left = cost_share.copay
    gap = _Gap(options)
    lines: list[LineVariance] = []
    for position, remit_line in enumerate(paid_claim.lines, start=1):
        key = _key(remit_line.submitted_code or remit_line.code, remit_line.modifiers)
        match = next((pair for pair in unclaimed if _key(pair[0].code, pair[0].modifiers) == key), None)
        base = LineVariance(
            id=f"{remittance_id}:{paid_claim.patient_control_number}:{line_number_of(paid_claim, remit_line, position)}",
            practice_id=practice_id,
            payer_id=contract.payer_id,
            contract_id=contract.id,
            remittance_id=remittance_id,
            claim_id=paid_claim.patient_control_number,
            payer_claim_control_number=paid_claim.payer_claim_control_number,
            line_number=line_number_of(paid_claim, remit_line, position),
            code=key[0],
            modifiers=list(remit_line.modifiers),
            date_of_service=remit_line.date_of_service or dos,
            charge=remit_line.charge,
            actual_allowed=actual_allowed(remit_line),
            actual_paid=remit_line.paid,
            kind="unmatched",
        )
        if priced is None:
            lines.append(base.model_copy(update={"kind": "unpriced", "explanation": why_unpriced}))
            continue
        if match is None:
            lines.append(
                base.model_copy(update={"explanation": "no billed line has this code and modifiers"})
            )
            continue
        unclaimed.remove(match)
        expected, prior_line, unreduced_line = match
        copay = min(_adjusted(remit_line, "PR", frozenset({"3"})), copay_left)
        copay_left -= copay
        lines.append(
            _classify_line(base, remit_line, expected, (prior_line, unreduced_line), copay, cost_share, gap)
        )
    return lines


def _classify_line(
    base: LineVariance,
    remit_line: ServiceLinePayment,
    expected: ExpectedLine,
    alternatives: tuple[ExpectedLine | None, ExpectedLine | None],
    copay: Decimal,
    cost_share: CostShareFacts,
    gap: _Gap,
) -> LineVariance:
    expected_allowed = expected.expected_allowed
    deductible = _adjusted(remit_line, "PR", frozenset({"1"}))
    shares = _patient_share(expected_allowed, deductible, copay, cost_share)
    expected_paid = max(expected_allowed - sum(shares, ZERO), ZERO)
    allowed, paid = base.actual_allowed, base.actual_paid
    given = _patient_share(allowed, deductible, copay, cost_share)
    paid_given_allowed = max(allowed - sum(given, ZERO), ZERO)
    reduction = _adjusted(remit_line, "CO", REDUCTION_CARCS) + _adjusted(remit_line, "OA", REDUCTION_CARCS)
    prior_line, unreduced_line = alternatives
    prior_allowed = prior_line.expected_allowed if prior_line and prior_line.priced else None
    unreduced_allowed = unreduced_line.expected_allowed if unreduced_line else expected_allowed
    line = base.model_copy(
        update={
            "expected_allowed": expected_allowed,
            "expected_paid": expected_paid,
            "prior_year_allowed": prior_allowed,
            "steps": expected.steps,
        }
    )

    def result(kind: VarianceKind, amount: Decimal, explanation: str) -> LineVariance:
        return line.model_copy(
            update={"kind": kind, "amount": round_cents(amount), "explanation": explanation}
        )

    if not expected.priced:
        return result("unpriced", ZERO, "the contract sets no price for this line")
    if expected.denied:
        if paid > gap.allowed(ZERO):
            return result("overpaid", paid, "paid although the contract says the line is not payable")
        return result("expected_denial", ZERO, "not payable under the contract, and not paid")
    if allowed == ZERO and paid == ZERO and expected_allowed > ZERO:
        reasons = ", ".join(f"{a.group}-{a.reason}" for a in remit_line.adjustments) or "no reason given"
        return result(
            "denied_but_covered", expected_paid, f"denied ({reasons}) though the contract prices it"
        )
    short = expected_allowed - allowed
    tolerance = gap.allowed(expected_allowed)
    paid_short = max(expected_paid - paid, ZERO)
    if short > tolerance:
        amount = paid_short if paid_short > ZERO else short
        # The payer's price before its reduction is the contract's: only the reduction is wrong.
        if reduction > ZERO and abs(allowed + reduction - unreduced_allowed) <= tolerance:
            return result(
                "reduction_misapplied",
                amount,
                f"a {reduction} multiple-procedure reduction (CARC 59) the contract does not call for",
            )
        if prior_allowed is not None and abs(allowed - prior_allowed) <= max(
            PRIOR_YEAR_MATCH, round_cents(prior_allowed * PRIOR_YEAR_MATCH_PCT / HUNDRED)
        ):
            return result(
                "wrong_fee_schedule_year",
                amount,
                f"allowed {allowed} is the prior year's price {prior_allowed}, not the contract's {expected_allowed}",
            )
        return result("underpaid", amount, f"allowed {allowed}, the contract's price is {expected_allowed}")
    if short < -tolerance:
        return result(
            "overpaid",
            # The payer recovers what it paid too much; with nothing paid over, the allowed excess.
            paid - expected_paid if paid > expected_paid else -short,
            f"allowed {allowed} above the contract's {expected_allowed}",
        )
    cost_share_gap = paid_given_allowed - paid
    if cost_share_gap > gap.allowed(paid_given_allowed):
        return result(
            "cost_share_misapplied",
            cost_share_gap,
            f"allowed right, but {cost_share_gap} more was put on the patient than the plan's cost share",
        )
    if -cost_share_gap > gap.allowed(paid_given_allowed):
        return result(
            "overpaid", -cost_share_gap, "paid more than the allowed amount less the patient's share"
        )
    return result("ok", ZERO, "paid as the contract says")
