"""Denial tools: what a CARC or RARC means, why a claim was denied and what to do, denials in summary."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from billing.claims import Claim, ClaimStatus
from billing.money import ZERO, money_str
from knowledge.codes.adjustments import carc, categorize_denial, rarc
from knowledge.data import read_yaml
from tools.chat.base import chat_tool
from tools.chat.context import ToolContext
from tools.chat.lookups import PracticeScope, claim_source, payer_name, visible_claim
from tools.chat.results import Source, ToolResult, not_found
from tools.crystalpm.models import LineOutcome

DENIAL_STATUSES = (ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID, ClaimStatus.APPEALED, ClaimStatus.CLOSED)
ROOT_CAUSES = "denial_root_causes.yaml"


class ReasonCode(BaseModel):
    code: str = Field(description="a CARC (e.g. 45, CO-45) or a RARC (e.g. N115, M80)")


class DenialRef(BaseModel):
    claim_id: str | None = Field(None, description="the denied claim's id")
    patient_id: str | None = Field(None, description="or the patient whose latest denied claim to explain")


class DenialPeriod(PracticeScope):
    days: int = Field(90, ge=1, le=730, description="look back this many days of service")


def _is_rarc(code: str) -> bool:
    return code.strip().upper()[:1] in {"M", "N", "MA"} and not code.strip().isdigit()


def _routine(group: str, code: str) -> bool:
    return code in read_yaml(ROOT_CAUSES)["routine"].get(group, [])


def root_cause(group: str, carc_code: str, rarcs: list[str]) -> dict[str, Any]:
    """Our category, root cause, appealability and next actions for an adjustment (denial_root_causes.yaml)."""
    rules = read_yaml(ROOT_CAUSES)
    category = categorize_denial(group, carc_code, rarcs)
    rule = {**rules["categories"][category.value], **rules["carcs"].get(carc_code, {})}
    actions = rule.get("pr_actions", rule["actions"]) if group == "PR" else rule["actions"]
    return {
        "category": category.value,
        "root_cause": rule["root_cause"],
        "appealable": rule["appealable"],
        "correctable": rule["correctable"],
        "actions": [action.replace("_", " ") for action in actions],
    }


def explain_code(ctx: ToolContext, args: ReasonCode) -> ToolResult:
    raw = args.code.strip().upper()
    group, _, bare = raw.rpartition("-")
    if _is_rarc(bare):
        found = rarc(bare, settings=ctx.settings)
        if found is None:
            return ToolResult(
                tool="explain_code", status="not_found", message=f"RARC {bare} is not in the code list."
            )
        return ToolResult(
            tool="explain_code",
            facts={"kind": "RARC", "code": found.code, "description": found.description},
            sources=[Source(kind="rarc", id=found.code, label=f"RARC {found.code}")],
        )
    found = carc(bare, settings=ctx.settings)
    if found is None:
        return ToolResult(
            tool="explain_code", status="not_found", message=f"CARC {bare} is not in the code list."
        )
    cause = root_cause(group or "CO", found.code, [])
    return ToolResult(
        tool="explain_code",
        facts={
            "kind": "CARC",
            "code": found.code,
            "group": group,
            "description": found.description,
            "routine": _routine(group or "CO", found.code),
            **cause,
        },
        sources=[Source(kind="carc", id=found.code, label=f"CARC {found.code}")],
    )


def _carc_text(ctx: ToolContext, code: str) -> str:
    found = carc(code, settings=ctx.settings)
    return found.description if found else ""


def _denied_lines(outcomes: list[LineOutcome]) -> list[LineOutcome]:
    return [
        o for o in outcomes if o.carc and o.status in ("denied", "reduced") and not _routine(o.group, o.carc)
    ]


def _latest_denied_claim(ctx: ToolContext, patient_id: str) -> tuple[Claim, list[LineOutcome]] | None:
    claims = sorted(
        ctx.client().iter_claims(patient_id=patient_id), key=lambda c: c.date_of_service, reverse=True
    )
    for claim in claims:
        if claim.status in DENIAL_STATUSES and ctx.caller.sees(claim.practice_id):
            denied = _denied_lines(ctx.client().get_claim_outcome(claim.id))
            if denied:
                return claim, denied
    return None


def explain_denial(ctx: ToolContext, args: DenialRef) -> ToolResult:
    if args.claim_id:
        claim = visible_claim(ctx, args.claim_id)
        if claim is None:
            return not_found("explain_denial", "claim")
        outcomes = ctx.client().get_claim_outcome(claim.id)
        denied = _denied_lines(outcomes)
    elif args.patient_id:
        patient = ctx.client().get_patient(args.patient_id)
        if not ctx.caller.sees(patient.practice_id):
            return not_found("explain_denial", "patient")
        found = _latest_denied_claim(ctx, patient.id)
        if found is None:
            return ToolResult(
                tool="explain_denial",
                status="not_found",
                message="I found no denied claim for that patient.",
                facts={"patient_id": patient.id},
            )
        claim, denied = found
        outcomes = denied
    else:
        return ToolResult(
            tool="explain_denial", status="not_found", message="Tell me which claim or patient."
        )
    codes = {line.line_number: line.code for line in claim.lines}
    charges = {line.line_number: line.charge for line in claim.lines}
    lines = []
    sources: list[Source] = [claim_source(claim)]
    for outcome in denied:
        cause = root_cause(outcome.group, outcome.carc, outcome.rarcs)
        remarks = [
            {"code": code, "description": found.description}
            for code in outcome.rarcs
            if (found := rarc(code, settings=ctx.settings)) is not None
        ]
        lines.append(
            {
                "line": outcome.line_number,
                "code": codes.get(outcome.line_number, ""),
                "amount": money_str(charges.get(outcome.line_number, ZERO)),
                "adjustment": f"{outcome.group}-{outcome.carc}",
                "carc": outcome.carc,
                "carc_text": _carc_text(ctx, outcome.carc),
                "remarks": remarks,
                **cause,
            }
        )
        sources.append(Source(kind="carc", id=outcome.carc, label=f"CARC {outcome.carc}"))
        sources += [Source(kind="rarc", id=r["code"], label=f"RARC {r['code']}") for r in remarks]
    return ToolResult(
        tool="explain_denial",
        facts={
            "claim_id": claim.id,
            "practice_id": claim.practice_id,
            "patient_id": claim.patient_id,
            "status": claim.status.value,
            "payer": payer_name(ctx, claim.payer_id),
            "date_of_service": claim.date_of_service.isoformat(),
            "denied_lines": lines,
            "paid_lines": len(outcomes) - len(denied),
        },
        sources=sources,
    )


def denial_summary(ctx: ToolContext, args: DenialPeriod) -> ToolResult:
    if args.practice_id and not ctx.caller.sees(args.practice_id):
        return not_found("denial_summary", "practice")
    since = ctx.today() - timedelta(days=args.days)
    by_carc: Counter[str] = Counter()
    by_payer: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    amount = Decimal(0)
    claims: list[str] = []
    for status in DENIAL_STATUSES:
        for claim in ctx.client().iter_claims(args.practice_id, status=status, since=since):
            if not ctx.caller.sees(claim.practice_id):
                continue
            denied = _denied_lines(ctx.client().get_claim_outcome(claim.id))
            if not denied:
                continue
            claims.append(claim.id)
            charges = {line.line_number: line.charge for line in claim.lines}
            for outcome in denied:
                by_carc[f"{outcome.group}-{outcome.carc}"] += 1
                by_category[categorize_denial(outcome.group, outcome.carc, outcome.rarcs).value] += 1
                by_payer[payer_name(ctx, claim.payer_id)] += 1
                amount += charges.get(outcome.line_number, ZERO)
    return ToolResult(
        tool="denial_summary",
        facts={
            "days": args.days,
            "since": since.isoformat(),
            "denied_claims": len(claims),
            "denied_lines": sum(by_carc.values()),
            "denied_amount": money_str(amount),
            "top_reasons": [
                {"adjustment": code, "count": n, "text": _carc_text(ctx, code.split("-")[1])}
                for code, n in by_carc.most_common(5)
            ],
            "by_category": dict(by_category.most_common()),
            "by_payer": dict(by_payer.most_common()),
            "claims": claims[:20],
        },
        sources=[Source(kind="claim", id=claim_id) for claim_id in claims[:20]],
    )


def denial_tools(ctx: ToolContext) -> list[BaseTool]:
    return [
        chat_tool(
            ctx,
            name="explain_code",
            description="What a CARC or RARC adjustment code means and what to do about it.",
            args_schema=ReasonCode,
            run=explain_code,
        ),
        chat_tool(
            ctx,
            name="explain_denial",
            description="Why a claim (or a patient's latest denied claim) was denied: codes, root cause, next steps.",
            args_schema=DenialRef,
            run=explain_denial,
        ),
        chat_tool(
            ctx,
            name="denial_summary",
            description="Denials over recent days by reason, category and payer.",
            args_schema=DenialPeriod,
            run=denial_summary,
        ),
    ]
