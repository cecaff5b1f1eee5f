"""Code tools: CPT/HCPCS and ICD-10-CM look-ups, modifiers, NCCI pairs and MUEs, LCD coverage, validation."""

from datetime import date

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from billing.claim_input import ClaimInput, ClaimInputLine, ClaimPatient, ClaimPayer
from billing.practice import PlanKind
from knowledge.codes.icd10 import icd10_billable, icd10_description, icd10_exists, normalize_icd10
from knowledge.codes.modifiers import get_modifier
from knowledge.codes.procedures import get_procedure, normalize_procedure
from knowledge.rules.coverage import coverage_rules_for
from knowledge.validation.engine import validate
from tools.chat.base import chat_tool
from tools.chat.context import ToolContext
from tools.chat.results import Source, ToolResult


class CodeRef(BaseModel):
    code: str = Field(description="a CPT/HCPCS code (92134) or an ICD-10-CM code (H40.1131)")


class CodePair(BaseModel):
    code_a: str = Field(description="first CPT/HCPCS code")
    code_b: str = Field(description="second CPT/HCPCS code, billed the same day")
    on: date | None = Field(None, description="date of service; today when omitted")


class ModifierRef(BaseModel):
    modifier: str = Field(description="a modifier, e.g. RT, 59, GY, 25")


class DiagnosisSearch(BaseModel):
    text: str = Field(description="a condition in words, e.g. 'primary open-angle glaucoma right eye, mild'")


class CoverageQuestion(BaseModel):
    code: str = Field(description="CPT/HCPCS code")
    diagnosis_codes: list[str] = Field(
        default_factory=list, description="ICD-10-CM codes to check against the LCD"
    )


class CodesToValidate(BaseModel):
    procedure_codes: list[str] = Field(description="CPT/HCPCS codes, optionally with modifiers as 92083-RT")
    diagnosis_codes: list[str] = Field(
        default_factory=list, description="ICD-10-CM codes every line points to"
    )
    payer_kind: PlanKind = Field(
        PlanKind.MEDICARE, description="medicare, medicaid, commercial, medicare_advantage, vision"
    )
    patient_age: int = Field(70, ge=0, le=120)
    established: bool = True
    on: date | None = None


def lookup_code(ctx: ToolContext, args: CodeRef) -> ToolResult:
    raw = args.code.strip().upper()
    procedure = get_procedure(normalize_procedure(raw))
    if procedure is not None:
        return ToolResult(
            tool="lookup_code",
            facts={
                "kind": "procedure",
                "code": procedure.code,
                "label": procedure.label,
                "family": procedure.family,
                "laterality": procedure.laterality.replace("_", " "),
                "laterality_modifiers": procedure.laterality_modifiers,
                "global_days": procedure.global_days,
                "medicare_covered": procedure.medicare_covered,
                "medicare_note": procedure.medicare_note,
                "frequency": procedure.frequency,
            },
            sources=[Source(kind="code", id=procedure.code, label="procedures.yaml")],
        )
    if icd10_exists(raw):
        code = normalize_icd10(raw)
        return ToolResult(
            tool="lookup_code",
            facts={
                "kind": "diagnosis",
                "code": code,
                "description": icd10_description(code) or "",
                "billable": icd10_billable(code),
            },
            sources=[Source(kind="code", id=code, label="ICD-10-CM")],
        )
    return ToolResult(tool="lookup_code", status="not_found", message=f"{raw} is not a code I know.")


def ncci_check(ctx: ToolContext, args: CodePair) -> ToolResult:
    on = args.on or ctx.today()
    a, b = normalize_procedure(args.code_a), normalize_procedure(args.code_b)
    tables = ctx.knowledge().ncci
    edit = tables.ptp(a, b, on)
    facts: dict = {
        "code_a": a,
        "code_b": b,
        "on": on.isoformat(),
        "edit": edit is not None,
        "source": tables.source,
    }
    if edit is not None:
        facts |= {
            "column_1": edit.column_1,
            "column_2": edit.column_2,
            "modifier_indicator": edit.modifier_indicator,
            "modifier_allowed": edit.modifier_indicator == 1,
            "rationale": edit.rationale,
        }
    return ToolResult(
        tool="ncci_check",
        facts=facts,
        sources=[
            Source(kind="ncci", id=f"{a}/{b}", label=f"NCCI PTP ({edit.source if edit else tables.source})")
        ],
    )


def mue_check(ctx: ToolContext, args: CodeRef) -> ToolResult:
    code = normalize_procedure(args.code)
    limit = ctx.knowledge().ncci.mue(code, ctx.today())
    if limit is None:
        return ToolResult(
            tool="mue_check",
            status="not_found",
            message=f"No MUE is on file for {code}.",
            facts={"code": code},
        )
    return ToolResult(
        tool="mue_check",
        facts={"code": code, "units": limit.units, "mai": limit.mai, "rationale": limit.rationale},
        sources=[Source(kind="ncci", id=code, label=f"NCCI MUE ({limit.source})")],
    )


def modifier_info(ctx: ToolContext, args: ModifierRef) -> ToolResult:
    found = get_modifier(args.modifier)
    if found is None:
        return ToolResult(
            tool="modifier_info",
            status="not_found",
            message=f"Modifier {args.modifier.upper()} is not in our list.",
        )
    return ToolResult(
        tool="modifier_info",
        facts={"modifier": found.code, "meaning": found.meaning, "kind": found.kind.replace("_", " ")},
        sources=[Source(kind="code", id=found.code, label="modifiers.yaml")],
    )


def search_diagnosis(ctx: ToolContext, args: DiagnosisSearch) -> ToolResult:
    client = ctx.chroma()
    if client is None:
        return ToolResult(
            tool="search_diagnosis", status="unavailable", message="The ICD-10-CM index is not open here."
        )
    from knowledge.vectorstore import search_icd10

    hits = search_icd10(client, args.text, k=5)
    if not hits:
        return ToolResult(
            tool="search_diagnosis",
            status="unavailable",
            message="The ICD-10-CM index is empty; build it with `fovea knowledge index` first.",
        )
    return ToolResult(
        tool="search_diagnosis",
        facts={"query": args.text, "codes": [{"code": h.code, "description": h.description} for h in hits]},
        sources=[Source(kind="code", id=h.code, label="icd10_index") for h in hits],
    )


def coverage_rule(ctx: ToolContext, args: CoverageQuestion) -> ToolResult:
    code = normalize_procedure(args.code)
    rules = coverage_rules_for(code, ctx.today())
    if not rules:
        return ToolResult(
            tool="coverage_rule",
            status="not_found",
            message=f"No LCD coverage rule is on file for {code}; check the payer's policy.",
            facts={"code": code},
        )
    rule = rules[0]
    checked = [{"code": dx, "covered": rule.covers_dx(dx)} for dx in args.diagnosis_codes]
    return ToolResult(
        tool="coverage_rule",
        facts={
            "code": code,
            "rule_id": rule.id,
            "covered_dx": rule.covered_dx[:12],
            "frequency": f"{rule.frequency_count} per {rule.frequency_days} days"
            if rule.frequency_count and rule.frequency_days
            else (f"{rule.frequency_count} per lifetime" if rule.frequency_count else ""),
            "lcd": rule.lcd,
            "checked": checked,
            "note": rule.note,
        },
        sources=[Source(kind="rule", id=rule.id, label=", ".join(rule.lcd) or rule.source)],
    )


def _line(code: str, diagnoses: list[str]) -> ClaimInputLine:
    base, *modifiers = code.strip().upper().split("-")
    return ClaimInputLine(code=base, modifiers=modifiers, diagnosis_codes=diagnoses)


def validate_codes(ctx: ToolContext, args: CodesToValidate) -> ToolResult:
    claim = ClaimInput(
        date_of_service=args.on or ctx.today(),
        patient=ClaimPatient(age=args.patient_age, sex="U"),
        payer=ClaimPayer(kind=args.payer_kind),
        established=args.established,
        lines=[_line(code, args.diagnosis_codes) for code in args.procedure_codes],
    )
    findings = validate(claim, ctx.knowledge())
    return ToolResult(
        tool="validate_codes",
        facts={
            "procedure_codes": [line.code + "".join(f"-{m}" for m in line.modifiers) for line in claim.lines],
            "diagnosis_codes": args.diagnosis_codes,
            "payer_kind": args.payer_kind.value,
            "clean": not any(f.severity.value == "error" for f in findings),
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity.value,
                    "lines": f.lines,
                    "message": f.message,
                    "fix": f.fix,
                }
                for f in findings
            ],
        },
        sources=[Source(kind="rule", id=f.code, label=f.source or f.code) for f in findings[:8]],
    )


def code_tools(ctx: ToolContext) -> list[BaseTool]:
    return [
        chat_tool(
            ctx,
            name="lookup_code",
            description="What a CPT/HCPCS or ICD-10-CM code is, with billing traits.",
            args_schema=CodeRef,
            run=lookup_code,
        ),
        chat_tool(
            ctx,
            name="ncci_check",
            description="Whether two procedure codes form an NCCI pair and if a modifier can unbundle them.",
            args_schema=CodePair,
            run=ncci_check,
        ),
        chat_tool(
            ctx,
            name="mue_check",
            description="The NCCI MUE: most units of a code per day.",
            args_schema=CodeRef,
            run=mue_check,
        ),
        chat_tool(
            ctx,
            name="modifier_info",
            description="What a modifier means and when it is used.",
            args_schema=ModifierRef,
            run=modifier_info,
        ),
        chat_tool(
            ctx,
            name="search_diagnosis",
            description="ICD-10-CM codes for a condition described in words.",
            args_schema=DiagnosisSearch,
            run=search_diagnosis,
        ),
        chat_tool(
            ctx,
            name="coverage_rule",
            description="LCD coverage for a test: covered diagnoses and frequency; optionally check diagnoses.",
            args_schema=CoverageQuestion,
            run=coverage_rule,
        ),
        chat_tool(
            ctx,
            name="validate_codes",
            description="Run the claim checks (NCCI, MUE, laterality, necessity ...) on a set of codes.",
            args_schema=CodesToValidate,
            run=validate_codes,
        ),
    ]
