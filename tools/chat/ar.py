"""A/R tools: open balances by aging bucket, the claims worth a call today, and what waits in the review queue."""

from decimal import Decimal
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import Field

from billing.claims import Claim, ClaimStatus
from billing.money import ZERO, money_str
from tools.chat.base import chat_tool
from tools.chat.context import ToolContext
from tools.chat.lookups import OPEN_STATUSES, PracticeScope, match_payer, payer_name, payers
from tools.chat.results import Source, ToolResult, not_found, review_href

BUCKETS = (
    (0, 30, "0-30"),
    (31, 60, "31-60"),
    (61, 90, "61-90"),
    (91, 120, "91-120"),
    (121, 10**6, "over 120"),
)
MIN_CALL_BALANCE = Decimal("25")
ADJUDICATED = frozenset({ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID, ClaimStatus.APPEALED})


class FollowUpQuestion(PracticeScope):
    min_days: int = Field(60, ge=0, le=3650, description="only claims open longer than this many days")
    payer: str | None = Field(None, description="only this payer (name or id)")
    limit: int = Field(10, ge=1, le=50)


class QueueQuestion(PracticeScope):
    limit: int = Field(10, ge=1, le=50)


def _age(ctx: ToolContext, claim: Claim) -> int:
    return (ctx.today() - (claim.submitted_on or claim.date_of_service)).days


def _balance(ctx: ToolContext, claim: Claim) -> Decimal:
    """What is still owed by the payer: the charge less what its adjudicated lines paid."""
    if claim.status not in ADJUDICATED:
        return claim.total_charge
    paid = sum((o.paid or ZERO for o in ctx.client().get_claim_outcome(claim.id)), ZERO)
    return max(claim.total_charge - paid, ZERO)


def _open_claims(ctx: ToolContext, practice_id: str | None) -> list[Claim]:
    found = []
    for status in OPEN_STATUSES:
        found += [
            c for c in ctx.client().iter_claims(practice_id, status=status) if ctx.caller.sees(c.practice_id)
        ]
    return found


def ar_summary(ctx: ToolContext, args: PracticeScope) -> ToolResult:
    if args.practice_id and not ctx.caller.sees(args.practice_id):
        return not_found("ar_summary", "practice")
    buckets: dict[str, dict[str, Any]] = {label: {"claims": 0, "amount": ZERO} for *_, label in BUCKETS}
    by_payer: dict[str, Decimal] = {}
    claims = _open_claims(ctx, args.practice_id)
    for claim in claims:
        age, balance = _age(ctx, claim), _balance(ctx, claim)
        label = next(label for low, high, label in BUCKETS if low <= age <= high or (age < 0 and low == 0))
        buckets[label]["claims"] += 1
        buckets[label]["amount"] += balance
        name = payer_name(ctx, claim.payer_id)
        by_payer[name] = by_payer.get(name, ZERO) + balance
    total = sum((b["amount"] for b in buckets.values()), ZERO)
    return ToolResult(
        tool="ar_summary",
        facts={
            "as_of": ctx.today().isoformat(),
            "open_claims": len(claims),
            "total": money_str(total),
            "buckets": [
                {"bucket": label, "claims": b["claims"], "amount": money_str(b["amount"])}
                for label, b in buckets.items()
            ],
            "by_payer": [
                {"payer": name, "amount": money_str(amount)}
                for name, amount in sorted(by_payer.items(), key=lambda kv: -kv[1])
            ],
        },
        sources=[Source(kind="claim", id=c.id) for c in claims[:20]],
    )


def followup_worklist(ctx: ToolContext, args: FollowUpQuestion) -> ToolResult:
    if args.practice_id and not ctx.caller.sees(args.practice_id):
        return not_found("followup_worklist", "practice")
    payer = match_payer(ctx, args.payer) if args.payer else None
    if args.payer and payer is None:
        return ToolResult(tool="followup_worklist", status="not_found", message="I do not know that payer.")
    filing = {p.id: p.timely_filing_days for p in payers(ctx)}
    rows = []
    for claim in _open_claims(ctx, args.practice_id):
        age = _age(ctx, claim)
        if age <= args.min_days or (payer is not None and claim.payer_id != payer.id):
            continue
        balance = _balance(ctx, claim)
        if balance < MIN_CALL_BALANCE:
            continue
        reason = {
            ClaimStatus.SUBMITTED: "no answer from the payer",
            ClaimStatus.ACCEPTED: "accepted but not paid",
            ClaimStatus.DENIED: "denied: appeal or correct",
            ClaimStatus.PARTIALLY_PAID: "partly paid: work the unpaid lines",
            ClaimStatus.APPEALED: "appeal pending: ask for its status",
        }[claim.status]
        rows.append(
            {
                "claim_id": claim.id,
                "practice_id": claim.practice_id,
                "payer": payer_name(ctx, claim.payer_id),
                "status": claim.status.value,
                "age_days": age,
                "balance": balance,
                "reason": reason,
                "filing_days_left": filing.get(claim.payer_id, 365)
                - (ctx.today() - claim.date_of_service).days,
            }
        )
    # A claim past its filing window cannot be corrected and resubmitted any more: counted, not listed.
    closed = [row for row in rows if row["filing_days_left"] < 0]
    rows = [row for row in rows if row["filing_days_left"] >= 0]
    # Bigger balances first; among equals, the claim nearest its filing deadline.
    rows.sort(key=lambda row: (-row["balance"], row["filing_days_left"]))
    chosen = rows[: args.limit]
    return ToolResult(
        tool="followup_worklist",
        facts={
            "min_days": args.min_days,
            "payer": payer.name if payer else None,
            "count": len(rows),
            "total": money_str(sum((row["balance"] for row in rows), ZERO)),
            "past_window": len(closed),
            "past_window_total": money_str(sum((row["balance"] for row in closed), ZERO)),
            "claims": [{**row, "balance": money_str(row["balance"])} for row in chosen],
        },
        sources=[Source(kind="claim", id=row["claim_id"]) for row in chosen],
    )


def review_queue(ctx: ToolContext, args: QueueQuestion) -> ToolResult:
    if ctx.queue is None:
        return ToolResult(
            tool="review_queue", status="unavailable", message="The review queue is not open in this session."
        )
    if args.practice_id and not ctx.caller.sees(args.practice_id):
        return not_found("review_queue", "practice")
    scope = (
        [args.practice_id]
        if args.practice_id
        else (sorted(ctx.caller.practice_ids) if ctx.caller.practice_ids is not None else None)
    )
    items = ctx.queue.pending(scope, args.limit)
    return ToolResult(
        tool="review_queue",
        facts={"count": len(items), "items": items},
        sources=[
            Source(kind="review", id=item["id"], label=item["title"], href=review_href(item["id"]))
            for item in items
        ],
    )


def ar_tools(ctx: ToolContext) -> list[BaseTool]:
    return [
        chat_tool(
            ctx,
            name="ar_summary",
            description="Open A/R: balances by aging bucket and by payer.",
            args_schema=PracticeScope,
            run=ar_summary,
        ),
        chat_tool(
            ctx,
            name="followup_worklist",
            description="Open claims older than N days worth calling the payer about today, biggest first.",
            args_schema=FollowUpQuestion,
            run=followup_worklist,
        ),
        chat_tool(
            ctx,
            name="review_queue",
            description="What is waiting in the review queue for your practices.",
            args_schema=QueueQuestion,
            run=review_queue,
        ),
    ]
