"""X12 835 (005010X221A1) remittance advice text for a payer's weekly payment to a practice."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from billing.money import ZERO
from billing.practice import Coverage, Patient, Payer, PlanKind, Practice, Provider
from sandbox.generator.adjudication import AdjudicatedClaim, Adjustment

FILING_INDICATOR = {
    PlanKind.MEDICARE: "MB",
    PlanKind.MEDICARE_ADVANTAGE: "16",
    PlanKind.MEDICAID: "MC",
    PlanKind.COMMERCIAL: "12",  # PPO; the 835 has no "CI"
    PlanKind.VISION: "ZZ",
}
PAYER_ADDRESS = {
    "pay-medicare": ("PO BOX 6702", "FARGO", "ND", "58108"),
    "pay-medicaid": ("500 SUMMER ST NE", "SALEM", "OR", "97301"),
    "pay-vsp": ("PO BOX 997100", "SACRAMENTO", "CA", "95899"),
    "pay-eyemed": ("PO BOX 8504", "MASON", "OH", "45040"),
}
DEFAULT_ADDRESS = ("PO BOX 4400", "PORTLAND", "OR", "97208")
MAX_CAS_REASONS = 6


def amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _segment(*elements: str) -> str:
    return "*".join(elements).rstrip("*")


def _cas_segments(adjustments: Iterable[Adjustment]) -> list[str]:
    """One CAS per group code, up to six reason/amount pairs each (the 835's limit)."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    segments = []
    for group, items in by_group.items():
        for start in range(0, len(items), MAX_CAS_REASONS):
            # Each adjustment is a reason / amount / quantity triple; quantity stays empty.
            pairs = [
                part
                for a in items[start : start + MAX_CAS_REASONS]
                for part in (a.reason, amount(a.amount), "")
            ]
            segments.append(_segment("CAS", group, *pairs))
    return segments


def _claim_segments(
    adjudicated: AdjudicatedClaim, patient: Patient, coverage: Coverage, provider: Provider
) -> list[str]:
    claim = adjudicated.claim
    first, _, last = provider.name.partition(" ")
    segments = [
        _segment(
            "CLP",
            claim.id,
            adjudicated.status_code,
            amount(claim.total_charge),
            amount(adjudicated.paid),
            amount(adjudicated.patient_responsibility),
            FILING_INDICATOR[coverage.plan_kind],
            claim.payer_claim_control_number,
            "11",
            "1",
        ),
        _segment(
            "NM1",
            "QC",
            "1",
            patient.last_name.upper(),
            patient.first_name.upper(),
            "",
            "",
            "",
            "MI",
            coverage.member_id,
        ),
        _segment("NM1", "82", "1", last.upper(), first.upper(), "", "", "", "XX", provider.npi),
    ]
    for result in adjudicated.lines:
        line, outcome = result.line, result.outcome
        procedure = ":".join(["HC", line.code, *line.modifiers])
        segments.append(
            _segment("SVC", procedure, amount(line.charge), amount(outcome.paid or ZERO), "", str(line.units))
        )
        segments.append(_segment("DTM", "472", f"{claim.date_of_service:%Y%m%d}"))
        segments += _cas_segments(result.adjustments)
        segments.append(_segment("REF", "6R", f"{claim.id}-{line.line_number}"))
        if outcome.allowed and outcome.allowed > ZERO:
            segments.append(_segment("AMT", "B6", amount(outcome.allowed)))
        segments += [_segment("LQ", "HE", rarc) for rarc in outcome.rarcs]
    return segments


def render_835(
    *,
    control_number: int,
    payer: Payer,
    practice: Practice,
    paid_on: date,
    claims: list[AdjudicatedClaim],
    patients: dict[str, Patient],
    coverages: dict[str, Coverage],
    providers: dict[str, Provider],
) -> str:
    """A whole interchange (ISA..IEA) holding one 835 transaction; balanced: BPR02 = sum of CLP04."""
    total = sum((c.paid for c in claims), ZERO)
    stamp_date, stamp_time = f"{paid_on:%Y%m%d}", "0600"
    payer_tin = f"{sum(map(ord, payer.id)) * 7919 % 10**9:09d}"
    payee_tin = practice.tax_id.replace("-", "")
    if total > ZERO:
        bpr = _segment(
            "BPR",
            "I",
            amount(total),
            "C",
            "ACH",
            "CCP",
            "01",
            "071000013",
            "DA",
            "4400123987",
            f"1{payer_tin}",
            "",
            "01",
            "123000220",
            "DA",
            f"77{payee_tin}",
            stamp_date,
        )
    else:
        bpr = "BPR*H*0.00*C*NON" + "*" * 12 + stamp_date
    street, city, state, zip_code = PAYER_ADDRESS.get(payer.id, DEFAULT_ADDRESS)
    body = [
        _segment("ST", "835", "0001"),
        bpr,
        _segment("TRN", "1", f"{payer.payer_id}{paid_on:%y%m%d}{control_number:05d}", f"1{payer_tin}"),
        _segment("DTM", "405", stamp_date),
        _segment("N1", "PR", payer.name.upper()),
        _segment("N3", street),
        _segment("N4", city, state, zip_code),
        _segment("PER", "BL", "PROVIDER SERVICES", "TE", "8005550142"),
        _segment("N1", "PE", practice.name.upper(), "XX", practice.npi),
        _segment("REF", "TJ", payee_tin),
        _segment("LX", "1"),
    ]
    for adjudicated in claims:
        claim = adjudicated.claim
        body += _claim_segments(
            adjudicated,
            patients[claim.patient_id],
            coverages[claim.coverage_id],
            providers[claim.provider_id],
        )
    body.append(_segment("SE", str(len(body) + 1), "0001"))
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{payer.payer_id:<15}*ZZ*{practice.npi:<15}*"
        f"{paid_on:%y%m%d}*{stamp_time}*^*00501*{control_number:09d}*0*P*:"
    )
    envelope = [
        isa,
        _segment(
            "GS",
            "HP",
            payer.payer_id,
            practice.npi,
            stamp_date,
            stamp_time,
            str(control_number),
            "X",
            "005010X221A1",
        ),
        *body,
        _segment("GE", "1", str(control_number)),
        _segment("IEA", "1", f"{control_number:09d}"),
    ]
    return "~\n".join(envelope) + "~\n"
