"""The review queue: list pending interrupts of every workflow, show one (an audited PHI view), decide it once."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from api.problems import ProblemError
from api.reviews import (
    Decision,
    ReviewConflict,
    ReviewItem,
    ReviewItemDetail,
    ReviewNotFound,
    ReviewService,
    WorkflowUnavailable,
)
from api.security.deps import Principal, ensure_practice_access, forbidden, require, visible_practice_ids
from api.security.permissions import Permission
from api.storage.models import ReviewStatus
from api.storage.reviews import ReviewFilter, list_review_items, older_than

router = APIRouter(prefix="/reviews", tags=["reviews"])

# Who may decide each workflow's items; a workflow missing here cannot be decided by anyone (default deny).
DECISION_PERMISSIONS: dict[str, Permission] = {
    "charge_coding": Permission.CHARGES_REVIEW,
    "claim_scrub": Permission.CLAIMS_REVIEW,
    "remittance": Permission.APPEALS_REVIEW,
    "contract_variance": Permission.DISPUTES_REVIEW,
    "contract_intake": Permission.CONTRACTS_INTAKE,
    "prior_auth": Permission.CLAIMS_REVIEW,
    "ar_followup": Permission.CLAIMS_REVIEW,
    "patient_statement": Permission.CLAIMS_REVIEW,
}

QueueViewer = Annotated[Principal, Depends(require(Permission.QUEUE_VIEW))]


def get_reviews(request: Request) -> ReviewService:
    return request.app.state.reviews


ReviewsDep = Annotated[ReviewService, Depends(get_reviews)]


def _visible_item(reviews: ReviewService, principal: Principal, item_id: str) -> ReviewItemDetail:
    """The item, or 404 when it does not exist or belongs to a practice the caller is not in."""
    try:
        item = reviews.get(item_id)
    except ReviewNotFound:
        raise ProblemError(404, "Nothing with this id among the practices you belong to.") from None
    ensure_practice_access(principal, item.practice_id)
    return item


@router.get("")
def list_reviews(
    principal: QueueViewer,
    db: SessionDep,
    workflow: str | None = None,
    min_confidence: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    max_confidence: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    older_than_minutes: Annotated[float | None, Query(ge=0.0)] = None,
    payer: str | None = None,
    practice_id: str | None = None,
    status: ReviewStatus = ReviewStatus.PENDING,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ReviewItem]:
    """The queue of the caller's practices, oldest first (ids, payer, confidence and amount; no payload)."""
    query = ReviewFilter(
        practice_ids=visible_practice_ids(principal, practice_id),
        status=status.value,
        workflow=workflow,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        older_than=older_than(older_than_minutes) if older_than_minutes is not None else None,
        payer=payer,
        limit=limit,
        offset=offset,
    )
    return [ReviewItem.model_validate(record) for record in list_review_items(db, query)]


@router.get("/{item_id}")
def get_review(item_id: str, principal: QueueViewer, reviews: ReviewsDep) -> ReviewItemDetail:
    """One item with its payload (suggestion, evidence, findings); the view is audited as a PHI access."""
    item = _visible_item(reviews, principal, item_id)
    reviews.audit(
        actor=principal.actor,
        action="phi.view",
        practice_id=item.practice_id,
        patient_id=item.patient_id or "",
        claim_id=item.claim_id or "",
        thread_id=item.thread_id,
        detail={"review_item_id": item.id, "workflow": item.workflow},
    )
    return item


@router.post("/{item_id}/decision", responses={409: {"description": "already decided by someone else"}})
async def decide_review(
    item_id: str,
    decision: Decision,
    principal: QueueViewer,
    reviews: ReviewsDep,
    version: Annotated[int | None, Query(description="the version you reviewed; 409 if it changed")] = None,
) -> ReviewItemDetail:
    """Approve, edit (with the edited payload) or reject (with a reason); exactly one decision per item."""
    item = await run_in_threadpool(_visible_item, reviews, principal, item_id)
    needed = DECISION_PERMISSIONS.get(item.workflow)
    if needed is None or not principal.can(needed):
        raise forbidden(
            f"Deciding {item.workflow} items needs the `{needed.value if needed else 'none'}` permission, "
            "which your roles do not grant."
        )
    try:
        return await run_in_threadpool(
            lambda: reviews.decide(item_id, decision, decided_by=principal.user_id, expected_version=version)
        )
    except ReviewConflict as exc:
        raise ProblemError(
            409, str(exc), title="Already decided", type_="/problems/review-conflict"
        ) from None
    except WorkflowUnavailable as exc:
        raise ProblemError(503, str(exc), title="Workflow not running") from None
    except ValueError as exc:
        raise ProblemError(422, f"The edited payload does not fit this workflow: {exc}") from None
