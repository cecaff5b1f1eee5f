"""Clinical facts an appeal may state, each tied to the exact note span that supports it (offline note readers)."""

from typing import Literal

from pydantic import BaseModel, Field

from agents.coding.diagnoses import find_diagnoses
from agents.coding.schemas import Evidence
from agents.coding.sections import ParsedNote, SectionKind, parse_note
from agents.coding.services import find_services
from knowledge.codes.procedures import get_procedure

FactKind = Literal["complaint", "history", "finding", "diagnosis", "service", "plan"]
MAX_CLAUSES = {"complaint": 1, "history": 3, "finding": 4, "plan": 3}
SECTION_FACTS: dict[SectionKind, FactKind] = {
    SectionKind.COMPLAINT: "complaint",
    SectionKind.HISTORY: "history",
    SectionKind.TESTS: "finding",
    SectionKind.PLAN: "plan",
}
MIN_CLAUSE_CHARS = 4
VISIT_PREFIXES = ("920", "992")


class ClinicalFact(BaseModel):
    """One statement the letter may make; `evidence` is the note span that says it (offsets into the note)."""

    kind: FactKind
    statement: str = Field(description="what the letter says, in our words or the note's")
    code: str = Field("", description="the ICD-10-CM or CPT code the fact supports, when there is one")
    evidence: Evidence


class DocumentationSignals(BaseModel):
    """Whether the note supports the denied line: the service itself and the diagnoses billed with it."""

    service_documented: bool
    diagnosis_documented: bool
    facts: int


def _evidence(note: ParsedNote, start: int, end: int) -> Evidence:
    return Evidence(text=note.text[start:end], start=start, end=end)


def _section_facts(note: ParsedNote) -> list[ClinicalFact]:
    facts: list[ClinicalFact] = []
    taken: dict[str, int] = {}
    for clause in note.sentences:
        kind = SECTION_FACTS.get(clause.section)
        if kind is None or taken.get(kind, 0) >= MAX_CLAUSES[kind]:
            continue
        text = note.span(clause).strip()
        if len(text) < MIN_CLAUSE_CHARS:
            continue
        taken[kind] = taken.get(kind, 0) + 1
        facts.append(
            ClinicalFact(kind=kind, statement=text, evidence=_evidence(note, clause.start, clause.end))
        )
    return facts


def _service_label(code: str) -> str:
    info = get_procedure(code)
    return f"{info.label} ({code})" if info else code


def clinical_facts(note_text: str) -> list[ClinicalFact]:
    """The complaint, history, test findings, diagnoses, services performed and plan the note documents."""
    note = parse_note(note_text)
    diagnoses = find_diagnoses(note)
    facts = _section_facts(note)
    for diagnosis in diagnoses:
        for start, end in diagnosis.evidence[:1]:
            label = " ".join((diagnosis.description or diagnosis.code).split())
            facts.append(
                ClinicalFact(
                    kind="diagnosis",
                    statement=f"{label} ({diagnosis.code})",
                    code=diagnosis.code,
                    evidence=_evidence(note, start, end),
                )
            )
    for service in find_services(note, diagnoses, []):
        for start, end in service.evidence[:1]:
            facts.append(
                ClinicalFact(
                    kind="service",
                    statement=f"{_service_label(service.code)} performed",
                    code=service.code,
                    evidence=_evidence(note, start, end),
                )
            )
    return facts


def grounded(fact: ClinicalFact, note_text: str) -> bool:
    """The fact's evidence is exactly the note's text at its offsets."""
    span = fact.evidence
    return 0 <= span.start < span.end <= len(note_text) and note_text[span.start : span.end] == span.text


def documentation_signals(
    facts: list[ClinicalFact], code: str, diagnosis_codes: list[str]
) -> DocumentationSignals:
    """A visit code counts as documented when the note has an assessment with a diagnosis; a test or
    procedure when the note says it was performed; a billed diagnosis when the note documents its category."""
    services = {fact.code for fact in facts if fact.kind == "service"}
    diagnoses = {fact.code for fact in facts if fact.kind == "diagnosis"}
    service_documented = bool(diagnoses) if code.startswith(VISIT_PREFIXES) else code in services
    categories = {dx.replace(".", "")[:3] for dx in diagnoses}
    diagnosis_documented = any(dx.replace(".", "")[:3] in categories for dx in diagnosis_codes)
    return DocumentationSignals(
        service_documented=service_documented, diagnosis_documented=diagnosis_documented, facts=len(facts)
    )
