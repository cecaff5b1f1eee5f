"""LCD coverage rules for eye tests (knowledge/data/coverage_rules.yaml): covered diagnoses and frequency."""

from datetime import date
from functools import cache

from pydantic import BaseModel, Field

from knowledge.data import read_yaml


class CoverageRule(BaseModel):
    id: str
    codes: list[str]
    covered_dx: list[str] = Field(description='ICD-10-CM prefixes: "H40." = all of H40, "E11.3" = E11.3-')
    frequency_count: int | None = None
    frequency_days: int | None = Field(
        None, description="Window for frequency_count; None with a count = lifetime"
    )
    frequency_scope: str = "patient"
    lcd: list[str] = Field(default_factory=list)
    article: list[str] = Field(default_factory=list)
    effective: date
    termination: date | None = None
    source: str
    note: str = ""

    def in_force(self, on: date) -> bool:
        return self.effective <= on and (self.termination is None or on < self.termination)

    def covers_dx(self, dx_code: str) -> bool:
        compact = _compact(dx_code)
        return any(compact.startswith(_compact(prefix)) for prefix in self.covered_dx)


def _compact(code: str) -> str:
    return code.strip().upper().replace(".", "")


@cache
def _rules() -> tuple[CoverageRule, ...]:
    data = read_yaml("coverage_rules.yaml")
    return tuple(CoverageRule(source=data["source"], **rule) for rule in data["rules"])


def all_coverage_rules() -> list[CoverageRule]:
    return list(_rules())


def coverage_rules_for(code: str, on: date) -> list[CoverageRule]:
    normalized = code.strip().upper()
    return [rule for rule in _rules() if normalized in rule.codes and rule.in_force(on)]


def dx_supports(code: str, dx_codes: list[str], on: date) -> CoverageRule | None:
    """The first rule for the code that one of the diagnoses satisfies; None when none does or none exists."""
    for rule in coverage_rules_for(code, on):
        if any(rule.covers_dx(dx) for dx in dx_codes):
            return rule
    return None
