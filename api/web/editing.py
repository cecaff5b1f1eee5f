"""A reviewer's edit (api.web.edit_form) read into the Coding the charge_coding graph resumes with."""

import re
from collections.abc import Sequence

from api.web.edit_form import SLOT_LETTERS, EditedCharge, EditProblem
from graphs.charge_coding import MAX_DIAGNOSES, MAX_POINTERS, CodedLine, Coding
from knowledge.codes.icd10 import normalize_icd10

MAX_UNITS = 999
_SEPARATORS = re.compile(r"[\s,;/-]+")


def _slots(diagnoses: Sequence[str]) -> dict[int, str]:
    """Filled diagnosis slots by position (0 = A), codes normalized (h401131 -> H40.1131)."""
    return {index: normalize_icd10(code) for index, code in enumerate(diagnoses) if code.strip()}


def _pointer_slots(text: str, line_number: int) -> list[int]:
    slots: list[int] = []
    for token in _SEPARATORS.split(text.strip().upper()):
        if not token:
            continue
        if token.isdigit():
            slots.append(int(token) - 1)
        elif all(letter in SLOT_LETTERS for letter in token):
            slots.extend(SLOT_LETTERS.index(letter) for letter in token)
        else:
            raise EditProblem(
                f"Line {line_number}: the pointer '{token}' is not a diagnosis letter (A-L) or number (1-12)."
            )
    return list(dict.fromkeys(slots))


def coding_from_edit(edit: EditedCharge) -> Coding:
    """The Coding the edit describes; EditProblem when a field cannot be read or points nowhere."""
    slots = _slots(edit.diagnoses)
    lines: list[CodedLine] = []
    for number, line in enumerate(edit.lines, start=1):
        code = line.code.strip().upper()
        if not code:
            continue  # a blank code removes the line
        modifiers = [m for m in _SEPARATORS.split(line.modifiers.strip().upper()) if m]
        if len(modifiers) > 4:
            raise EditProblem(f"Line {number} ({code}): at most 4 modifiers fit on a claim line.")
        units_text = line.units.strip() or "1"
        if not units_text.isdigit() or not 1 <= int(units_text) <= MAX_UNITS:
            raise EditProblem(f"Line {number} ({code}): units must be a whole number from 1 to {MAX_UNITS}.")
        pointers = _pointer_slots(line.pointers, number)
        missing = [slot for slot in pointers if slot not in slots]
        if missing:
            names = ", ".join(
                SLOT_LETTERS[slot] if 0 <= slot < MAX_DIAGNOSES else str(slot + 1) for slot in missing
            )
            raise EditProblem(f"Line {number} ({code}) points to {names}, which holds no diagnosis.")
        if len(pointers) > MAX_POINTERS:
            raise EditProblem(
                f"Line {number} ({code}): a claim line points to at most {MAX_POINTERS} diagnoses."
            )
        lines.append(
            CodedLine(
                code=code,
                modifiers=modifiers,
                units=int(units_text),
                diagnosis_codes=[slots[slot] for slot in pointers],
            )
        )
    if not lines:
        raise EditProblem("The edit has no procedure lines; reject the item instead if nothing is billable.")
    return Coding(diagnosis_codes=list(dict.fromkeys(slots.values())), lines=lines)


def pointer_letters(diagnosis_codes: Sequence[str], line_diagnoses: Sequence[str]) -> str:
    """How a line's diagnoses read as slot letters ("A B"), for the form and the code table."""
    return " ".join(
        SLOT_LETTERS[diagnosis_codes.index(code)]
        for code in line_diagnoses
        if code in diagnosis_codes and diagnosis_codes.index(code) < len(SLOT_LETTERS)
    )
