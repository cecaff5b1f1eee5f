"""The rules-only baseline: a claim with an error finding is scored as denied; what scores until a model is trained."""

from agents.risk.schemas import RiskScore
from agents.scrub.facts import ClaimFacts
from billing.claim_input import ClaimInput
from billing.findings import Finding, Severity

ERROR_SCORE = 0.9
WARNING_SCORE = 0.2
CLEAN_SCORE = 0.05
NO_MODEL = "No denial model trained yet (fovea train denials): this score comes from the rules baseline"


class RulesBaseline:
    """Validator and scrub-check errors mean a denial; warnings raise the score a little."""

    name = "rules-baseline"
    version = "rules@1"

    def score(self, claim: ClaimInput, findings: list[Finding], facts: ClaimFacts | None = None) -> RiskScore:
        errors = [item for item in findings if item.severity is Severity.ERROR]
        warnings = [item for item in findings if item.severity is Severity.WARNING]
        if errors:
            score, band = ERROR_SCORE, "high"
        elif warnings:
            score, band = WARNING_SCORE, "low"
        else:
            score, band = CLEAN_SCORE, "low"
        factors = [f"{item.code}: {first_sentence(item.message)}" for item in (errors + warnings)[:4]]
        return RiskScore(
            score=score, band=band, factors=[*factors, NO_MODEL], model=self.name, version=self.version
        )


def first_sentence(text: str, limit: int = 160) -> str:
    sentence = text.split("; ")[0].split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"
