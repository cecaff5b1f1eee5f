"""Findings: what a deterministic check found on a charge or claim (data, never an exception)."""

from enum import StrEnum

from pydantic import BaseModel, Field


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(BaseModel):
    code: str = Field(description="Stable id, e.g. NCCI_PTP or LATERALITY_MISMATCH")
    severity: Severity
    lines: list[int] = Field(default_factory=list, description="1-based line numbers involved")
    message: str
    fix: str = ""
    source: str = Field("", description="Rule source: file, LCD id, policy id")
