"""Our eye-care CPT/HCPCS catalog (knowledge/data/procedures.yaml): self-written labels and billing traits."""

import re
from functools import cache
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from knowledge.data import read_yaml

if TYPE_CHECKING:
    from knowledge.rules.fees import PfsTables

ProcedureFamily = Literal[
    "eye_exam",
    "em",
    "refraction",
    "testing",
    "contact_lens",
    "spectacle",
    "procedure",
    "materials",
    "vision_plan",
    "screening",
    "quality",
]
ProcedureLaterality = Literal[
    "per_visit",
    "both_eyes_one_unit",
    "unilateral",
    "either_one_unit",
    "per_punctum",
    "per_lens",
    "per_eyelid",
    "none",
]

# CPT Category I (5 digits), Category II (4 digits + F), Category III (4 digits + T), HCPCS Level II.
_PROCEDURE_CODE = re.compile(r"^(?:\d{5}|\d{4}[FTU]|[A-V]\d{4})$")


class ProcedureInfo(BaseModel):
    code: str
    label: str = Field(description="Short self-written label, never AMA descriptor text")
    family: ProcedureFamily
    laterality: ProcedureLaterality
    laterality_modifiers: list[str] = Field(default_factory=list)
    bilateral_indicator: int | None = Field(None, description="MPFS BILAT SURG 0/1/2/3 where known")
    global_days: str = "XXX"
    pctc: bool = False
    mppr: bool = False
    patient_status: Literal["new", "established"] | None = None
    is_visit: bool = False
    is_minor_procedure: bool = False
    medicare_covered: bool = False
    medicare_note: str = ""
    frequency: str | None = None
    sources: list[str] = Field(default_factory=list)


@cache
def _catalog() -> dict[str, ProcedureInfo]:
    data = read_yaml("procedures.yaml")
    defaults: dict[str, dict] = data["defaults"]
    catalog: dict[str, ProcedureInfo] = {}
    for entry in data["procedures"]:
        merged = {**defaults.get(entry["family"], {}), **entry}
        merged["code"] = str(merged["code"])
        merged["global_days"] = str(merged.get("global_days", "XXX"))
        # Minor procedures (0- or 10-day global) put a same-day E/M behind modifier 25.
        merged["is_minor_procedure"] = merged["global_days"] in {"000", "010"}
        catalog[merged["code"]] = ProcedureInfo(**merged)
    return catalog


def normalize_procedure(code: str) -> str:
    return code.strip().upper()


def get_procedure(code: str) -> ProcedureInfo | None:
    return _catalog().get(normalize_procedure(code))


def all_procedures() -> list[ProcedureInfo]:
    return list(_catalog().values())


def is_known_procedure(code: str, pfs: "PfsTables | None" = None) -> bool:
    """In our catalog, or a well-formed CPT/HCPCS code that an imported fee schedule lists."""
    normalized = normalize_procedure(code)
    if normalized in _catalog():
        return True
    return (
        bool(_PROCEDURE_CODE.match(normalized)) and pfs is not None and pfs.indicators(normalized) is not None
    )
