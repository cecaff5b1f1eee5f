"""What graphs need from the outside, as small protocols: retrieval, the audit sink, the feedback store.

`api/` wires the real ones (Chroma, the audit_log and feedback tables); graphs never import `api`.
"""

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from agents.coding.schemas import PolicyPassage, SimilarEncounter
from knowledge.vectorstore.records import CodedEncounter


def inputs_hash(value: Any) -> str:
    """SHA-256 of a value's canonical JSON (sorted keys, no spaces): what the audit keeps, not the inputs."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditEntry(BaseModel):
    """One step a graph took, as the audit trail records it. `detail` summarizes the output without PHI."""

    actor: str = Field(
        description="who acted: 'system:<graph>', 'engine:<name>', 'user:<id>' or 'policy:<name>'"
    )
    action: str = Field(description="'<graph>.<node>', e.g. 'charge_coding.suggest'")
    practice_id: str = ""
    patient_id: str = ""
    claim_id: str = ""
    thread_id: str = ""
    inputs_hash: str = ""
    prompt_hash: str = ""
    engine: str = Field("", description="'<engine>@<version>' when an engine produced the output")
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditSink(Protocol):
    def record(self, entry: AuditEntry) -> None: ...


class CodingFeedback(BaseModel):
    """A reviewer's decision on a charge suggestion and how the final charge differs from it."""

    id: str = Field(description="the run id: one decision per run")
    thread_id: str
    encounter_id: str
    practice_id: str
    suggestion: dict[str, Any]
    final: dict[str, Any] | None = Field(None, description="the coding written; None when rejected")
    diff: dict[str, Any]
    decision: str
    reviewer: str
    reason: str = ""
    decided_at: datetime


class FeedbackStore(Protocol):
    def save(self, feedback: CodingFeedback) -> None:
        """Store the decision; saving the same id again changes nothing (a node may re-run)."""
        ...


class CodingRetriever(Protocol):
    """Approved encounters and payer policies, from the vector store."""

    def similar_encounters(
        self, note: str, *, practice_id: str, exclude_encounter_id: str = "", k: int = 5
    ) -> list[SimilarEncounter]: ...

    def payer_policies(self, text: str, *, payer_kind: str, k: int = 4) -> list[PolicyPassage]: ...

    def remember(self, encounter: CodedEncounter) -> None:
        """Add (or refresh) an approved coded encounter, so later notes like it are coded like it."""
        ...
