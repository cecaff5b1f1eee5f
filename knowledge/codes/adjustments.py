"""Remittance adjustment codes (CARC, RARC, group codes) with their dates, and our denial-category map."""

import csv
import json
import os
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from billing.settings import Settings, get_settings
from knowledge.data import read_yaml
from knowledge.official_files import knowledge_store, parse_cms_date, table_files

ADJUSTMENTS_FILE = "adjustment_codes.json"
AdjustmentKind = Literal["CARC", "RARC", "group"]


class DenialCategory(StrEnum):
    CODING = "coding"
    BUNDLING = "bundling"
    MODIFIER = "modifier"
    MEDICAL_NECESSITY = "medical_necessity"
    ELIGIBILITY = "eligibility"
    AUTHORIZATION = "authorization"
    TIMELY_FILING = "timely_filing"
    DUPLICATE = "duplicate"
    COB = "cob"
    PATIENT_RESPONSIBILITY = "patient_responsibility"
    CONTRACTUAL = "contractual"
    NON_COVERED = "non_covered"
    OTHER = "other"


class AdjustmentCode(BaseModel):
    code: str
    kind: AdjustmentKind
    description: str
    start: date | None = None
    end: date | None = None

    def in_force(self, on: date) -> bool:
        """Usable on that date: on or after its start and before its deactivation."""
        return (self.start is None or self.start <= on) and (self.end is None or on < self.end)


def _normalize(code: str) -> str:
    """ "co-45" -> "45"; " n115 " -> "N115" (a group prefix is dropped)."""
    value = code.strip().upper()
    return value.split("-", 1)[1] if "-" in value else value


@cache
def _curated() -> dict[AdjustmentKind, dict[str, AdjustmentCode]]:
    data = read_yaml("carc_categories.yaml")
    return {
        "group": {
            code: AdjustmentCode(code=code, kind="group", description=text)
            for code, text in data["groups"].items()
        },
        "CARC": {
            str(code): AdjustmentCode(code=str(code), kind="CARC", description=entry["description"])
            for code, entry in data["carc"].items()
        },
        "RARC": {
            str(code): AdjustmentCode(code=str(code), kind="RARC", description=entry["description"])
            for code, entry in data["rarc"].items()
        },
    }


@cache
def _imported(path: Path, modified: float) -> dict[AdjustmentKind, dict[str, AdjustmentCode]]:
    """The persisted import; keyed by file time so a re-import is picked up without a restart."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        kind: {code: AdjustmentCode.model_validate(entry) for code, entry in codes.items()}
        for kind, codes in raw.items()
    }


def _table(settings: Settings | None) -> dict[AdjustmentKind, dict[str, AdjustmentCode]]:
    settings = settings or get_settings()
    stored = knowledge_store(settings) / ADJUSTMENTS_FILE
    if not stored.exists() and settings.codes_dir is not None:
        import_adjustment_codes(settings.codes_dir, knowledge_store(settings))
    if stored.exists():
        return _imported(stored, stored.stat().st_mtime)
    return _curated()


def _lookup(
    kind: AdjustmentKind, code: str, on: date | None, settings: Settings | None
) -> AdjustmentCode | None:
    found = _table(settings)[kind].get(_normalize(code))
    if found is None or (on is not None and not found.in_force(on)):
        return None
    return found


def carc(code: str, on: date | None = None, *, settings: Settings | None = None) -> AdjustmentCode | None:
    """The CARC (imported official text and dates, else our short text); None if unknown or not in force."""
    return _lookup("CARC", code, on, settings)


def rarc(code: str, on: date | None = None, *, settings: Settings | None = None) -> AdjustmentCode | None:
    return _lookup("RARC", code, on, settings)


@cache
def _categories() -> tuple[dict[str, tuple[DenialCategory, bool]], dict[str, DenialCategory]]:
    data = read_yaml("carc_categories.yaml")
    carcs = {
        str(code): (DenialCategory(entry["category"]), bool(entry.get("refined_by_rarc", False)))
        for code, entry in data["carc"].items()
    }
    rarcs = {str(code): DenialCategory(entry["category"]) for code, entry in data["rarc"].items()}
    return carcs, rarcs


def categorize_denial(group: str, carc: str, rarcs: list[str] = ()) -> DenialCategory:
    """Our category for an adjustment: by CARC, sharpened by the RARCs when the CARC is generic."""
    carc_map, rarc_map = _categories()
    rarc_categories = [
        rarc_map[code]
        for code in (_normalize(r) for r in rarcs)
        if code in rarc_map and rarc_map[code] is not DenialCategory.OTHER
    ]
    known = carc_map.get(_normalize(carc))
    if known is not None:
        category, refined_by_rarc = known
        return rarc_categories[0] if refined_by_rarc and rarc_categories else category
    if rarc_categories:
        return rarc_categories[0]
    return DenialCategory.PATIENT_RESPONSIBILITY if group.strip().upper() == "PR" else DenialCategory.OTHER


def _dated_rows(rows: list[dict[str, str]]) -> list[AdjustmentCode]:
    """The dated list (northstar layout): adj_code, adj_type, adj_description, adj_start/end_date."""
    kinds: dict[str, AdjustmentKind] = {"carc": "CARC", "rarc": "RARC", "group": "group"}
    return [
        AdjustmentCode(
            code=row["adj_code"].strip().upper(),
            kind=kinds[row["adj_type"].strip().lower()],
            description=row["adj_description"].strip(),
            start=parse_cms_date(row.get("adj_start_date")),
            end=parse_cms_date(row.get("adj_end_date")),
        )
        for row in rows
        if row.get("adj_type", "").strip().lower() in kinds and row.get("adj_code", "").strip()
    ]


def import_adjustment_codes(csv_dir: Path, dest: Path) -> int:
    """Load CARC/RARC lists from CSVs in csv_dir into dest/adjustment_codes.json; returns how many codes.

    Reads the dated list (adj_code, adj_type, ... adj_end_date) and, for codes it lacks, plain
    `code,description` lists whose file name says carc or rarc.
    """
    table: dict[str, dict[str, dict]] = {"group": {}, "CARC": {}, "RARC": {}}
    undated: list[tuple[AdjustmentKind, dict[str, str]]] = []
    for path in table_files(csv_dir):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        columns = set(rows[0]) if rows else set()
        if {"adj_code", "adj_type", "adj_description"} <= columns:
            for entry in _dated_rows(rows):
                table[entry.kind][entry.code] = entry.model_dump(mode="json")
        elif {"code", "description"} <= columns and path.stem.lower() in {"carc", "rarc"}:
            kind: AdjustmentKind = "CARC" if path.stem.lower() == "carc" else "RARC"
            undated.extend((kind, row) for row in rows)
    for kind, row in undated:
        code = row["code"].strip().upper()
        if code and code not in table[kind]:
            table[kind][code] = AdjustmentCode(
                code=code, kind=kind, description=row["description"].strip()
            ).model_dump(mode="json")
    count = sum(len(codes) for codes in table.values())
    if count == 0:
        raise ValueError(f"no CARC/RARC list found in {csv_dir}")
    dest.mkdir(parents=True, exist_ok=True)
    partial = dest / f"{ADJUSTMENTS_FILE}.partial"
    partial.write_text(json.dumps(table, separators=(",", ":")), encoding="utf-8")
    os.replace(partial, dest / ADJUSTMENTS_FILE)
    return count
