"""What variance turns into: refund work items for overpayments, dispute drafts citing the contract, tasks."""

from datetime import date, timedelta

from agents.contracts.extract_offline import OfflineTermExtractor
from agents.variance.schemas import (
    UNDERPAID_KINDS,
    DisputeDraft,
    DisputeLine,
    LineVariance,
    RefundDraft,
    VarianceOptions,
)
from billing.contracts import Contract
from billing.money import ZERO, money_str
from billing.tasks import Task

# Which contract terms a dispute of each kind cites, most specific first.
CLAUSE_TERMS: dict[str, tuple[str, ...]] = {
    "reduction_misapplied": (
        "multiple_procedure",
        "mppr_diagnostic",
        "percent",
        "fee_schedule_reference",
        "basis",
    ),
    "wrong_fee_schedule_year": ("medicare.year", "percent", "basis"),
    "cost_share_misapplied": (
        "cost_share.coinsurance_pct",
        "cost_share.copay",
        "percent",
        "fee_schedule_reference",
        "basis",
    ),
    "underpaid": ("percent", "fee_schedule_reference", "basis"),
}
MEDICARE_PAYERS_RULE = (
    "Medicare's 60-day rule (SSA §1128J(d)): return an identified overpayment within 60 days"
)


def contract_clause(contract: Contract, kind: str) -> tuple[str, str]:
    """(term, sentence) the contract prices this kind of line by: approved evidence, else its own prose."""
    evidence = dict(contract.evidence)
    if contract.terms_text:
        for term in OfflineTermExtractor().extract(contract.terms_text).terms:
            evidence.setdefault(term.term, term.sentence)
    for term in CLAUSE_TERMS.get(kind, CLAUSE_TERMS["underpaid"]):
        if evidence.get(term):
            return term, evidence[term]
    percent = f" at {contract.percent:g}%" if contract.percent else ""
    return "basis", f"Contract {contract.id}: {contract.basis.replace('_', ' ')}{percent}"


def _reference(line: LineVariance, trace: str) -> str:
    parts = [f"remittance {line.remittance_id}", f"claim {line.claim_id}"]
    if line.payer_claim_control_number:
        parts.append(f"payer claim number {line.payer_claim_control_number}")
    if trace:
        parts.append(f"payment trace {trace}")
    return ", ".join(parts)


def draft_disputes(
    lines: list[LineVariance],
    contract: Contract,
    *,
    paid_on: date,
    trace: str = "",
    options: VarianceOptions | None = None,
) -> list[DisputeDraft]:
    """One dispute per claim whose underpaid lines add up to at least the dispute threshold."""
    options = options or VarianceOptions()
    by_claim: dict[str, list[LineVariance]] = {}
    for line in lines:
        if line.kind in UNDERPAID_KINDS and line.amount > ZERO:
            by_claim.setdefault(line.claim_id, []).append(line)
    disputes = []
    for claim_id, claim_lines in by_claim.items():
        amount = sum((line.amount for line in claim_lines), ZERO)
        if amount < options.min_dispute_amount:
            continue
        main = max(claim_lines, key=lambda line: line.amount)
        term, clause = contract_clause(contract, main.kind)
        kinds = sorted({line.kind.replace("_", " ") for line in claim_lines})
        disputes.append(
            DisputeDraft(
                id=f"dispute:{main.remittance_id}:{claim_id}",
                practice_id=main.practice_id,
                payer_id=main.payer_id,
                contract_id=contract.id,
                claim_id=claim_id,
                remittance_id=main.remittance_id,
                remittance_reference=_reference(main, trace),
                amount=amount,
                clause=clause,
                clause_term=term,
                deadline=paid_on + timedelta(days=contract.appeal_days),
                lines=[
                    DisputeLine(
                        line_number=line.line_number,
                        code=line.code,
                        kind=line.kind,
                        expected_allowed=line.expected_allowed,
                        actual_allowed=line.actual_allowed,
                        expected_paid=line.expected_paid,
                        actual_paid=line.actual_paid,
                        amount=line.amount,
                    )
                    for line in claim_lines
                ],
                summary=(
                    f"Claim {claim_id} was paid {money_str(amount)} less than contract {contract.id} provides"
                    f' ({", ".join(kinds)}). The contract says: "{clause}"'
                ),
            )
        )
    return disputes


def draft_refunds(
    lines: list[LineVariance], *, identified_on: date, trace: str = "", options: VarianceOptions | None = None
) -> list[RefundDraft]:
    """One refund work item per claim with overpaid lines, due `refund_days` after it was identified."""
    options = options or VarianceOptions()
    by_claim: dict[str, list[LineVariance]] = {}
    for line in lines:
        if line.kind == "overpaid" and line.amount > ZERO:
            by_claim.setdefault(line.claim_id, []).append(line)
    return [
        RefundDraft(
            id=f"refund:{claim_lines[0].remittance_id}:{claim_id}",
            practice_id=claim_lines[0].practice_id,
            payer_id=claim_lines[0].payer_id,
            claim_id=claim_id,
            remittance_id=claim_lines[0].remittance_id,
            remittance_reference=_reference(claim_lines[0], trace),
            amount=sum((line.amount for line in claim_lines), ZERO),
            identified_on=identified_on,
            deadline=identified_on + timedelta(days=options.refund_days),
            rule=MEDICARE_PAYERS_RULE
            if options.refund_days == 60
            else f"refund within {options.refund_days} days",
            line_numbers=[line.line_number for line in claim_lines],
        )
        for claim_id, claim_lines in by_claim.items()
    ]


def dispute_task(dispute: DisputeDraft) -> Task:
    lines = "\n".join(
        f"- line {line.line_number} {line.code}: {line.kind.replace('_', ' ')}, allowed {money_str(line.actual_allowed)}"
        f" (contract {money_str(line.expected_allowed)}), paid {money_str(line.actual_paid)}"
        f" (expected {money_str(line.expected_paid)}), short {money_str(line.amount)}"
        for line in dispute.lines
    )
    return Task(
        practice_id=dispute.practice_id,
        kind="dispute",
        title=f"Dispute underpayment on claim {dispute.claim_id}: {money_str(dispute.amount)}",
        body=f"{dispute.summary}\nReference: {dispute.remittance_reference}\nDispute by {dispute.deadline}.\n{lines}",
        claim_id=dispute.claim_id,
        amount=dispute.amount,
        due=dispute.deadline,
        assigned_role="Biller",
    )


def refund_task(refund: RefundDraft) -> Task:
    return Task(
        practice_id=refund.practice_id,
        kind="refund",
        title=f"Refund overpayment on claim {refund.claim_id}: {money_str(refund.amount)}",
        body=(
            f"Overpaid on lines {', '.join(map(str, refund.line_numbers))}. Reference: {refund.remittance_reference}."
            f" Identified {refund.identified_on}; {refund.rule}: refund by {refund.deadline}."
        ),
        claim_id=refund.claim_id,
        amount=refund.amount,
        due=refund.deadline,
        assigned_role="Biller",
    )
