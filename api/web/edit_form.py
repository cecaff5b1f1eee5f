"""The item page's edit form as typed: diagnosis slots A-L and procedure lines with free-text fields."""

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

SLOT_LETTERS = "ABCDEFGHIJKL"
# The claim form's limits (graphs.charge_coding.MAX_DIAGNOSES); kept here so the form needs no graph import.
MAX_DIAGNOSIS_SLOTS = len(SLOT_LETTERS)
MAX_LINES = 50


class EditProblem(ValueError):
    """The edit cannot become a charge as written; the message says which field and how to fix it."""


class EditedLine(BaseModel):
    """One procedure line as typed: modifiers and pointers are free text ("RT, 59", "A B" or "1,2")."""

    code: str = ""
    modifiers: str = ""
    units: str = "1"
    pointers: str = ""


class EditedCharge(BaseModel):
    """The edit form: diagnosis slots (A, B, C ...; blank slots are unused) and the procedure lines."""

    diagnoses: list[str] = Field(default_factory=list, max_length=MAX_DIAGNOSIS_SLOTS)
    lines: list[EditedLine] = Field(default_factory=list, max_length=MAX_LINES)


def edit_from_form(form: Mapping[str, Any], getlist: Any) -> EditedCharge:
    """The edit fields of the item page's form: `dx` repeated, `line-<n>-code|modifiers|units|pointers`."""
    numbers = sorted(
        {int(match.group(1)) for key in form if (match := re.fullmatch(r"line-(\d+)-code", str(key)))}
    )
    return EditedCharge(
        diagnoses=[str(value) for value in getlist("dx")][:MAX_DIAGNOSIS_SLOTS],
        lines=[
            EditedLine(
                code=str(form.get(f"line-{number}-code", "")),
                modifiers=str(form.get(f"line-{number}-modifiers", "")),
                units=str(form.get(f"line-{number}-units", "") or "1"),
                pointers=str(form.get(f"line-{number}-pointers", "")),
            )
            for number in numbers[:MAX_LINES]
        ],
    )
