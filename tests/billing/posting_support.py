"""Builders for posting tests: synthetic claims, patients and remittances (models, no X12)."""

from datetime import date
from decimal import Decimal

from billing.claims import Claim, ClaimLine
from billing.posting import PatientKey
from billing.remittance import (
    Adjustment,
    ClaimPayment,
    Payment,
    Remittance,
    RemittanceTransaction,
    ServiceLinePayment,
)

DOS = date(2026, 3, 2)
PATIENTS = {
    "pat-1": PatientKey(last_name="Testwood", first_name="Avery"),
    "pat-2": PatientKey(last_name="Samplefield", first_name="Blake"),
    "pat-3": PatientKey(last_name="Testwood", first_name="Arden"),
}
Line = tuple[str, list[str], str]  # code, modifiers, charge


def claim(
    claim_id: str, patient_id: str, lines: list[Line], dos: date = DOS, payer_number: str = ""
) -> Claim:
    return Claim(
        id=claim_id,
        practice_id="prac-1",
        patient_id=patient_id,
        encounter_id=f"enc-{claim_id}",
        provider_id="prv-1",
        payer_id="pay-1",
        coverage_id="cov-1",
        date_of_service=dos,
        payer_claim_control_number=payer_number,
        lines=[
            ClaimLine(line_number=n, code=code, modifiers=mods, charge=Decimal(charge), date_of_service=dos)
            for n, (code, mods, charge) in enumerate(lines, start=1)
        ],
    )


def paid_line(
    code: str,
    charge: str,
    paid: str,
    *,
    modifiers: list[str] | None = None,
    allowed: str | None = None,
    patient: str = "0",
    submitted_code: str = "",
    dos: date = DOS,
) -> ServiceLinePayment:
    """A line paid at `allowed` (default: paid + patient): CO-45 for the rest, PR-2 for the patient's share."""
    allowed_amount = Decimal(allowed) if allowed is not None else Decimal(paid) + Decimal(patient)
    adjustments = []
    if Decimal(charge) - allowed_amount:
        adjustments.append(Adjustment(group="CO", reason="45", amount=Decimal(charge) - allowed_amount))
    if Decimal(patient):
        adjustments.append(Adjustment(group="PR", reason="2", amount=Decimal(patient)))
    return ServiceLinePayment(
        code=code,
        modifiers=modifiers or [],
        submitted_code=submitted_code,
        charge=Decimal(charge),
        paid=Decimal(paid),
        allowed=allowed_amount if Decimal(paid) else None,
        date_of_service=dos,
        adjustments=adjustments,
    )


def payment(
    pcn: str,
    lines: list[ServiceLinePayment],
    *,
    name: str = "AVERY TESTWOOD",
    status: str = "1",
    payer_number: str = "",
    charge: Decimal | None = None,
) -> ClaimPayment:
    return ClaimPayment(
        patient_control_number=pcn,
        status=status,
        charge=charge if charge is not None else sum((line.charge for line in lines), Decimal(0)),
        paid=sum((line.paid for line in lines), Decimal(0)),
        patient_responsibility=sum(
            (a.amount for line in lines for a in line.adjustments if a.group == "PR"), Decimal(0)
        ),
        payer_claim_control_number=payer_number,
        patient_name=name,
        reversal=status == "22",
        lines=lines,
    )


def remittance(*payments: ClaimPayment) -> Remittance:
    return Remittance(
        transactions=[
            RemittanceTransaction(
                payer="SYNTHETIC PLAN",
                payment=Payment(amount=sum((p.paid for p in payments), Decimal(0)), date=date(2026, 3, 20)),
                claims=list(payments),
            )
        ]
    )
