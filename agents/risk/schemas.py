"""What a denial-risk scorer returns and the interface every scorer (rules baseline, trained model) shares."""

from typing import Literal, Protocol

from pydantic import BaseModel, Field

from agents.scrub.facts import ClaimFacts
from billing.claim_input import ClaimInput
from billing.findings import Finding

Band = Literal["low", "medium", "high"]


class RiskScore(BaseModel):
    score: float = Field(ge=0, le=1, description="Probability the payer denies a line of the claim")
    band: Band
    factors: list[str] = Field(default_factory=list, description="Top contributing factors, in words")
    model: str = Field(description="'denials' (the trained model) or 'rules-baseline'")
    version: str = Field(description="The model file version (v3), or the baseline's rules version")


class RiskScorer(Protocol):
    name: str
    version: str

    def score(
        self, claim: ClaimInput, findings: list[Finding], facts: ClaimFacts | None = None
    ) -> RiskScore: ...
