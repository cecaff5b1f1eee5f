"""Laterality checks: eye modifiers a code needs or refuses, and diagnoses that name the other eye."""

from billing.findings import Finding, Severity
from knowledge.codes.icd10 import icd10_billable, icd10_children, icd10_exists, icd10_laterality, icd10_parent
from knowledge.codes.modifiers import LATERALITY_MODIFIERS
from knowledge.validation.context import ClaimContext, LineView, dx_label, dx_side, finding, proc_label

ONE_EYE_LATERALITY = frozenset({"unilateral", "per_punctum", "per_eyelid"})
BOTH_EYES_PRICED = frozenset({"both_eyes_one_unit", "either_one_unit", "per_visit"})
SIDE_MODIFIERS = frozenset({"RT", "LT", "50"})
EYELID_MODIFIERS = ("E1", "E2", "E3", "E4")


def lateral_sibling(code: str, side: str) -> str | None:
    """The same diagnosis for the given eye (H40.1191 + right -> H40.1111), when the code set has one."""
    compact = code.replace(".", "")
    node = code
    for _ in range(2):  # the side is the last character, or the one before a 7th-character extension
        parent = icd10_parent(node)
        if parent is None:
            return None
        tail = compact[len(node.replace(".", "")) :]
        for sibling in icd10_children(parent):
            if sibling != node and icd10_laterality(sibling) == side:
                candidate = sibling + tail
                if icd10_exists(candidate) and icd10_billable(candidate):
                    return candidate
        node = parent
    return None


def _allowed_side_modifiers(line: LineView) -> list[str]:
    listed = (
        [m for m in line.procedure.laterality_modifiers if m in LATERALITY_MODIFIERS]
        if line.procedure
        else []
    )
    if listed:
        return listed
    if line.procedure and line.procedure.laterality in ("per_eyelid", "per_punctum"):
        return list(EYELID_MODIFIERS)
    return ["RT", "LT"]


def check_modifiers(ctx: ClaimContext) -> list[Finding]:
    findings: list[Finding] = []
    for line in ctx.lines:
        info = line.procedure
        if info is None:
            continue
        side_modifiers = sorted(SIDE_MODIFIERS.intersection(line.modifiers))
        if info.laterality in ONE_EYE_LATERALITY and line.eye is None:
            allowed = _allowed_side_modifiers(line)
            which = "which eyelid or punctum" if allowed[0].startswith("E") else "which eye"
            findings.append(
                finding(
                    "LATERALITY_MISSING",
                    Severity.ERROR,
                    [line.number],
                    f"Line {line.number}: {proc_label(line)} is paid per eye, so the payer needs a modifier "
                    f"saying {which}; without it the line is denied (CARC 4).",
                    f"Add modifier {' or '.join(allowed)} to line {line.number}"
                    + ("; for both eyes bill two lines, RT and LT." if allowed == ["RT", "LT"] else "."),
                )
            )
        elif info.laterality in BOTH_EYES_PRICED and side_modifiers:
            # The catalog lists the side modifiers a both-eyes code still takes (92136-26-RT, second eye);
            # a one-eye reduced service (52) may name its eye.
            refused = [m for m in side_modifiers if m not in info.laterality_modifiers]
            one_eye_reduced = (
                info.laterality == "both_eyes_one_unit" and line.has("52") and "50" not in side_modifiers
            )
            if refused and not one_eye_reduced:
                findings.append(
                    finding(
                        "LATERALITY_NOT_ALLOWED",
                        Severity.ERROR,
                        [line.number],
                        f"Line {line.number}: {proc_label(line)} is priced for both eyes in one unit, so "
                        f"{'/'.join(refused)} does not belong on it (payers deny it or pay it twice "
                        "and take it back).",
                        f"Remove {'/'.join(refused)} from line {line.number} and bill 1 unit.",
                    )
                )
        elif "50" in side_modifiers and info.bilateral_indicator not in (None, 1):
            findings.append(
                finding(
                    "LATERALITY_NOT_ALLOWED",
                    Severity.ERROR,
                    [line.number],
                    f"Line {line.number}: modifier 50 (bilateral) is not allowed on {line.code}: the fee "
                    "schedule does not pay it as a bilateral procedure.",
                    f"Bill {line.code} on two lines, one with RT and one with LT, instead of 50 on line "
                    f"{line.number}.",
                )
            )
    return findings


def check_diagnosis_sides(ctx: ClaimContext) -> list[Finding]:
    findings: list[Finding] = []
    for line in ctx.lines:
        eye = line.eye
        if eye is None:
            continue
        for code in ctx.known_dx(line):
            side = dx_side(code)
            if eye in ("right", "left") and side in ("right", "left") and side != eye:
                other = lateral_sibling(code, eye)
                modifier = next(
                    (m for m in line.modifiers if LATERALITY_MODIFIERS.get(m) == eye), "the eye modifier"
                )
                link = f"link {other} ({eye} eye) instead" if other else f"link the {eye}-eye diagnosis"
                findings.append(
                    finding(
                        "LATERALITY_MISMATCH",
                        Severity.ERROR,
                        [line.number],
                        f"Line {line.number}: {line.code} is billed for the {eye} eye ({modifier}) but is "
                        f"linked to {dx_label(code)}, a {side}-eye diagnosis.",
                        f"Check the chart: if the {side} eye was treated, change {modifier} on line "
                        f"{line.number}; otherwise {link}.",
                    )
                )
            elif side == "unspecified":
                target = "right" if eye == "right" else "left" if eye == "left" else "bilateral"
                better = lateral_sibling(code, target)
                findings.append(
                    finding(
                        "LATERALITY_UNSPECIFIED_DX",
                        Severity.WARNING,
                        [line.number],
                        f"Line {line.number}: the modifiers say the {eye} eye, but {dx_label(code)} is "
                        "coded for an unspecified eye; many payers deny unspecified-eye codes from eye "
                        "doctors.",
                        f"Replace {code} with "
                        + (f"{better} ({target})" if better else f"the {target}-eye code")
                        + f" on line {line.number}.",
                    )
                )
    return findings
