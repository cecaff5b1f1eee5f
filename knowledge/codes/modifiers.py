"""Procedure modifiers used in eye care: meanings we paraphrased, kinds, and the laterality and NCCI sets."""

from functools import cache
from typing import Literal

from pydantic import BaseModel

from knowledge.data import read_yaml

ModifierKind = Literal[
    "laterality", "eyelid", "ncci_bypass", "abn", "component", "reduction", "global_surgery", "other"
]

LATERALITY_MODIFIERS = {
    "RT": "right",
    "LT": "left",
    "50": "bilateral",
    "E1": "left",
    "E2": "left",
    "E3": "right",
    "E4": "right",
}
NCCI_BYPASS_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})


class ModifierInfo(BaseModel):
    code: str
    meaning: str
    kind: ModifierKind


@cache
def _modifiers() -> dict[str, ModifierInfo]:
    table = read_yaml("modifiers.yaml")["modifiers"]
    return {str(code): ModifierInfo(code=str(code), **entry) for code, entry in table.items()}


def get_modifier(code: str) -> ModifierInfo | None:
    return _modifiers().get(code.strip().upper())
