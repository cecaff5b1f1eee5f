"""What happened at one synthetic visit: the facts notes are written from and codes derived from."""

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

EYES = {1: ("OD", "right eye"), 2: ("OS", "left eye"), 3: ("OU", "both eyes")}
ExamKind = Literal["comprehensive", "intermediate", "em", "none"]
# MDM facts the note states (evals/datasets/README.md, "MDM"); the E/M level is derived from them.
Problems = Literal["self_limited", "stable_chronic", "acute", "two_chronic", "progressing"]
Management = Literal["none", "otc", "rx", "surgery"]
Data = Literal["minimal", "limited", "moderate"]


@dataclass(frozen=True)
class Dx:
    """One diagnosis as the chart states it: its code, a terse label and a prose label."""

    code: str
    short: str
    long: str


@dataclass
class Service:
    """A billable test or procedure done today, with the diagnoses that justify it."""

    code: str
    short: str
    long: str
    result: str
    dx: list[str]
    modifiers: list[str] = field(default_factory=list)


@dataclass
class Visit:
    scenario: str
    benefit: Literal["medical", "vision"]
    exam: ExamKind
    reason: str
    appointment_type: str
    dx: list[Dx]
    problems: Problems = "stable_chronic"
    management: Management = "none"
    data: Data = "minimal"
    hpi: list[str] = field(default_factory=list)
    negations: list[str] = field(default_factory=list)
    family_history: str = ""
    meds: list[str] = field(default_factory=list)
    va: tuple[str, str] = ("20/20", "20/20")
    iop: tuple[int, int] | None = None
    cup_disc: tuple[str, str] | None = None
    findings: list[tuple[str, str]] = field(default_factory=list)
    dilated: bool = False
    refraction: str = ""
    services: list[Service] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    rationale: str = ""
    wants_specialist: bool = False


@dataclass
class VisitContext:
    """What a scenario needs to know about the patient on the visit date."""

    dos: date
    age: int
    sex: str
    vision_payer: str | None
    index: int
    done: dict[str, date]
