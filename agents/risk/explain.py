"""A score's top contributing factors in words ("Evergreen PPO denies 92250 on 18% of lines", "Line 2: ...")."""

from agents.risk.baseline import first_sentence
from agents.risk.features import days_to_submission, line_codes, payer_key
from agents.risk.rates import PayerCodeRates
from agents.scrub.facts import ClaimFacts
from billing.claim_input import ClaimInput
from billing.findings import Finding


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _finding_text(code: str, findings: list[Finding]) -> str:
    found = next((item for item in findings if item.code == code), None)
    if found is None:
        return code
    return f"{code}: {first_sentence(found.message)}"


def _riskiest_line(claim: ClaimInput, rates: PayerCodeRates) -> str:
    payer = payer_key(claim)
    codes = line_codes(claim)
    if not codes:
        return "The claim has no lines"
    code = max(codes, key=lambda c: rates.rate(payer, c))
    seen, denied = rates.counts(payer, code)
    if seen:
        return (
            f"{payer} denies {code} on {_percent(rates.rate(payer, code))} of lines ({denied} of {seen} seen)"
        )
    return (
        f"{code} is denied on {_percent(rates.code_rate(code))} of lines across payers ({payer}: none seen)"
    )


def describe(
    feature: str, claim: ClaimInput, findings: list[Finding], facts: ClaimFacts | None, rates: PayerCodeRates
) -> str:
    """One feature of this claim, in a biller's words."""
    name, _, value = feature.partition("=")
    payer = payer_key(claim)
    if name == "finding":
        return _finding_text(value, findings)
    if name in ("rate_max", "rate_mean"):
        return _riskiest_line(claim, rates)
    if name in ("payer_rate", "payer"):
        return f"{payer} denies {_percent(rates.payer_rate(payer))} of lines overall"
    if name == "code":
        return f"{value} is denied on {_percent(rates.code_rate(value))} of lines across payers"
    if name == "code_mod":
        code, _, modifier = value.partition("-")
        return f"{code} billed with modifier {modifier}"
    if name in ("days_to_submission", "filing_window_used"):
        days = days_to_submission(claim)
        limit = f" (the payer allows {facts.payer.timely_filing_days})" if facts and facts.payer else ""
        return f"Sent {days} days after the date of service{limit}"
    texts = {
        "mod": f"Modifier {value} on a line",
        "plan": f"A {value.replace('_', ' ')} plan",
        "provider": f"Rendering provider {value}'s claims",
        "pos": f"Place of service {value}",
        "age": f"Patient aged {value}",
        "dx": f"Diagnosis family {value}",
        "prior_auth": "No prior authorization on file" if value == "no" else "A prior authorization on file",
        "established": "A new patient" if value == "False" else "An established patient",
        "errors": "Error findings on the claim",
        "any_error": "The checks found an error a payer denies",
        "warnings": "Warning findings on the claim",
        "lines": f"{len(claim.lines)} service lines",
        "line_without_dx": "A line links no diagnosis",
        "days_unknown": "No submission date given",
    }
    return texts.get(name, feature)


def top_factors(
    contributions: list[tuple[str, float]],
    claim: ClaimInput,
    findings: list[Finding],
    facts: ClaimFacts | None,
    rates: PayerCodeRates,
    *,
    limit: int = 4,
) -> list[str]:
    """The features that raised the score most, as distinct sentences; codes of this claim only."""
    factors: list[str] = []
    for feature, weight in sorted(contributions, key=lambda item: -item[1]):
        if weight <= 0 or len(factors) >= limit:
            break
        text = describe(feature, claim, findings, facts, rates)
        if text not in factors:
            factors.append(text)
    return factors
