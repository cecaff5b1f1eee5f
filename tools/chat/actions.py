"""Action tools: each STARTS an existing workflow, which stops at its own review interrupt; none writes anything.

The permission each needs is the one the API asks of whoever decides that workflow's review items (or runs it,
for the claim scrub), so chat refuses exactly whom the API refuses.
"""

from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from billing.claims import ClaimStatus
from tools.chat.base import chat_tool
from tools.chat.context import ToolContext
from tools.chat.lookups import ClaimRef, EncounterRef, visible_claim
from tools.chat.results import Source, ToolResult, not_found, review_href

# tool -> (workflow it starts, the API permission it needs)
ACTIONS: dict[str, tuple[str, str]] = {
    "code_encounter": ("charge_coding", "charges.review"),
    "scrub_claim": ("claim_scrub", "claims.review"),
    "draft_appeal": ("remittance", "appeals.review"),
    "open_dispute": ("contract_variance", "disputes.review"),
}
APPEALABLE = frozenset(
    {ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID, ClaimStatus.APPEALED, ClaimStatus.CLOSED}
)
DISPUTABLE = frozenset({ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.CLOSED})


def _start(ctx: ToolContext, tool: str, subject_id: str, practice_id: str, facts: dict) -> ToolResult:
    workflow, _ = ACTIONS[tool]
    if ctx.starter is None or not ctx.starter.available(workflow):
        return ToolResult(
            tool=tool,
            status="unavailable",
            message=(
                f"The {workflow.replace('_', ' ')} workflow is not available yet in this service, "
                f"so nothing was started for {subject_id}."
            ),
            facts={**facts, "workflow": workflow, "practice_id": practice_id},
        )
    outcome = ctx.starter.start(workflow, subject_id, practice_id=practice_id, requested_by=ctx.caller.actor)
    result_facts = {**facts, **outcome.model_dump(mode="json"), "practice_id": practice_id}
    sources = (
        [
            Source(
                kind="review",
                id=outcome.review_item_id,
                label="review item",
                href=review_href(outcome.review_item_id),
            )
        ]
        if outcome.review_item_id
        else []
    )
    status = "unavailable" if outcome.state == "unavailable" else "ok"
    return ToolResult(
        tool=tool,
        status=status,
        message=outcome.detail if status != "ok" else "",
        facts=result_facts,
        sources=sources,
    )


def code_encounter(ctx: ToolContext, args: EncounterRef) -> ToolResult:
    encounter = ctx.client().get_encounter(args.encounter_id)
    if not ctx.caller.sees(encounter.practice_id):
        return not_found("code_encounter", "encounter")
    facts = {
        "encounter_id": encounter.id,
        "patient_id": encounter.patient_id,
        "thread_id": f"encounter:{encounter.id}",
    }
    result = _start(ctx, "code_encounter", encounter.id, encounter.practice_id, facts)
    result.sources.insert(0, Source(kind="encounter", id=encounter.id))
    return result


def scrub_claim(ctx: ToolContext, args: ClaimRef) -> ToolResult:
    claim = visible_claim(ctx, args.claim_id)
    if claim is None:
        return not_found("scrub_claim", "claim")
    facts = {"claim_id": claim.id, "patient_id": claim.patient_id, "thread_id": f"claim:{claim.id}"}
    result = _start(ctx, "scrub_claim", claim.id, claim.practice_id, facts)
    result.sources.insert(0, Source(kind="claim", id=claim.id))
    return result


def draft_appeal(ctx: ToolContext, args: ClaimRef) -> ToolResult:
    claim = visible_claim(ctx, args.claim_id)
    if claim is None:
        return not_found("draft_appeal", "claim")
    facts = {"claim_id": claim.id, "patient_id": claim.patient_id, "claim_status": claim.status.value}
    if claim.status not in APPEALABLE:
        return ToolResult(
            tool="draft_appeal",
            status="not_found",
            message=f"Claim {claim.id} is {claim.status.value}: there is no denial on it to appeal.",
            facts={**facts, "practice_id": claim.practice_id},
        )
    result = _start(ctx, "draft_appeal", claim.id, claim.practice_id, facts)
    result.sources.insert(0, Source(kind="claim", id=claim.id))
    return result


def open_dispute(ctx: ToolContext, args: ClaimRef) -> ToolResult:
    claim = visible_claim(ctx, args.claim_id)
    if claim is None:
        return not_found("open_dispute", "claim")
    facts = {"claim_id": claim.id, "patient_id": claim.patient_id, "claim_status": claim.status.value}
    if claim.status not in DISPUTABLE:
        return ToolResult(
            tool="open_dispute",
            status="not_found",
            message=f"Claim {claim.id} is {claim.status.value}: a payment dispute needs a paid claim.",
            facts={**facts, "practice_id": claim.practice_id},
        )
    result = _start(ctx, "open_dispute", claim.id, claim.practice_id, facts)
    result.sources.insert(0, Source(kind="claim", id=claim.id))
    return result


def _tool(
    ctx: ToolContext,
    name: str,
    description: str,
    schema: type[BaseModel],
    run: Callable[[ToolContext, Any], ToolResult],
) -> BaseTool:
    return chat_tool(
        ctx,
        name=name,
        description=description,
        args_schema=schema,
        run=run,
        permission=ACTIONS[name][1],
        action=True,
    )


def action_tools(ctx: ToolContext) -> list[BaseTool]:
    return [
        _tool(
            ctx,
            "code_encounter",
            "Start charge coding for an encounter; the suggestion waits in the review queue.",
            EncounterRef,
            code_encounter,
        ),
        _tool(
            ctx, "scrub_claim", "Scrub a claim now; fixes wait in the review queue.", ClaimRef, scrub_claim
        ),
        _tool(
            ctx,
            "draft_appeal",
            "Draft an appeal for a denied claim; the draft waits in the review queue.",
            ClaimRef,
            draft_appeal,
        ),
        _tool(
            ctx,
            "open_dispute",
            "Open a payment dispute for an underpaid claim; it waits in the review queue.",
            ClaimRef,
            open_dispute,
        ),
    ]
