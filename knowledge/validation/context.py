"""What every check reads: the claim's lines with their codes looked up once, the payer policy, helpers."""

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Literal

from billing.claim_input import ClaimInput, HistoryVisit
from billing.findings import Finding, Severity
from billing.practice import PlanKind
from knowledge.base import KnowledgeBase
from knowledge.codes.icd10 import (
    icd10_billable,
    icd10_description,
    icd10_exists,
    icd10_laterality,
    normalize_icd10,
)
from knowledge.codes.modifiers import LATERALITY_MODIFIERS
from knowledge.codes.procedures import ProcedureInfo, get_procedure
from knowledge.rules.coverage import CoverageRule
from knowledge.rules.policies import PayerPolicy, resolve_policy

# CPT: 5 digits, or 4 digits + F (Category II) / T (Category III) / U (lab); HCPCS: a letter + 4 digits.
PROCEDURE_SHAPE = re.compile(r"^(?:\d{4}[0-9FTU]|[A-Z]\d{4})$")
ICD10_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
MODIFIER_SHAPE = re.compile(r"^[0-9A-Z]{2}$")

EYE_EXAM_CODES = frozenset({"92002", "92004", "92012", "92014"})
OFFICE_EM_CODES = frozenset({"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"})
MEDICAL_KINDS = frozenset(
    {PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE, PlanKind.MEDICAID, PlanKind.COMMERCIAL}
)
LCD_KINDS = frozenset({PlanKind.MEDICARE, PlanKind.MEDICARE_ADVANTAGE})
Eye = Literal["right", "left", "bilateral"]


class DxStatus(StrEnum):
    OK = "ok"
    MALFORMED = "malformed"
    INVALID = "invalid"
    NOT_BILLABLE = "not_billable"


def procedure_code(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def dx_code(raw: str) -> str:
    """The canonical ICD-10-CM spelling when the text has the shape of a code, else the text upper-cased."""
    text = raw.strip().upper()
    compact = text.replace(" ", "")
    return normalize_icd10(compact) if ICD10_SHAPE.match(compact) else text


@dataclass(frozen=True)
class LineView:
    """One claim line as the checks see it (1-based number, normalized codes, catalog entry)."""

    number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    diagnoses: tuple[str, ...]
    procedure: ProcedureInfo | None
    well_formed: bool

    def has(self, *modifiers: str) -> bool:
        return any(modifier in self.modifiers for modifier in modifiers)

    @property
    def eye(self) -> Eye | None:
        """The eye the modifiers name: right, left, bilateral (50, or RT with LT), or None."""
        eyes = {LATERALITY_MODIFIERS[m] for m in self.modifiers if m in LATERALITY_MODIFIERS}
        if "bilateral" in eyes or {"right", "left"} <= eyes:
            return "bilateral"
        return next(iter(eyes), None)

    @property
    def ref(self) -> str:
        return f"line {self.number} ({self.code})"

    @property
    def is_eye_exam(self) -> bool:
        return self.code in EYE_EXAM_CODES

    @property
    def is_office_em(self) -> bool:
        return self.code in OFFICE_EM_CODES

    @property
    def is_visit(self) -> bool:
        return self.is_eye_exam or self.is_office_em

    @property
    def is_minor_procedure(self) -> bool:
        return self.procedure is not None and self.procedure.is_minor_procedure

    @property
    def family(self) -> str:
        return self.procedure.family if self.procedure else ""


@dataclass
class ClaimContext:
    """The claim, its knowledge and the look-ups the checks share (computed once per claim)."""

    claim: ClaimInput
    kb: KnowledgeBase
    lines: tuple[LineView, ...]
    fee_schedule_codes: frozenset[str] | None

    @property
    def dos(self) -> date | None:
        return self.claim.date_of_service

    @property
    def kind(self) -> PlanKind:
        return self.claim.payer.kind

    @cached_property
    def policy(self) -> PayerPolicy | None:
        if self.dos is None:
            return None
        return resolve_policy(self.claim.payer.name, self.claim.payer.kind.value, self.dos)

    @cached_property
    def dx_status(self) -> dict[str, DxStatus]:
        status: dict[str, DxStatus] = {}
        for line in self.lines:
            for code in line.diagnoses:
                if code in status:
                    continue
                if not ICD10_SHAPE.match(code):
                    status[code] = DxStatus.MALFORMED
                elif not icd10_exists(code):
                    status[code] = DxStatus.INVALID
                elif not icd10_billable(code):
                    status[code] = DxStatus.NOT_BILLABLE
                else:
                    status[code] = DxStatus.OK
        return status

    def known_dx(self, line: LineView) -> list[str]:
        """The line's diagnoses that exist in ICD-10-CM (complete or not)."""
        return [c for c in line.diagnoses if self.dx_status[c] in (DxStatus.OK, DxStatus.NOT_BILLABLE)]

    def prior_visits(self, within_days: int | None) -> list[HistoryVisit]:
        """History strictly before the date of service, within the window (None = any time)."""
        if self.dos is None:
            return []
        return [
            visit
            for visit in self.claim.history
            if visit.date < self.dos and (within_days is None or (self.dos - visit.date).days < within_days)
        ]


def build_context(
    claim: ClaimInput, kb: KnowledgeBase, fee_schedule_codes: set[str] | None = None
) -> ClaimContext:
    lines = []
    for number, line in enumerate(claim.lines, start=1):
        code = procedure_code(line.code)
        well_formed = bool(PROCEDURE_SHAPE.match(code))
        lines.append(
            LineView(
                number=number,
                code=code,
                modifiers=tuple(line.modifiers),
                units=line.units,
                diagnoses=tuple(dict.fromkeys(dx_code(c) for c in line.diagnosis_codes if c.strip())),
                procedure=get_procedure(code) if well_formed else None,
                well_formed=well_formed,
            )
        )
    schedule = (
        frozenset(procedure_code(c) for c in fee_schedule_codes) if fee_schedule_codes is not None else None
    )
    return ClaimContext(claim=claim, kb=kb, lines=tuple(lines), fee_schedule_codes=schedule)


def finding(
    code: str, severity: Severity, lines: list[int], message: str, fix: str, source: str = ""
) -> Finding:
    return Finding(
        code=code, severity=severity, lines=sorted(set(lines)), message=message, fix=fix, source=source
    )


def dx_label(code: str, width: int = 60) -> str:
    """ "H40.1131 (primary open-angle glaucoma, right eye, mild stage)", shortened for a message."""
    description = icd10_description(code) if ICD10_SHAPE.match(code) else None
    if not description:
        return code
    text = description[0].lower() + description[1:]
    return f"{code} ({text if len(text) <= width else text[: width - 1].rstrip() + '…'})"


def proc_label(line: LineView) -> str:
    return f"{line.code} ({line.procedure.label})" if line.procedure else line.code


def lines_text(numbers: list[int]) -> str:
    numbers = sorted(set(numbers))
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    return "lines " + ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"


def payer_label(ctx: ClaimContext) -> str:
    """The payer as a biller names it: "Medicare Part B", or the plan kind when the claim gives no name."""
    kinds = {"medicare": "Medicare", "medicare_advantage": "Medicare Advantage", "medicaid": "Medicaid"}
    return ctx.claim.payer.name.strip() or f"this {kinds.get(ctx.kind.value, ctx.kind.value)} plan"


def rule_source(rule: CoverageRule) -> str:
    return f"coverage rule {rule.id}" + (f" (LCD {', '.join(rule.lcd[:3])})" if rule.lcd else "")


def policy_source(policy: PayerPolicy) -> str:
    return f"payer policy {policy.id}"


def dx_side(code: str) -> str | None:
    return icd10_laterality(code) if ICD10_SHAPE.match(code) else None
