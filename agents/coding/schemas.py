"""What a coding engine takes and returns: the boundary every engine (offline, LLM) and caller shares."""

from datetime import date
from typing import Protocol

from pydantic import BaseModel, Field

from billing.findings import Finding


class Evidence(BaseModel):
    """A span of the note that supports a code; offsets index the note text exactly."""

    text: str
    start: int
    end: int


class PriorVisit(BaseModel):
    date: date
    codes: list[str] = Field(default_factory=list)
    specialty: str = ""


class SimilarEncounter(BaseModel):
    """An approved coded encounter retrieved from the `encounters` collection, for the vote."""

    encounter_id: str
    similarity: float = Field(description="1 - cosine distance, 0..1")
    note_text: str = ""
    diagnosis_codes: list[str] = Field(default_factory=list)
    lines: list["SuggestedLine"] = Field(default_factory=list)
    payer_kind: str = ""


class PolicyPassage(BaseModel):
    """A passage of a payer policy retrieved for this visit (context for the LLM engine)."""

    policy_id: str
    title: str = ""
    section: str = ""
    text: str


class CodingRequest(BaseModel):
    note: str
    patient_age: int | None = None
    patient_sex: str | None = None
    payer_name: str = ""
    payer_kind: str = Field(
        "commercial", description="medicare | medicaid | commercial | medicare_advantage | vision"
    )
    established: bool | None = Field(None, description="None: decide from history (3-year rule)")
    date_of_service: date | None = None
    history: list[PriorVisit] = Field(default_factory=list)
    fee_schedule_codes: set[str] | None = None
    similar_encounters: list[SimilarEncounter] = Field(default_factory=list)
    payer_policies: list[PolicyPassage] = Field(default_factory=list)


class SuggestedDiagnosis(BaseModel):
    code: str
    description: str = ""
    confidence: float = Field(ge=0, le=1)
    evidence: list[Evidence] = Field(default_factory=list)


class SuggestedLine(BaseModel):
    code: str
    modifiers: list[str] = Field(default_factory=list)
    units: int = 1
    diagnosis_codes: list[str] = Field(default_factory=list)
    confidence: float = Field(1.0, ge=0, le=1)
    evidence: list[Evidence] = Field(default_factory=list)
    rationale: str = ""


class CodeSuggestion(BaseModel):
    lines: list[SuggestedLine] = Field(default_factory=list)
    diagnoses: list[SuggestedDiagnosis] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    confidence: float = Field(
        0.0, ge=0, le=1, description="The charge as a whole: min over its codes, calibrated"
    )
    engine: str = "offline"
    engine_version: str = ""
    rationale: list[str] = Field(default_factory=list)

    @property
    def auto_draft(self) -> bool:
        """Above the review threshold with no error finding: may be drafted without a closer look."""
        return self.confidence >= AUTO_DRAFT_THRESHOLD and not any(
            f.severity == "error" for f in self.findings
        )


AUTO_DRAFT_THRESHOLD = 0.9


class CodeSuggester(Protocol):
    """One interface, several engines (offline by default, LLM when configured)."""

    name: str

    def suggest(self, request: CodingRequest) -> CodeSuggestion: ...


SimilarEncounter.model_rebuild()
