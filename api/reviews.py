"""The review queue's service: the ReviewSink workflows report interrupts to, and the one-decision-per-item rule.

`ReviewService.decide` claims the item atomically (UPDATE ... WHERE status='pending' AND version=v; a
second reviewer gets ReviewConflict, answered 409), records who decided, the time to decision and the diff
against the suggestion, audits the decision, then resumes the workflow registered for the item. A crash
after the claim leaves a decided item without `applied_at`; `recover()` resumes those on start-up (the
workflow's write carries an idempotency key, so nothing is written twice). Autopilot: when a feature's
policy is on, an item above its confidence threshold with no error findings is approved by
`policy:<feature>-autopilot`, audited as such.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy.orm import Session, sessionmaker

from api.features import FeatureGate
from api.storage.models import ReviewItemRecord, ReviewStatus, utc_now
from api.storage.reviews import (
    claim_decision,
    get_review_item,
    mark_applied,
    mark_apply_failed,
    open_review_item,
    payload_hash,
    unapplied_decisions,
)
from api.workflows import ReviewItemDraft, WorkflowRuntime

log = logging.getLogger("fovea.reviews")
Clock = Callable[[], datetime]


class Decision(BaseModel):
    """A reviewer's answer: approve, edit (with the edited payload) or reject (with a reason)."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "edit", "reject"]
    edited: dict[str, Any] | None = None
    reason: str = ""

    @model_validator(mode="after")
    def _complete(self) -> "Decision":
        if self.decision == "edit" and self.edited is None:
            raise ValueError("an 'edit' decision needs 'edited' (the corrected payload)")
        if self.decision == "reject" and not self.reason.strip():
            raise ValueError("a 'reject' decision needs a 'reason'")
        if self.decision != "edit" and self.edited is not None:
            raise ValueError("'edited' goes only with an 'edit' decision")
        return self


class ReviewItem(BaseModel):
    """A review item as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    workflow: str
    thread_id: str
    practice_id: str
    patient_id: str | None
    encounter_id: str | None
    claim_id: str | None
    payer: str
    title: str
    confidence: float | None
    has_errors: bool
    amount: str | None
    status: str
    version: int
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision: str | None
    reason: str
    time_to_decision_seconds: float | None
    applied_at: datetime | None
    apply_error: str | None


class ReviewItemDetail(ReviewItem):
    payload: dict[str, Any]
    edited: dict[str, Any] | None
    diff: dict[str, Any] | None
    result: dict[str, Any] | None


class ReviewNotFound(Exception):
    """No review item with this id."""


class ReviewConflict(Exception):
    """The item is no longer pending at the version the reviewer saw: someone else decided first."""


class WorkflowUnavailable(Exception):
    """No runtime is registered for the item's workflow, so a decision could not be applied."""


@runtime_checkable
class SuggestionDiffer(Protocol):
    """A runtime that can say how an edited payload differs from its suggestion, in its own terms."""

    def diff(
        self, payload: dict[str, Any], decision: str, edited: dict[str, Any] | None
    ) -> dict[str, Any]: ...


def generic_diff(payload: dict[str, Any], decision: str, edited: dict[str, Any] | None) -> dict[str, Any]:
    """Top-level keys the reviewer changed, for workflows without a diff of their own."""
    if decision == "reject":
        return {"rejected": True}
    if edited is None:
        return {"unchanged": True}
    suggestion = payload.get("suggestion", payload)
    suggestion = suggestion if isinstance(suggestion, dict) else {}
    changed = sorted(key for key in edited if suggestion.get(key) != edited[key])
    return {"changed": changed, "unchanged": not changed}


def result_summary(result: Any) -> dict[str, Any]:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result if isinstance(result, dict) else {"result": repr(result)[:200]}


class WorkflowRegistry:
    """Which runtime resumes the threads of each workflow."""

    def __init__(self, runtimes: list[WorkflowRuntime] | None = None) -> None:
        self._runtimes: dict[str, WorkflowRuntime] = {}
        for runtime in runtimes or []:
            self.register(runtime)

    def register(self, runtime: WorkflowRuntime) -> None:
        self._runtimes[runtime.workflow] = runtime

    def get(self, workflow: str) -> WorkflowRuntime | None:
        return self._runtimes.get(workflow)


class ReviewService:
    """The ReviewSink of every workflow and the decision service of the review queue."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        workflows: WorkflowRegistry,
        gate: FeatureGate,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.workflows = workflows
        self.gate = gate
        self.clock = clock
        self._audit_lock = threading.Lock()
        self._recover_lock = threading.Lock()

    # the sink

    def open_item(self, draft: ReviewItemDraft) -> str:
        """Create (or refresh) the pending item for the draft's thread; autopilot may decide it at once."""
        with self.sessions() as session:
            record, created = open_review_item(session, draft, self.clock())
        if created:
            log.info("review item opened", extra={"review_item_id": record.id, "workflow": record.workflow})
        if record.status == ReviewStatus.PENDING.value:
            self._autopilot(record)
        return record.id

    def _autopilot(self, record: ReviewItemRecord) -> None:
        flags = self.gate.for_workflow(record.workflow)
        if flags is None or not (flags.enabled and flags.autopilot_enabled):
            return
        if record.has_errors or record.confidence is None or record.confidence < flags.autopilot_threshold:
            return
        policy = f"policy:{flags.feature.value}-autopilot"
        try:
            self.decide(
                record.id,
                Decision(decision="approve"),
                decided_by=policy,
                expected_version=record.version,
                policy_detail={
                    "threshold": flags.autopilot_threshold,
                    "confidence": record.confidence,
                    "has_errors": record.has_errors,
                },
            )
        except ReviewConflict:
            log.info("autopilot lost the item to a reviewer", extra={"review_item_id": record.id})

    # reading

    def get(self, item_id: str) -> ReviewItemDetail:
        with self.sessions() as session:
            record = get_review_item(session, item_id)
            if record is None:
                raise ReviewNotFound(item_id)
            return ReviewItemDetail.model_validate(record)

    # deciding

    def decide(
        self,
        item_id: str,
        decision: Decision,
        *,
        decided_by: str,
        expected_version: int | None = None,
        policy_detail: dict[str, Any] | None = None,
    ) -> ReviewItemDetail:
        """Claim the item for this decision (ReviewConflict if it is taken), audit it, resume the workflow.

        `decided_by` is the user id, or `policy:<name>` for an autopilot approval.
        """
        item = self.get(item_id)
        if item.status != ReviewStatus.PENDING.value:
            raise ReviewConflict(
                f"review item {item_id} was already decided ({item.decision}) by {item.decided_by}"
            )
        if expected_version is not None and expected_version != item.version:
            raise ReviewConflict(
                f"review item {item_id} changed since you loaded it (version {item.version}); reload it"
            )
        runtime = self.workflows.get(item.workflow)
        if runtime is None:
            raise WorkflowUnavailable(f"no runtime resumes {item.workflow} threads in this service")
        differ = runtime.diff if isinstance(runtime, SuggestionDiffer) else generic_diff
        diff = differ(item.payload, decision.decision, decision.edited)
        now = self.clock()
        seconds = max(0.0, (now - item.created_at).total_seconds())
        values = {
            "decided_at": now,
            "decided_by": decided_by,
            "decision": decision.decision,
            "reason": decision.reason,
            "edited": decision.edited,
            "diff": diff,
            "time_to_decision_seconds": seconds,
        }
        with self.sessions() as session:
            if not claim_decision(session, item_id, item.version, values):
                raise ReviewConflict(f"review item {item_id} was decided by someone else first")
        self._audit_decision(item, decision, decided_by, diff, seconds, policy_detail)
        self.apply(item_id)
        return self.get(item_id)

    def _audit_decision(
        self,
        item: ReviewItem,
        decision: Decision,
        decided_by: str,
        diff: dict[str, Any],
        seconds: float,
        policy_detail: dict[str, Any] | None,
    ) -> None:
        actor = decided_by if decided_by.startswith("policy:") else f"user:{decided_by}"
        detail: dict[str, Any] = {
            "review_item_id": item.id,
            "workflow": item.workflow,
            "decision": decision.decision,
            "has_reason": bool(decision.reason),
            "diff": diff,
            "time_to_decision_seconds": round(seconds, 3),
        }
        if policy_detail is not None:
            detail["policy"] = policy_detail
        self.audit(
            actor=actor,
            action="review.decision",
            practice_id=item.practice_id,
            patient_id=item.patient_id or "",
            claim_id=item.claim_id or "",
            thread_id=item.thread_id,
            inputs_hash=payload_hash(decision.model_dump(mode="json")),
            detail=detail,
        )

    def audit(self, **fields: Any) -> None:
        """Append one record to the hash-chained audit log."""
        # Imported here: the audit module pulls in the graph ports, which the app does not need at import time.
        from api.storage.audit import append_audit
        from graphs.ports import AuditEntry

        with self._audit_lock, self.sessions() as session:
            append_audit(session, AuditEntry(**fields))

    def apply(self, item_id: str) -> bool:
        """Resume the item's workflow with its stored decision; True when the workflow finished applying it."""
        with self.sessions() as session:
            record = get_review_item(session, item_id)
            if record is None or record.status != ReviewStatus.DECIDED.value or record.applied_at is not None:
                return record is not None and record.applied_at is not None
            thread_id, workflow = record.thread_id, record.workflow
            resume_with = {
                "decision": record.decision,
                "edited": record.edited,
                "reason": record.reason,
                "reviewer": record.decided_by,
            }
        runtime = self.workflows.get(workflow)
        if runtime is None:
            return False
        try:
            result = runtime.resume(thread_id, resume_with)
        except Exception as exc:  # the decision stands; recover() tries again
            error = f"{type(exc).__name__}: {exc}"[:500]
            with self.sessions() as session:
                mark_apply_failed(session, item_id, error)
            log.warning(
                "decision not applied yet",
                extra={"review_item_id": item_id, "error_type": type(exc).__name__},
            )
            return False
        with self.sessions() as session:
            mark_applied(session, item_id, result_summary(result))
        return True

    def recover(self, decided_before: timedelta | None = None) -> int:
        """Apply decisions a crash or an error left unapplied (older than `decided_before`); the count applied."""
        cutoff = self.clock() - decided_before if decided_before is not None else None
        with self._recover_lock:
            with self.sessions() as session:
                waiting = [record.id for record in unapplied_decisions(session, cutoff)]
            applied = sum(1 for item_id in waiting if self.apply(item_id))
        if waiting:
            log.info("recovered decisions", extra={"waiting": len(waiting), "applied": applied})
        return applied
