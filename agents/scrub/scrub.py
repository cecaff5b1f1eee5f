"""scrub_claim: the validator and payer checks, a denial-risk score, and concrete fixes for one claim."""

from pydantic import BaseModel, Field

from agents.risk.schemas import RiskScore, RiskScorer
from agents.scrub.checks import find_problems
from agents.scrub.facts import ClaimFacts
from agents.scrub.fixes import Fix, propose_fixes
from billing.claim_input import ClaimInput
from billing.findings import Finding, Severity
from knowledge.base import KnowledgeBase


class ScrubResult(BaseModel):
    """The CLI contract: {"findings": [...], "risk": {"score", "band", "factors", ...}, "fixes": [...]}."""

    findings: list[Finding] = Field(default_factory=list)
    risk: RiskScore
    fixes: list[Fix] = Field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(item.severity is Severity.ERROR for item in self.findings)

    @property
    def needs_review(self) -> bool:
        """Errors or a risk above low go to a person; a clean low-risk claim passes."""
        return self.has_errors or self.risk.band != "low"


def scrub_claim(
    claim: ClaimInput, kb: KnowledgeBase, risk_model: RiskScorer, facts: ClaimFacts | None = None
) -> ScrubResult:
    findings = find_problems(claim, kb, facts)
    return ScrubResult(
        findings=findings,
        risk=risk_model.score(claim, findings, facts),
        fixes=propose_fixes(claim, findings, kb, facts),
    )
