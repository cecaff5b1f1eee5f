"""Contract variance: what a remittance paid per line against what the contract promises."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from billing.claim_input import ClaimInput
from billing.contracts import Contract
from billing.money import ZERO, Money, round_cents
from billing.pricing import HUNDRED, ExpectedLine, MedicareFeeSource, expected_payment
from billing.remittance import ClaimPayment, Remittance, ServiceLinePayment

Classification = Literal["ok", "underpaid", "overpaid", "denied", "unpriced", "unmatched"]
REVERSAL = "22"


class VarianceLine(BaseModel):
    patient_control_number: str
    code: str
    modifiers: list[str] = Field(default_factory=list)
    charge: Money = ZERO
    expected_allowed: Money = ZERO
    actual_allowed: Money = ZERO
    expected_paid: Money = ZERO
    actual_paid: Money = ZERO
    variance: Money = Field(ZERO, description="actual paid - expected paid")
    classification: Classification
    adjustments: list[str] = Field(
        default_factory=list, description="CAS group-reason amount, as on the remit"
    )
    steps: list[str] = Field(default_factory=list)


class VarianceReport(BaseModel):
    contract_id: str
    lines: list[VarianceLine]
    total_expected_paid: Money
    total_actual_paid: Money
    total_underpaid: Money = Field(description="Sum of the shortfalls on underpaid and denied lines")
    notes: list[str] = Field(default_factory=list)


def _key(code: str, modifiers: list[str]) -> tuple[str, tuple[str, ...]]:
    return code.strip().upper(), tuple(sorted(m.strip().upper() for m in modifiers))


def _actual_allowed(line: ServiceLinePayment) -> Decimal:
    """AMT*B6 when the payer sent it, else paid plus the patient's share (CAS PR)."""
    if line.allowed is not None:
        return line.allowed
    return line.paid + sum((a.amount for a in line.adjustments if a.group == "PR"), ZERO)


def _claim_from_remit(claim: ClaimPayment) -> ClaimInput:
    """The claim as billed, read back from the remit's service lines (charge, units, codes)."""
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


def classify(expected: ExpectedLine, actual_paid: Decimal, tolerance: Decimal, tolerance_pct: Decimal) -> str:
    """ok within max(tolerance, tolerance_pct of expected paid); denied when nothing was allowed or paid."""
    if not expected.priced:
        return "unpriced"
    if actual_paid == ZERO and expected.expected_paid > ZERO:
        return "denied"
    allowed_gap = max(tolerance, round_cents(expected.expected_paid * tolerance_pct / HUNDRED))
    difference = actual_paid - expected.expected_paid
    if abs(difference) <= allowed_gap:
        return "ok"
    return "underpaid" if difference < ZERO else "overpaid"


def remittance_variance(
    remittance: Remittance,
    contract: Contract,
    *,
    claim: ClaimInput | None = None,
    medicare: MedicareFeeSource | None = None,
    locality: str | None = None,
    place_of_service: str | None = None,
    tolerance: Decimal = Decimal("0.50"),
    tolerance_pct: Decimal = Decimal(1),
) -> VarianceReport:
    """Price each remitted claim under contract and compare line by line (matched by code + modifiers).

    The deductible is taken as the payer applied it (CAS PR-1 on the claim), so paid amounts compare
    like with like; coinsurance and copays come from the contract.
    """
    lines: list[VarianceLine] = []
    notes: list[str] = []
    for transaction in remittance.transactions:
        for paid_claim in transaction.claims:
            if paid_claim.status == REVERSAL or paid_claim.reversal:
                notes.append(
                    f"claim {paid_claim.patient_control_number}: a reversal, left out of the comparison"
                )
                continue
            billed = claim or _claim_from_remit(paid_claim)
            deductible = sum(
                (
                    a.amount
                    for line in paid_claim.lines
                    for a in line.adjustments
                    if (a.group, a.reason) == ("PR", "1")
                ),
                ZERO,
            )
            priced = expected_payment(
                billed,
                contract,
                medicare=medicare,
                locality=locality,
                place_of_service=place_of_service,
                deductible_remaining=deductible,
            )
            unclaimed = list(priced.lines)
            for remit_line in paid_claim.lines:
                key = _key(remit_line.submitted_code or remit_line.code, remit_line.modifiers)
                match = next((e for e in unclaimed if _key(e.code, e.modifiers) == key), None)
                adjustments = [f"{a.group}-{a.reason} {a.amount:.2f}" for a in remit_line.adjustments]
                common = {
                    "patient_control_number": paid_claim.patient_control_number,
                    "code": key[0],
                    "modifiers": list(remit_line.modifiers),
                    "charge": remit_line.charge,
                    "actual_allowed": _actual_allowed(remit_line),
                    "actual_paid": remit_line.paid,
                    "adjustments": adjustments,
                }
                if match is None:
                    lines.append(VarianceLine(**common, classification="unmatched"))
                    continue
                unclaimed.remove(match)
                lines.append(
                    VarianceLine(
                        **common,
                        expected_allowed=match.expected_allowed,
                        expected_paid=match.expected_paid,
                        variance=remit_line.paid - match.expected_paid,
                        classification=classify(match, remit_line.paid, tolerance, tolerance_pct),
                        steps=match.steps,
                    )
                )
    shortfall = sum(
        (-line.variance for line in lines if line.classification in ("underpaid", "denied")),
        ZERO,
    )
    return VarianceReport(
        contract_id=contract.id,
        lines=lines,
        total_expected_paid=sum((line.expected_paid for line in lines), ZERO),
        total_actual_paid=sum((line.actual_paid for line in lines), ZERO),
        total_underpaid=shortfall,
        notes=notes,
    )
