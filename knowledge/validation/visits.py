"""Visit-code checks: eye code vs E/M, modifier 25 with minor procedures, new vs established, G2211."""

from billing.findings import Finding, Severity
from knowledge.validation.context import ClaimContext, finding, lines_text, procedure_code

NEW_TO_ESTABLISHED = {
    "92002": "92012",
    "92004": "92014",
    "99202": "99212",
    "99203": "99213",
    "99204": "99214",
    "99205": "99215",
    "S0620": "S0621",
}
ESTABLISHED_TO_NEW = {established: new for new, established in NEW_TO_ESTABLISHED.items()}
G2211_BASE_CODES = frozenset({"99202", "99203", "99204", "99205", "99212", "99213", "99214", "99215"})
G2211_BLOCKING_MODIFIERS = ("24", "25", "53")
NEW_PATIENT_WINDOW_DAYS = 3 * 365 + 1  # "within the past three years", counting one leap day


def check_exam_and_em(ctx: ClaimContext) -> list[Finding]:
    exams = [line for line in ctx.lines if line.is_eye_exam]
    ems = [line for line in ctx.lines if line.is_office_em]
    if not exams or not ems:
        return []
    numbers = [line.number for line in exams + ems]
    return [
        finding(
            "EXAM_AND_EM_SAME_DAY",
            Severity.ERROR,
            numbers,
            f"{lines_text(numbers)} bill both an eye exam code ({', '.join(x.code for x in exams)}) and an "
            f"office visit E/M code ({', '.join(x.code for x in ems)}) for the same visit; a visit is billed "
            "with one or the other, never both.",
            f"Keep either {exams[0].code} (line {exams[0].number}) or {ems[0].code} (line {ems[0].number}), "
            "whichever the documentation fully supports, and remove the other.",
        )
    ]


def check_modifier_25(ctx: ClaimContext) -> list[Finding]:
    procedures = [line for line in ctx.lines if line.is_minor_procedure]
    if not procedures:
        return []
    findings: list[Finding] = []
    named = ", ".join(f"{line.code} (line {line.number})" for line in procedures)
    for visit in ctx.lines:
        if not visit.is_visit or visit.has("25"):
            continue
        findings.append(
            finding(
                "EM_MISSING_25",
                Severity.ERROR,
                [visit.number, *(line.number for line in procedures)],
                f"Line {visit.number}: the visit {visit.code} is billed the same day as the minor procedure "
                f"{named}. The exam that leads to a minor procedure is part of the procedure's payment, so "
                "the visit is denied unless modifier 25 marks it as a separate, significant service.",
                "If the visit addressed a separate problem and the note documents it, add modifier 25 to "
                f"line {visit.number}; otherwise remove line {visit.number}.",
            )
        )
    return findings


def _is_professional(code: str) -> bool:
    # Materials (glasses, lenses, frames: V-codes) are not a professional service for the 3-year rule.
    return not procedure_code(code).startswith("V")


def _recent_service(ctx: ClaimContext) -> str | None:
    """The last professional service within 3 years before this date of service, if any."""
    for visit in sorted(ctx.prior_visits(NEW_PATIENT_WINDOW_DAYS), key=lambda v: v.date, reverse=True):
        if any(_is_professional(code) for code in visit.codes):
            return visit.date.isoformat()
    return None


def check_patient_status(ctx: ClaimContext) -> list[Finding]:
    findings: list[Finding] = []
    for line in ctx.lines:
        status = line.procedure.patient_status if line.procedure else None
        if status == "new":
            seen_on = _recent_service(ctx)
            if not (ctx.claim.established or seen_on):
                continue
            why = (
                f"the history shows a service on {seen_on}, within the past 3 years"
                if seen_on
                else "the claim marks the patient as established"
            )
            replacement = NEW_TO_ESTABLISHED.get(line.code)
            findings.append(
                finding(
                    "NEW_PATIENT_ESTABLISHED",
                    Severity.ERROR,
                    [line.number],
                    f"Line {line.number}: {line.code} is a new-patient code, but {why}. A patient seen by "
                    "the same group and specialty in the past 3 years is established (denial CARC B16).",
                    f"Bill the established-patient code {replacement} on line {line.number} instead."
                    if replacement
                    else f"Bill the established-patient code on line {line.number} instead.",
                )
            )
        elif status == "established" and not ctx.claim.established and ctx.dos is not None:
            if _recent_service(ctx):
                continue
            replacement = ESTABLISHED_TO_NEW.get(line.code)
            findings.append(
                finding(
                    "ESTABLISHED_CODE_NEW_PATIENT",
                    Severity.WARNING,
                    [line.number],
                    f"Line {line.number}: {line.code} is an established-patient code, but the claim marks "
                    "the patient as new and the history shows no service in the past 3 years.",
                    f"If the patient is new to the group, bill {replacement or 'a new-patient code'} on "
                    f"line {line.number}; otherwise mark the patient established and add the earlier visit "
                    "to the history.",
                )
            )
    return findings


def check_g2211(ctx: ClaimContext) -> list[Finding]:
    add_ons = [line for line in ctx.lines if line.code == "G2211"]
    if not add_ons:
        return []
    base = [line for line in ctx.lines if line.code in G2211_BASE_CODES]
    exams = [line for line in ctx.lines if line.is_eye_exam or line.code == "99211"]
    with_modifier = [line for line in base if line.has(*G2211_BLOCKING_MODIFIERS)]
    numbers = [line.number for line in add_ons]
    if not base:
        reason = (
            f"it is billed with {', '.join(x.code for x in exams)}, and G2211 is only paid as an add-on to "
            "an office E/M 99202-99205 or 99212-99215 (never with eye exam codes 920xx or 99211)"
            if exams
            else "there is no office E/M (99202-99205, 99212-99215) on the claim for it to add on to"
        )
        fix = f"Remove G2211 from {lines_text(numbers)}; it can be billed only with an office E/M code."
        involved = numbers + [line.number for line in exams]
    elif len(with_modifier) == len(base):
        blocking = sorted({m for x in with_modifier for m in x.modifiers if m in G2211_BLOCKING_MODIFIERS})
        reason = (
            f"the E/M on {lines_text([x.number for x in with_modifier])} carries modifier "
            f"{'/'.join(blocking)}, "
            "and G2211 is not paid when the visit is billed with a same-day procedure (25), in a global "
            "period (24) or discontinued (53)"
        )
        fix = f"Remove G2211 from {lines_text(numbers)}."
        involved = numbers + [line.number for line in with_modifier]
    else:
        return []
    return [
        finding(
            "G2211_NOT_ALLOWED",
            Severity.ERROR,
            involved,
            f"G2211 (visit complexity add-on) on {lines_text(numbers)} will be denied: {reason}.",
            fix,
        )
    ]
