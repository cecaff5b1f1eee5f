"""Posting amounts: reversals, partial payments, and contractual write-offs never past the contract."""

from decimal import Decimal

from billing.claims import Claim, ClaimLine
from billing.posting import reconcile
from billing.remittance import Adjustment
from tests.billing.posting_support import PATIENTS, claim, paid_line, payment, remittance

EXAM = ("92014", [], "165.00")
OCT = ("92134", [], "60.00")
CONTRACT = {"92014": Decimal("120.00"), "92134": Decimal("40.00")}


def contract_allowed(_claim: Claim, line: ClaimLine) -> Decimal | None:
    return CONTRACT.get(line.code)


def test_paid_at_contract_writes_off_the_whole_contractual_reduction() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM])]
    remit = remittance(payment("clm-1", [paid_line("92014", "165.00", "96.00", patient="24.00")]))
    result = reconcile(remit, claims, expected=contract_allowed)
    [line] = result.drafts[0].lines
    assert (line.contractual, line.write_off, line.held) == (Decimal("45.00"), Decimal("45.00"), Decimal("0"))
    assert line.expected_allowed == Decimal("120.00")
    assert result.exceptions == []


def test_an_underpayment_is_never_written_off_past_the_contract() -> None:
    """Allowed 100 where the contract says 120: only 165 - 120 = 45 is written off, 20 is held open."""
    claims = [claim("clm-1", "pat-1", [EXAM, OCT])]
    remit = remittance(
        payment(
            "clm-1",
            [
                paid_line("92014", "165.00", "80.00", patient="20.00"),  # allowed 100
                paid_line("92134", "60.00", "40.00"),  # at contract
            ],
        )
    )
    result = reconcile(remit, claims, patients=PATIENTS, expected=contract_allowed)
    exam, oct_line = result.drafts[0].lines
    assert exam.contractual == Decimal("65.00")
    assert exam.write_off == Decimal("45.00")
    assert exam.held == Decimal("20.00")
    assert exam.write_off + exam.held == exam.contractual
    assert (oct_line.write_off, oct_line.held) == (Decimal("20.00"), Decimal("0"))
    assert result.drafts[0].held == Decimal("20.00")
    [exception] = result.exceptions
    assert (exception.code, exception.amount, exception.line_index) == (
        "UNDERPAID_BEYOND_CONTRACT",
        Decimal("20.00"),
        0,
    )
    assert "$20.00" in exception.message and "not written off" in exception.message


def test_a_denial_is_not_a_write_off() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM])]
    denied = paid_line("92014", "165.00", "0", allowed="0")
    denied.adjustments = [Adjustment(group="CO", reason="50", amount=Decimal("165.00"))]
    result = reconcile(remittance(payment("clm-1", [denied], status="4")), claims, expected=contract_allowed)
    [line] = result.drafts[0].lines
    assert (line.contractual, line.write_off, line.held) == (Decimal("0"), Decimal("0"), Decimal("0"))


def test_partial_payment_names_the_lines_left_open() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM, OCT])]
    remit = remittance(payment("clm-1", [paid_line("92014", "165.00", "100.00")], charge=Decimal("225.00")))
    result = reconcile(remit, claims)
    codes = [e.code for e in result.exceptions]
    assert codes == ["PARTIAL_PAYMENT"]
    assert result.exceptions[0].amount == Decimal("60.00")
    assert "line(s) 2" in result.exceptions[0].message
    assert result.auto_matched == 1  # the paid line is still posted; the open line waits for the payer


def test_reversal_takes_back_the_original_payment_in_the_same_file() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM])]
    original = payment("clm-1", [paid_line("92014", "165.00", "100.00")], payer_number="PCCN-77")
    reversal_line = paid_line("92014", "-165.00", "-100.00")
    reversal = payment("clm-1", [reversal_line], status="22", payer_number="PCCN-77")
    corrected = payment("clm-1", [paid_line("92014", "165.00", "110.00")], payer_number="PCCN-78")
    result = reconcile(remittance(original, reversal, corrected), claims)
    assert result.exceptions == []  # the re-payment after a reversal is not a duplicate
    assert result.auto_matched == 3
    reversed_draft = result.drafts[1]
    assert reversed_draft.reversal and reversed_draft.reverses_claim_payment_index == 0
    assert reversed_draft.paid == Decimal("-100.00")
    assert reversed_draft.write_off == Decimal("-65.00")  # the contractual reduction is reversed too


def test_reversal_of_a_payment_posted_earlier_matches_by_payer_claim_number() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM], payer_number="PCCN-77")]
    reversal = payment(
        "clm-1", [paid_line("92014", "-165.00", "-100.00")], status="22", payer_number="PCCN-77"
    )
    result = reconcile(remittance(reversal), claims)
    assert result.matches[0].claim_id == "clm-1"
    assert result.drafts[0].reversal and result.drafts[0].reverses_claim_payment_index is None
    assert result.exceptions == []


def test_reversal_without_an_original_is_held_for_review() -> None:
    claims = [claim("clm-1", "pat-1", [EXAM])]  # never paid: no payer claim number on file
    reversal = payment(
        "clm-1", [paid_line("92014", "-165.00", "-100.00")], status="22", payer_number="PCCN-77"
    )
    result = reconcile(remittance(reversal), claims)
    assert result.drafts == [] and result.auto_matched == 0
    [exception] = result.exceptions
    assert exception.code == "REVERSAL_WITHOUT_ORIGINAL"
    assert exception.amount == Decimal("-100.00") and "PCCN-77" in exception.message
