"""Denial triage: find the denied lines of a remittance, decide each one by the root-cause rules, route it."""

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from agents.denials.routing import route
from agents.denials.schemas import (
    AppealScore,
    DenialContext,
    DenialDecision,
    DenialTriage,
    DeniedLine,
    NextAction,
    ReasonCode,
)
from agents.scrub.fixes import Fix
from billing.money import ZERO, round_cents
from billing.remittance import Adjustment, ClaimPayment, Remittance, ServiceLinePayment
from billing.settings import Settings
from knowledge.codes.adjustments import DenialCategory, carc, categorize_denial, rarc
from knowledge.data import read_yaml

RULES_FILE = "denial_root_causes.yaml"


@cache
def _rules() -> dict[str, Any]:
    return read_yaml(RULES_FILE)


def _normal(code: str) -> str:
    return code.strip().upper()


def is_routine(adjustment: Adjustment) -> bool:
    """A contractual write-off, expected reduction or cost share: not a denial."""
    routine = _rules()["routine"]
    return _normal(adjustment.reason) in {str(c) for c in routine.get(_normal(adjustment.group), [])}


def _line_number(line: ServiceLinePayment, claim: ClaimPayment, position: int) -> int:
    """REF*6R reads `<claim id>-<line>` when the practice sent it; otherwise the line's position."""
    control = line.line_control_number.strip()
    prefix = f"{claim.patient_control_number}-"
    if control.startswith(prefix) and control[len(prefix) :].isdigit():
        return int(control[len(prefix) :])
    return position


def denied_lines(remittance: Remittance) -> list[DeniedLine]:
    """Every service line with a non-routine adjustment (a denial or partial denial), in file order.

    A claim denied without line detail (CLP02 = 4, adjustments on the claim) counts as one denied line per
    service line when it has them, else as one line for the whole claim.
    """
    found: list[DeniedLine] = []
    index = -1
    for transaction in remittance.transactions:
        for claim in transaction.claims:
            index += 1
            if claim.reversal:
                continue
            claim_denials = [a for a in claim.adjustments if not is_routine(a) and a.amount > ZERO]
            for position, line in enumerate(claim.lines, start=1):
                denials = [a for a in line.adjustments if not is_routine(a) and a.amount > ZERO]
                if not denials and claim_denials and line.paid == ZERO:
                    denials = claim_denials
                if denials:
                    denied = _denied(remittance, transaction.payer, claim, line, position, denials)
                    found.append(
                        denied.model_copy(
                            update={"claim_payment_index": index, "remit_line_index": position - 1}
                        )
                    )
            if not claim.lines and claim_denials:
                whole = ServiceLinePayment(code="", charge=claim.charge, paid=claim.paid)
                denied = _denied(remittance, transaction.payer, claim, whole, 1, claim_denials)
                found.append(denied.model_copy(update={"claim_payment_index": index}))
    return found


def _denied(
    remittance: Remittance,
    payer: str,
    claim: ClaimPayment,
    line: ServiceLinePayment,
    position: int,
    denials: list[Adjustment],
) -> DeniedLine:
    main = max(denials, key=lambda a: a.amount)
    paid_on = next((t.payment.date for t in remittance.transactions if claim in t.claims), None)
    return DeniedLine(
        remittance_id=remittance.id,
        practice_id=remittance.practice_id,
        claim_id=claim.patient_control_number,
        line_number=_line_number(line, claim, position),
        code=line.code,
        modifiers=line.modifiers,
        date_of_service=line.date_of_service or claim.statement_from,
        paid_on=paid_on,
        charge=line.charge,
        paid=line.paid,
        denied_amount=sum((a.amount for a in denials), ZERO),
        group=_normal(main.group),
        carc=_normal(main.reason),
        rarcs=list(dict.fromkeys([*line.remarks, *claim.remarks])),
        adjustments=line.adjustments or denials,
        payer=payer,
        payer_claim_control_number=claim.payer_claim_control_number,
        claim_status=claim.status,
    )


def reason_codes(
    group: str, carc_code: str, rarcs: list[str], on: date | None, settings: Settings | None = None
) -> list[ReasonCode]:
    """The group, CARC and RARCs in words; a code not in force on the date says so (and keeps its words)."""
    groups = _curated_groups()
    codes = [ReasonCode(code=group, kind="group", description=groups.get(group, "Unknown group code"))]
    for kind, code in [("CARC", carc_code), *(("RARC", r) for r in rarcs)]:
        lookup = carc if kind == "CARC" else rarc
        dated = lookup(code, settings=settings)
        if dated is None:
            codes.append(ReasonCode(code=code, kind=kind, description="Not in our code list", in_force=False))
            continue
        codes.append(
            ReasonCode(
                code=dated.code,
                kind=kind,
                description=dated.description,
                start=dated.start,
                end=dated.end,
                in_force=on is None or dated.in_force(on),
            )
        )
    return codes


@cache
def _curated_groups() -> dict[str, str]:
    return dict(read_yaml("carc_categories.yaml")["groups"])


def _rule_for(category: DenialCategory, carc_code: str) -> dict[str, Any]:
    rules = _rules()
    merged = dict(rules["categories"][category.value])
    merged.update(rules["carcs"].get(carc_code, {}))
    return merged


def _feasible(action: NextAction, correctable: bool, appealable: bool, context: DenialContext) -> bool:
    if action is NextAction.CORRECT_AND_RESUBMIT:
        return correctable
    if action is NextAction.APPEAL:
        return appealable
    if action is NextAction.BILL_SECONDARY:
        return context.other_coverage
    return True


def decide(
    group: str, carc_code: str, rarcs: list[str] = (), context: DenialContext | None = None
) -> DenialDecision:
    """The root-cause rules for one denial: category, cause, correctable, appealable, and the next action."""
    context = context or DenialContext()
    group, carc_code = _normal(group), _normal(carc_code).split("-")[-1]
    remarks = [_normal(r) for r in rarcs]
    category = categorize_denial(group, carc_code, remarks)
    rule = _rule_for(category, carc_code)
    correctable_rule, appealable_rule = rule["correctable"], rule["appealable"]
    notes: list[str] = []
    for remark in remarks:
        override = _rules()["rarcs"].get(remark)
        if override is None:
            continue
        correctable_rule = override.get("correctable", correctable_rule)
        appealable_rule = override.get("appealable", appealable_rule)
        notes.append(f"{remark}: {override['note']}")
    correctable = correctable_rule == "always" or (correctable_rule == "if_fix" and context.has_fix)
    appealable = appealable_rule is True or (appealable_rule == "if_timely" and context.filed_timely is True)
    actions = rule.get("pr_actions", rule["actions"]) if group == "PR" else rule["actions"]
    action = next(
        (a for a in map(NextAction, actions) if _feasible(a, correctable, appealable, context)),
        NextAction.WRITE_OFF_REVIEW,
    )
    return DenialDecision(
        category=category,
        root_cause=rule["root_cause"],
        correctable=correctable,
        appealable=appealable,
        action=action,
        action_reason=_action_reason(action, rule, context),
        notes=notes,
    )


def _action_reason(action: NextAction, rule: dict[str, Any], context: DenialContext) -> str:
    if action is NextAction.CORRECT_AND_RESUBMIT:
        return (
            "Apply the validator's fix and send a corrected claim (frequency code 7)."
            if context.has_fix
            else "Correct the claim as the remark codes say and send a corrected claim (frequency code 7)."
        )
    if action is NextAction.APPEAL:
        return "Appeal with the note and the payer's policy; the letter is drafted for review."
    if action is NextAction.BILL_SECONDARY:
        return "Another plan of the patient was in force on the date of service: bill that plan."
    if action is NextAction.BILL_PATIENT:
        return "The payer assigned the amount to the patient: move it to the patient's balance."
    return rule.get("write_off_reason", "Nothing to correct or appeal: review the write-off.")


def recovery_rate(action: NextAction, appeal: AppealScore | None) -> Decimal:
    """The share of the denied amount this action usually recovers (the appeal score for appeals)."""
    if action is NextAction.APPEAL:
        return Decimal(str(round(appeal.score, 4))) if appeal else Decimal("0")
    return Decimal(str(_rules()["recovery_rates"][action.value]))


def appeal_prior(category: DenialCategory) -> float:
    return float(_rules()["appeal_priors"].get(category.value, _rules()["appeal_priors"]["other"]))


def line_fixes(fixes: list[Fix], line_number: int) -> list[Fix]:
    """The proposed fixes that touch this line, or the whole claim (a coverage change, a task)."""
    return [
        fix
        for fix in fixes
        if fix.edit.line == line_number or (fix.edit.line is None and fix.edit.op in ("set_coverage", "task"))
    ]


def triage_line(
    line: DeniedLine,
    *,
    settings: Settings,
    context: DenialContext | None = None,
    fixes: list[Fix] = (),
    appeal_score: AppealScore | None = None,
) -> DenialTriage:
    """Decide, score and route one denied line (the caller scores appealable lines with the appeal model)."""
    fixes = list(fixes)
    edits = [fix for fix in fixes if fix.edit.op != "task"]  # a task is work for a person, not a claim edit
    context = (context or DenialContext()).model_copy(update={"has_fix": bool(edits)})
    decision = decide(line.group, line.carc, line.rarcs, context)
    score = appeal_score if decision.appealable else None
    amount = line.denied_amount
    factors = [*decision.notes]
    if edits:
        factors.append("validator fix: " + "; ".join(fix.description for fix in edits[:3]))
    if score is not None:
        factors += score.factors
    on = line.paid_on or line.date_of_service
    return DenialTriage(
        line=line,
        codes=reason_codes(line.group, line.carc, line.rarcs, on, settings),
        category=decision.category,
        root_cause=decision.root_cause,
        correctable=decision.correctable,
        appealable=decision.appealable,
        fix=fixes if decision.correctable else [],
        amount=amount,
        next_best_action=decision.action,
        action_reason=decision.action_reason,
        queue=route(decision.category, decision.action, amount, settings),
        appeal_score=score,
        expected_recovery=round_cents(amount * recovery_rate(decision.action, score)),
        factors=factors,
    )
