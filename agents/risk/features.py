"""Claim features for the denial model: codes, modifiers, diagnosis families, payer, plan, provider, timing, findings."""

from agents.scrub.facts import ClaimFacts
from billing.claim_input import ClaimInput
from billing.findings import Finding, Severity
from knowledge.validation.context import dx_code, procedure_code

AGE_BANDS = ((18, "0-17"), (40, "18-39"), (65, "40-64"), (75, "65-74"))
UNKNOWN = "unknown"


def age_band(age: int) -> str:
    return next((label for limit, label in AGE_BANDS if age < limit), "75+")


def payer_key(claim: ClaimInput) -> str:
    return claim.payer.name.strip() or f"({claim.payer.kind.value})"


def line_codes(claim: ClaimInput) -> list[str]:
    return [procedure_code(line.code) for line in claim.lines]


def days_to_submission(claim: ClaimInput) -> int | None:
    if claim.submitted_on is None or claim.date_of_service is None:
        return None
    return (claim.submitted_on - claim.date_of_service).days


def claim_features(
    claim: ClaimInput, findings: list[Finding], facts: ClaimFacts | None = None
) -> dict[str, float]:
    """Sparse named features (one-hot names like 'code=92014' map to 1.0) before the payer x code rates."""
    features: dict[str, float] = {
        f"payer={payer_key(claim)}": 1.0,
        f"plan={claim.payer.kind.value}": 1.0,
        f"age={age_band(claim.patient.age)}": 1.0,
        f"established={claim.established}": 1.0,
        "lines": float(len(claim.lines)),
    }
    if facts is not None:
        features[f"provider={facts.claim.provider_id}"] = 1.0
        features[f"pos={facts.claim.place_of_service}"] = 1.0
    for line in claim.lines:
        code = procedure_code(line.code)
        features[f"code={code}"] = 1.0
        for modifier in line.modifiers:
            features[f"mod={modifier}"] = 1.0
            features[f"code_mod={code}-{modifier}"] = 1.0
        if not line.diagnosis_codes:
            features["line_without_dx"] = 1.0
        for dx in line.diagnosis_codes:
            features[f"dx={dx_code(dx)[:3]}"] = 1.0
    if claim.prior_auth_known:
        features[f"prior_auth={'yes' if claim.prior_auth is not None else 'no'}"] = 1.0
    days = days_to_submission(claim)
    if days is None:
        features["days_unknown"] = 1.0
    else:
        features["days_to_submission"] = min(days, 400) / 30.0
        if facts is not None and facts.payer is not None:
            features["filing_window_used"] = min(days / max(facts.payer.timely_filing_days, 1), 2.0)
    if any(item.severity is Severity.ERROR for item in findings):
        features["any_error"] = 1.0
    for item in findings:
        if item.severity is not Severity.INFO:
            features[f"finding={item.code}"] = 1.0
        features[item.severity.value + "s"] = features.get(item.severity.value + "s", 0.0) + 1.0
    return features
