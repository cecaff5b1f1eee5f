"""ICD-10-CM look-ups over the `simple_icd_10_cm` package (CDC tabular); laterality read from the words."""

import re
from functools import cache
from types import ModuleType
from typing import Literal

Laterality = Literal["right", "left", "bilateral", "unspecified"]

_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")
_BILATERAL = re.compile(r"\bbilateral\b")
_RIGHT = re.compile(r"\bright\b")
_LEFT = re.compile(r"\bleft\b")
_UNSPECIFIED_SIDE = re.compile(r"\bunspecified (?:eye|side|eyes|lacrimal|eyelid|orbit|ear)\b")


@cache
def _icd() -> ModuleType:
    # The package parses its XML on import (~2.5 s): load it only when a code is first looked up.
    import simple_icd_10_cm

    return simple_icd_10_cm


def normalize_icd10(code: str) -> str:
    """Canonical form with the dot after the category: "h401131" / " H40.1131 " -> "H40.1131"."""
    compact = code.strip().upper().replace(".", "").replace(" ", "")
    return compact if len(compact) <= 3 else f"{compact[:3]}.{compact[3:]}"


def _valid(code: str) -> str | None:
    """The normalized code when it is a code (not a block or chapter) in the classification."""
    normalized = normalize_icd10(code)
    if not _CODE_SHAPE.match(normalized.replace(".", "")):
        return None
    return normalized if _icd().is_valid_item(normalized) else None


def icd10_exists(code: str) -> bool:
    """Any category, subcategory or code of the classification (billable or not)."""
    return _valid(code) is not None


def icd10_billable(code: str) -> bool:
    """A leaf: full specificity, including the 7th character and X placeholders where required."""
    normalized = _valid(code)
    return normalized is not None and bool(_icd().is_leaf(normalized))


def icd10_description(code: str) -> str | None:
    normalized = _valid(code)
    return _icd().get_description(normalized) if normalized else None


def icd10_unspecified(code: str) -> bool:
    """The code's title leaves something unspecified (the type, the eye, the stage)."""
    return "unspecified" in (icd10_description(code) or "").lower()


def icd10_parent(code: str) -> str | None:
    """The enclosing code (category or subcategory); None at a category, whose parent is a block."""
    normalized = _valid(code)
    if normalized is None:
        return None
    parent = _icd().get_parent(normalized)
    return parent if parent and _icd().is_category_or_subcategory(parent) else None


def icd10_children(code: str) -> list[str]:
    normalized = _valid(code)
    return list(_icd().get_children(normalized)) if normalized else []


def icd10_family(code: str) -> str:
    """The 3-character category, e.g. "H40" for "H40.1131"."""
    return normalize_icd10(code)[:3]


def _lineage(normalized: str) -> list[str]:
    """The code and its code ancestors, nearest first (blocks and chapters left out)."""
    lineage = [normalized]
    parent = icd10_parent(normalized)
    while parent is not None:
        lineage.append(parent)
        parent = icd10_parent(parent)
    return lineage


def icd10_seventh_characters(code: str) -> dict[str, str]:
    """The 7th-character values defined for this code's subcategory or category (empty when none apply)."""
    normalized = _valid(code)
    if normalized is None:
        return {}
    for ancestor in _lineage(normalized):
        definitions = _icd().get_seven_chr_def(ancestor)
        if definitions:
            return dict(definitions)
    return {}


def icd10_excludes1(code: str) -> list[str]:
    """Excludes1 notes that apply to the code: its own and those inherited from its parents."""
    normalized = _valid(code)
    if normalized is None:
        return []
    notes: list[str] = []
    for ancestor in _lineage(normalized):
        notes.extend(note for note in _icd().get_excludes1(ancestor) if note not in notes)
    return notes


def _laterality_in(description: str) -> Laterality | None:
    text = description.lower()
    if _BILATERAL.search(text):
        return "bilateral"
    right, left = bool(_RIGHT.search(text)), bool(_LEFT.search(text))
    if right and left:
        return "bilateral"
    if right:
        return "right"
    if left:
        return "left"
    if _UNSPECIFIED_SIDE.search(text):
        return "unspecified"
    return None


def icd10_laterality(code: str) -> Laterality | None:
    """Side carried by the code's own words (None = the code has no laterality axis).

    Eyelid codes read the same way ("right upper eyelid" -> right). A 7th-character code whose own
    text omits the side takes it from the 6-character code it extends (H40.1131 <- H40.113).
    """
    normalized = _valid(code)
    if normalized is None:
        return None
    found = _laterality_in(_icd().get_description(normalized))
    if found is None and _icd().is_extended_subcategory(normalized):
        parent = icd10_parent(normalized)
        if parent is not None:
            found = _laterality_in(_icd().get_description(parent))
    return found
