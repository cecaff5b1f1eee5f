"""Diagnosis pointers: each line points to the diagnoses that justify it, most relevant first, at most four."""

from dataclasses import dataclass, field

MAX_POINTERS = 4
REFRACTIVE_PREFIX = "H52."
ROUTINE_PREFIX = "Z01.0"


@dataclass
class LinkedDiagnosis:
    """What linking needs to know of a diagnosis."""

    code: str
    group: str
    refractive: bool = False


@dataclass
class DraftLine:
    code: str
    kind: str  # visit | test | refraction | contact_lens | procedure
    modifiers: list[str] = field(default_factory=list)
    units: int = 1
    links: tuple[str, ...] = ()  # diagnosis groups that justify the line
    dx_codes: tuple[str, ...] = ()  # diagnoses the line must point to, when known exactly
    diagnosis_codes: list[str] = field(default_factory=list)
    fallback_link: bool = False  # no justifying diagnosis was found: pointed at the chief one


def link_lines(
    lines: list[DraftLine], diagnoses: list[LinkedDiagnosis], *, routine: bool, vision_plan: bool
) -> None:
    """Set diagnosis_codes on every line, then make sure every diagnosis is pointed to at least once."""
    procedure_dx = {
        code for line in lines if line.kind == "procedure" for code in _procedure_dx(line, diagnoses)
    }
    refraction_billed = any(line.kind == "refraction" for line in lines)
    chief = next((d for d in diagnoses if not d.code.startswith(ROUTINE_PREFIX)), None)
    chief_refractive = chief is not None and (chief.refractive or chief.group == "amblyopia")
    for line in lines:
        if line.kind == "visit":
            chosen = [
                d.code
                for d in diagnoses
                if d.code not in procedure_dx
                and (routine or chief_refractive or not (d.refractive and refraction_billed))
            ]
        elif line.kind == "procedure":
            chosen = _procedure_dx(line, diagnoses)
        elif line.kind == "refraction":
            chosen = [d.code for d in diagnoses if d.refractive]
            if routine and (vision_plan or not chosen):
                chosen = [d.code for d in diagnoses if d.code.startswith(ROUTINE_PREFIX)] + chosen
        else:
            chosen = [d.code for d in diagnoses if d.group in line.links and not d.code.startswith("Z79.")]
            if line.kind == "test":
                chosen += [d.code for d in diagnoses if d.code == "Z79.899" and "hcq" in line.links]
                chosen = [d.code for d in diagnoses if d.code in chosen]
        if not chosen and diagnoses:
            medical = [
                d.code for d in diagnoses if not d.refractive and not d.code.startswith(ROUTINE_PREFIX)
            ]
            chosen = (medical or [d.code for d in diagnoses])[:1]
            line.fallback_link = True
        line.diagnosis_codes = chosen[:MAX_POINTERS]
    _point_to_every_diagnosis(lines, diagnoses)


def _procedure_dx(line: DraftLine, diagnoses: list[LinkedDiagnosis]) -> list[str]:
    if line.dx_codes:
        return [code for code in line.dx_codes if any(d.code == code for d in diagnoses)]
    return [d.code for d in diagnoses if d.group in line.links]


def _point_to_every_diagnosis(lines: list[DraftLine], diagnoses: list[LinkedDiagnosis]) -> None:
    """A diagnosis no line points to goes on the visit line, else on the refraction, else anywhere with room."""
    order = {"visit": 0, "refraction": 1}
    for diagnosis in diagnoses:
        if any(diagnosis.code in line.diagnosis_codes for line in lines):
            continue
        for line in sorted(lines, key=lambda item: order.get(item.kind, 2)):
            if len(line.diagnosis_codes) < MAX_POINTERS and line.kind != "procedure":
                line.diagnosis_codes.append(diagnosis.code)
                rank = {d.code: i for i, d in enumerate(diagnoses)}
                line.diagnosis_codes.sort(key=lambda code: rank.get(code, len(rank)))
                break
