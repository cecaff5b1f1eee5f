"""Coding requests for the offline coder's rule tests: one established commercial patient, one date of service."""

from datetime import date
from typing import Any

from agents.coding.schemas import CodeSuggestion, CodingRequest, PriorVisit

DOS = date(2026, 3, 10)
ESTABLISHED = [PriorVisit(date=date(2025, 3, 11), codes=["92014"])]


def coding_request(note: str, **overrides: Any) -> CodingRequest:
    fields: dict[str, Any] = {
        "note": note,
        "patient_age": 66,
        "payer_name": "Aetna",
        "payer_kind": "commercial",
        "date_of_service": DOS,
        "history": ESTABLISHED,
    }
    return CodingRequest(**{**fields, **overrides})


def diagnosis_codes(suggestion: CodeSuggestion) -> set[str]:
    return {d.code for d in suggestion.diagnoses}


def line_keys(suggestion: CodeSuggestion) -> set[tuple[str, tuple[str, ...]]]:
    """Each line as (code, modifiers)."""
    return {(line.code, tuple(line.modifiers)) for line in suggestion.lines}


def line_codes(suggestion: CodeSuggestion) -> set[str]:
    return {line.code for line in suggestion.lines}
