"""Variance classification on a hand-built remittance: each kind of error, disputes, refunds and the leak."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from agents.variance.aggregate import leak_by
from agents.variance.classify import classify_remittance
from agents.variance.medicare_table import MedicareFeeTable
from agents.variance.schemas import CostShareFacts, LineVariance
from agents.variance.work_items import dispute_task, draft_disputes, draft_refunds, refund_task
from billing.contracts import Contract, MedicareTerms
from billing.remittance import (
    Adjustment,
    ClaimPayment,
    Payment,
    Remittance,
    RemittanceTransaction,
    ServiceLinePayment,
)

D = Decimal
DOS = date(2025, 3, 4)
PAID_ON = date(2025, 3, 20)
CLAUSE = "Payer shall pay 110% of the 2024 Medicare Physician Fee Schedule."
MEDICARE = MedicareFeeTable(
    {
        2023: {"92014": D("96.60")},
        2024: {"92014": D("100.00"), "92083": D("60.00"), "92083-TC": D("40.00"), "92134": D("42.00")}
        | {"92134-TC": D("23.00"), "68761": D("128.00")},
    },
    multiple_surgery_codes=frozenset({"68761"}),
)
CONTRACT = Contract(
    id="ctr-test",
    practice_id="prac-1",
    payer_id="pay-test",
    effective=date(2024, 1, 1),
    basis="percent_of_medicare",
    percent=110,
    medicare=MedicareTerms(locality="00000-00", year=2024),
    appeal_days=90,
    evidence={"percent": CLAUSE},
)


def line(
    code: str, allowed: str, paid: str, *adjustments: tuple[str, str, str], number: int = 1, claim: str = ""
) -> ServiceLinePayment:
    return ServiceLinePayment(
        code=code,
        charge=D("200.00"),
        allowed=D(allowed) if allowed != "0" else None,
        paid=D(paid),
        date_of_service=DOS,
        adjustments=[Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in adjustments],
        line_control_number=f"{claim}-{number}",
    )


def claim(claim_id: str, *lines: ServiceLinePayment) -> ClaimPayment:
    for number, item in enumerate(lines, start=1):
        item.line_control_number = f"{claim_id}-{number}"
    return ClaimPayment(
        patient_control_number=claim_id,
        status="1",
        lines=list(lines),
        payer_claim_control_number=f"P{claim_id}",
    )


CLAIMS = {
    "ok": claim("clm-ok", line("92014", "110.00", "88.00", ("CO", "45", "90.00"), ("PR", "2", "22.00"))),
    "underpaid": claim(
        "clm-under", line("92014", "99.00", "79.20", ("CO", "45", "101.00"), ("PR", "2", "19.80"))
    ),
    "wrong_year": claim(
        "clm-year", line("92014", "106.26", "85.01", ("CO", "45", "93.74"), ("PR", "2", "21.25"))
    ),
    "reduction": claim(
        "clm-cut",
        line("92014", "55.00", "44.00", ("CO", "45", "90.00"), ("CO", "59", "55.00"), ("PR", "2", "11.00")),
    ),
    "cost_share": claim(
        "clm-share", line("92014", "110.00", "66.00", ("CO", "45", "90.00"), ("PR", "2", "44.00"))
    ),
    "overpaid": claim(
        "clm-over", line("92014", "123.20", "98.56", ("CO", "45", "76.80"), ("PR", "2", "24.64"))
    ),
    "denied": claim("clm-denied", line("92014", "0", "0.00", ("CO", "50", "200.00"))),
    "mppr": claim(
        "clm-tests",
        line("92083", "66.00", "52.80", ("CO", "45", "134.00"), ("PR", "2", "13.20")),
        line("92134", "41.14", "32.91", ("CO", "45", "153.80"), ("CO", "59", "5.06"), ("PR", "2", "8.23")),
    ),
}


@pytest.fixture(scope="module")
def lines() -> dict[str, LineVariance]:
    remittance = Remittance(
        practice_id="prac-1",
        transactions=[
            RemittanceTransaction(payment=Payment(date=PAID_ON, trace="TRACE1"), claims=list(CLAIMS.values()))
        ],
    )
    classified = classify_remittance(
        remittance,
        CONTRACT,
        remittance_id="era-1",
        medicare=MEDICARE,
        cost_share_for=lambda claim_id: CostShareFacts(coinsurance_pct=D(20)),
    )
    return {item.id: item for item in classified}


def test_each_remitted_line_gets_its_kind(lines: dict[str, LineVariance]) -> None:
    kinds = {key.split(":")[1] + ":" + key.split(":")[2]: item.kind for key, item in lines.items()}
    assert kinds == {
        "clm-ok:1": "ok",
        "clm-under:1": "underpaid",
        "clm-year:1": "wrong_fee_schedule_year",
        "clm-cut:1": "reduction_misapplied",
        "clm-share:1": "cost_share_misapplied",
        "clm-over:1": "overpaid",
        "clm-denied:1": "denied_but_covered",
        "clm-tests:1": "ok",
        "clm-tests:2": "ok",  # the contract's own MPPR cut is no variance
    }
    under = lines["era-1:clm-under:1"]
    assert (under.expected_allowed, under.expected_paid, under.amount) == (D("110.00"), D("88.00"), D("8.80"))
    assert lines["era-1:clm-year:1"].prior_year_allowed == D("106.26")
    assert lines["era-1:clm-share:1"].amount == D("22.00")


def test_a_wider_tolerance_accepts_a_small_gap(lines: dict[str, LineVariance]) -> None:
    from agents.variance.schemas import VarianceOptions

    remittance = Remittance(transactions=[RemittanceTransaction(claims=[CLAIMS["wrong_year"]])])
    loose = classify_remittance(
        remittance,
        CONTRACT,
        remittance_id="era-1",
        medicare=MEDICARE,
        cost_share_for=lambda _: CostShareFacts(coinsurance_pct=D(20)),
        options=VarianceOptions(tolerance=D("5.00")),
    )
    assert [item.kind for item in loose] == ["ok"]


def test_disputes_cite_the_clause_and_the_contract_deadline(lines: dict[str, LineVariance]) -> None:
    disputes = {
        d.claim_id: d for d in draft_disputes(list(lines.values()), CONTRACT, paid_on=PAID_ON, trace="TRACE1")
    }
    # The wrong-year line is short 2.99 on the payment: under the 5.00 dispute threshold.
    assert set(disputes) == {"clm-under", "clm-cut", "clm-share"}
    cut = disputes["clm-cut"]
    assert cut.amount == D("44.00")
    assert cut.clause == CLAUSE and cut.deadline == PAID_ON + timedelta(days=90)
    assert "PAYMENT" not in cut.remittance_reference and "TRACE1" in cut.remittance_reference
    task = dispute_task(cut)
    assert (task.kind, task.due, task.amount, task.claim_id) == (
        "dispute",
        cut.deadline,
        D("44.00"),
        "clm-cut",
    )


def test_overpayments_become_refunds_due_in_60_days(lines: dict[str, LineVariance]) -> None:
    (refund,) = draft_refunds(list(lines.values()), identified_on=PAID_ON)
    assert refund.claim_id == "clm-over" and refund.amount == D("10.56")
    assert refund.deadline == PAID_ON + timedelta(days=60)
    assert refund_task(refund).kind == "refund"


def test_the_leak_adds_up_by_payer_month_and_code(lines: dict[str, LineVariance]) -> None:
    (row,) = leak_by(lines.values(), keys=("payer_id", "month"))
    assert (row.payer_id, row.month, row.lines) == ("pay-test", "2025-03", 9)
    assert row.underpaid == sum(
        (item.amount for item in lines.values() if item.kind.endswith(("underpaid", "year", "misapplied"))),
        D(0),
    )
    assert row.overpaid == D("10.56") and row.denied_but_covered == 1
    by_code = {r.code: r for r in leak_by(lines.values(), keys=("code",))}
    assert by_code["92083"].underpaid == 0 and by_code["92014"].underpaid_lines == 4
