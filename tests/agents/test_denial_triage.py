"""Denial triage: which remittance lines are denials, their decision, reason codes, routing and recovery."""

from datetime import date
from decimal import Decimal

from agents.denials.routing import SMALL_BALANCE_QUEUE, queue_role, route
from agents.denials.schemas import AppealScore, DenialContext, NextAction
from agents.denials.triage import denied_lines, triage_line
from agents.scrub.fixes import Fix, FixEdit
from billing.practice import Role
from billing.remittance import (
    Adjustment,
    ClaimPayment,
    Payment,
    Remittance,
    RemittanceTransaction,
    ServiceLinePayment,
)
from billing.settings import Settings
from knowledge.codes.adjustments import DenialCategory


def adj(group: str, reason: str, amount: str) -> Adjustment:
    return Adjustment(group=group, reason=reason, amount=Decimal(amount))


def remittance() -> Remittance:
    paid = ServiceLinePayment(
        code="92014",
        charge=Decimal("165"),
        paid=Decimal("100"),
        line_control_number="CLM-1-1",
        adjustments=[adj("CO", "45", "40"), adj("PR", "3", "25")],
    )
    mppr = ServiceLinePayment(
        code="92134",
        charge=Decimal("60"),
        paid=Decimal("30"),
        line_control_number="CLM-1-2",
        adjustments=[adj("CO", "45", "20"), adj("CO", "59", "10")],
    )
    denied = ServiceLinePayment(
        code="92250",
        charge=Decimal("80"),
        paid=Decimal("0"),
        line_control_number="CLM-1-3",
        adjustments=[adj("CO", "97", "80")],
        remarks=["N20"],
    )
    partial = ServiceLinePayment(
        code="92083",
        charge=Decimal("300"),
        paid=Decimal("50"),
        line_control_number="CLM-2-4",
        adjustments=[adj("CO", "45", "50"), adj("CO", "151", "200")],
        remarks=["N362"],
    )
    return Remittance(
        id="RMT-7",
        practice_id="PRA-1",
        transactions=[
            RemittanceTransaction(
                payer="SYNTHETIC PLAN",
                payment=Payment(amount=Decimal("180"), date=date(2025, 3, 6)),
                claims=[
                    ClaimPayment(patient_control_number="CLM-1", status="1", lines=[paid, mppr, denied]),
                    ClaimPayment(patient_control_number="CLM-2", status="1", lines=[partial]),
                    ClaimPayment(
                        patient_control_number="CLM-3",
                        status="4",
                        charge=Decimal("12"),
                        adjustments=[adj("CO", "18", "12")],
                    ),
                ],
            )
        ],
    )


def test_only_non_routine_adjustments_make_a_denied_line() -> None:
    lines = denied_lines(remittance())
    assert [(line.claim_id, line.line_number, line.carc) for line in lines] == [
        ("CLM-1", 3, "97"),
        ("CLM-2", 4, "151"),
        ("CLM-3", 1, "18"),
    ]
    partial = lines[1]
    assert partial.denied_amount == Decimal("200") and not partial.fully_denied
    assert partial.rarcs == ["N362"] and partial.paid_on == date(2025, 3, 6)
    assert (partial.claim_payment_index, partial.remit_line_index) == (1, 0)


def test_a_triaged_line_has_words_route_and_expected_recovery(settings: Settings) -> None:
    bundled, partial, duplicate = denied_lines(remittance())
    fix = Fix(description="Add modifier 59 to line 3", edit=FixEdit(op="add_modifier", line=3, value="59"))
    triaged = triage_line(bundled, settings=settings, fixes=[fix])
    assert triaged.category is DenialCategory.BUNDLING and triaged.correctable
    assert triaged.next_best_action is NextAction.CORRECT_AND_RESUBMIT and triaged.fix == [fix]
    assert triaged.queue == "coding_corrections" and queue_role(triaged.queue) is Role.CODER
    assert triaged.expected_recovery == Decimal("64.00")
    assert [(c.kind, c.code) for c in triaged.codes] == [("group", "CO"), ("CARC", "97"), ("RARC", "N20")]
    assert all(c.description for c in triaged.codes)

    score = AppealScore(score=0.4, source="rules@1")
    appeal = triage_line(partial, settings=settings, appeal_score=score)
    assert appeal.next_best_action is NextAction.APPEAL and appeal.appeal_score == score
    assert appeal.expected_recovery == Decimal("80.00") and appeal.queue == "appeals"

    void = triage_line(duplicate, settings=settings)
    assert void.next_best_action is NextAction.WRITE_OFF_REVIEW and void.appeal_score is None
    assert void.queue == SMALL_BALANCE_QUEUE and void.expected_recovery == Decimal("0.00")


def test_routing_thresholds_come_from_settings(settings: Settings) -> None:
    category, action = DenialCategory.MEDICAL_NECESSITY, NextAction.APPEAL
    assert route(category, action, Decimal("249.99"), settings) == "appeals"
    assert route(category, action, Decimal("250"), settings) == "appeals:high_value"
    strict = settings.model_copy(update={"denial_high_value_threshold": Decimal("100")})
    assert route(category, action, Decimal("150"), strict) == "appeals:high_value"
    write_off = NextAction.WRITE_OFF_REVIEW
    assert route(DenialCategory.DUPLICATE, write_off, Decimal("14.99"), settings) == SMALL_BALANCE_QUEUE
    assert route(DenialCategory.DUPLICATE, write_off, Decimal("15"), settings) == "write_off_review"
    assert (
        route(DenialCategory.ELIGIBILITY, NextAction.CORRECT_AND_RESUBMIT, Decimal("20"), settings)
        == "eligibility"
    )


def test_a_task_is_not_a_correction(settings: Settings) -> None:
    (line,) = [item for item in denied_lines(remittance()) if item.carc == "97"]
    task = Fix(description="Ask the doctor", edit=FixEdit(op="task", value="Ask the doctor"))
    triaged = triage_line(line, settings=settings, context=DenialContext(), fixes=[task])
    assert not triaged.correctable and triaged.next_best_action is NextAction.APPEAL
