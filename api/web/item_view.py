"""What the item page shows for a charge_coding review: code rows, findings per line, the highlighted note."""

from typing import Any

from pydantic import BaseModel, Field

from agents.coding.schemas import CodeSuggestion, Evidence
from api.web.edit_form import SLOT_LETTERS, EditedCharge, EditedLine
from api.web.editing import pointer_letters
from api.web.evidence import EvidenceSpan, NoteSegment, highlight_segments
from billing.findings import Finding, Severity
from graphs.charge_coding import MAX_DIAGNOSES, Coding
from knowledge.codes.icd10 import icd10_description
from knowledge.codes.procedures import get_procedure

BLANK_DIAGNOSIS_SLOTS = 2
BLANK_LINES = 1
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class CodeRow(BaseModel):
    code: str
    description: str = ""
    letter: str = ""
    modifiers: list[str] = Field(default_factory=list)
    units: int = 1
    pointers: str = ""
    confidence: float | None = None
    rationale: str = ""
    evidence: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)

    @property
    def worst(self) -> str:
        return min((f.severity for f in self.findings), key=SEVERITY_ORDER.__getitem__, default="")


class ChargeItemView(BaseModel):
    diagnoses: list[CodeRow]
    lines: list[CodeRow]
    findings: list[Finding]
    segments: list[NoteSegment]
    edit: EditedCharge
    rationale: list[str] = Field(default_factory=list)
    engine: str = ""


def _spans(evidence: list[Evidence]) -> list[EvidenceSpan]:
    return [EvidenceSpan(start=span.start, end=span.end, text=span.text) for span in evidence]


def suggested_edit(coding: Coding) -> EditedCharge:
    """The edit form filled with the suggestion, plus blank slots for a diagnosis or line to add."""
    slots = min(MAX_DIAGNOSES, len(coding.diagnosis_codes) + BLANK_DIAGNOSIS_SLOTS)
    diagnoses = [*coding.diagnosis_codes, *[""] * (slots - len(coding.diagnosis_codes))]
    lines = [
        EditedLine(
            code=line.code,
            modifiers=" ".join(line.modifiers),
            units=str(line.units),
            pointers=pointer_letters(coding.diagnosis_codes, line.diagnosis_codes),
        )
        for line in coding.lines
    ]
    return EditedCharge(diagnoses=diagnoses, lines=[*lines, *[EditedLine(units="1")] * BLANK_LINES])


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.lines, f.code))


def charge_item_view(
    payload: dict[str, Any], note: str | None, edit: EditedCharge | None = None
) -> ChargeItemView:
    """The page's rows from the interrupt payload; `note` (from the run's checkpoint) gets its evidence marked."""
    suggestion = CodeSuggestion.model_validate(payload.get("suggestion") or {})
    findings = _ordered([Finding.model_validate(f) for f in payload.get("findings", [])])
    coding = Coding.of(suggestion)
    described = {diagnosis.code: diagnosis for diagnosis in suggestion.diagnoses}
    diagnoses = [
        CodeRow(
            code=code,
            letter=SLOT_LETTERS[index] if index < len(SLOT_LETTERS) else "",
            description=(described[code].description if code in described else "")
            or icd10_description(code)
            or "",
            confidence=described[code].confidence if code in described else None,
            evidence=[span.text for span in described[code].evidence] if code in described else [],
        )
        for index, code in enumerate(coding.diagnosis_codes)
    ]
    lines = []
    for number, line in enumerate(suggestion.lines, start=1):
        procedure = get_procedure(line.code)
        lines.append(
            CodeRow(
                code=line.code,
                description=procedure.label if procedure is not None else "",
                modifiers=line.modifiers,
                units=line.units,
                pointers=pointer_letters(coding.diagnosis_codes, line.diagnosis_codes),
                confidence=line.confidence,
                rationale=line.rationale,
                evidence=[span.text for span in line.evidence],
                findings=[finding for finding in findings if number in finding.lines],
            )
        )
    evidence: dict[str, list[EvidenceSpan]] = {}
    for diagnosis in suggestion.diagnoses:
        evidence.setdefault(diagnosis.code, []).extend(_spans(diagnosis.evidence))
    for line in suggestion.lines:
        evidence.setdefault(line.code, []).extend(_spans(line.evidence))
    return ChargeItemView(
        diagnoses=diagnoses,
        lines=lines,
        findings=findings,
        segments=highlight_segments(note, evidence) if note is not None else [],
        edit=edit or suggested_edit(coding),
        rationale=suggestion.rationale,
        engine=suggestion.engine_version or suggestion.engine,
    )
