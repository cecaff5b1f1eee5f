"""The contract between the review queue and the workflows whose interrupts it lists.

Every workflow runtime (charge_coding, claim_scrub, remittance, contract_variance ...) does two things:
when its graph stops at `interrupt()`, it calls `ReviewSink.open_item(...)` with the interrupt's payload;
and it resumes a thread when the review queue hands it a decision. The review queue (api/routes/reviews)
keeps the items, enforces one decision per item, and calls `WorkflowRuntime.resume`.
"""

from typing import Any, Protocol

from pydantic import BaseModel, Field


class ReviewItemDraft(BaseModel):
    """What a workflow tells the queue when one of its threads waits for a person."""

    workflow: str = Field(description="charge_coding | claim_scrub | remittance | contract_variance | ...")
    thread_id: str
    practice_id: str
    title: str = Field(
        description="One line for the queue, no PHI beyond ids, e.g. 'Encounter ENC-12: 3 codes'"
    )
    payload: dict[str, Any] = Field(description="The interrupt value: suggestion, evidence, findings ...")
    confidence: float | None = None
    payer: str = ""
    patient_id: str | None = None
    encounter_id: str | None = None
    claim_id: str | None = None
    has_errors: bool = False
    amount: str | None = Field(None, description="Money at stake, decimal string, when the workflow has one")


class ReviewSink(Protocol):
    def open_item(self, draft: ReviewItemDraft) -> str:
        """Create (or refresh, for the same workflow + thread) a pending review item; returns its id."""
        ...


class WorkflowRuntime(Protocol):
    workflow: str

    def resume(self, thread_id: str, decision: dict[str, Any]) -> Any:
        """Resume the thread's interrupt with `{"decision": "approve"|"edit"|"reject", ...}`."""
        ...
