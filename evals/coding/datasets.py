"""The charge-coding gold set: rows of coding_dev.jsonl (and generated sets of the same shape)."""

from pathlib import Path

from pydantic import BaseModel, Field

from agents.coding.batch import NoteRecord
from evals.coding.splits import SPLITS

DEFAULT_DATASET = Path(__file__).resolve().parent.parent / "datasets" / "coding_dev.jsonl"
Split = str  # one of evals.coding.splits.SPLITS


class GoldLine(BaseModel):
    code: str
    modifiers: list[str] = Field(default_factory=list)
    units: int = 1
    diagnosis_codes: list[str] = Field(default_factory=list)


class GoldCharge(BaseModel):
    diagnoses: list[str] = Field(default_factory=list)
    lines: list[GoldLine] = Field(default_factory=list)


class GoldRow(NoteRecord):
    """A note record with the charge a careful coder would post."""

    split: str = "tune"
    family: str = "other"
    style: str = ""
    traps: list[str] = Field(default_factory=list)
    gold: GoldCharge
    rationale: str = ""


def load_rows(path: Path = DEFAULT_DATASET, split: Split = "holdout") -> list[GoldRow]:
    """The rows of one split ("all": every row, whatever its split), in file order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")
    rows = [
        GoldRow.model_validate_json(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return rows if split == "all" else [row for row in rows if row.split == split]
