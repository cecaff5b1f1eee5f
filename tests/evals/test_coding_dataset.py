"""Checks the hand-written charge-coding gold set: schema, billable codes and the coding rules it encodes."""

import json
import re
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import pytest
import simple_icd_10_cm as icd
from pydantic import BaseModel, ConfigDict, Field, create_model

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "evals" / "datasets" / "coding_dev.jsonl"
TUNE2 = REPO / "evals" / "datasets" / "coding_tune2.jsonl"  # second tuning set, same rules
# Later sets, each by new authors, with a tuneN split and a blind checkN split: coding_tune3.jsonl, ...
LATER = {
    int(path.stem.removeprefix("coding_tune")): path
    for path in (REPO / "evals" / "datasets").glob("coding_tune*.jsonl")
    if path.stem != "coding_tune2"
}
README = REPO / "evals" / "datasets" / "README.md"

FAMILIES = (
    "glaucoma",
    "glaucoma_suspect",
    "diabetic",
    "cataract",
    "amd",
    "dry_eye",
    "punctal_plugs",
    "foreign_body",
    "red_eye",
    "contact_lens",
    "routine_vision",
    "plaquenil",
    "pvd",
    "keratoconus",
    "em_followup",
    "refraction_medicare",
    "other",
)
TRAPS = {
    "abbreviation",
    "bilateral_after_one_eye_resolved",
    "code_also",
    "control_code",
    "different_specialty",
    "em_vs_eye_code",
    "fb_7th_character",
    "history_only_dx",
    "independent_historian",
    "laterality",
    "modifier_25",
    "negation",
    "new_vs_established",
    "no_exam_code",
    "no_modifier_25",
    "no_rtlt_on_bilateral_test",
    "one_eye_finding_ou_plan",
    "one_eye_fit",
    "pachymetry_once",
    "punctal_per_punctum",
    "refraction_commercial",
    "refraction_medicaid",
    "refraction_medicare",
    "routine_on_medicare",
    "rule_out",
    "second_eye_biometry",
    "sle_ambiguity",
    "stage_indeterminate",
    "stages_differ",
    "test_not_billable",
    "test_not_done_today",
    "unassessed_finding",
    "units",
    "vision_plan_code_choice",
    "vision_vs_medical",
}
# Modifiers named in optometry-billing.md section 2.
MODIFIERS = {
    *("25", "59", "XE", "XS", "XP", "XU", "RT", "LT", "50", "52", "E1", "E2", "E3", "E4"),
    *("24", "57", "79", "54", "55", "TC", "26", "GA", "GZ", "GY", "GX", "GW", "AI", "51", "KX", "EY", "QW"),
}
NEW_PATIENT_EXAMS = {"92002", "92004", "99202", "99203", "99204", "99205", "S0620"}
ESTABLISHED_EXAMS = {"92012", "92014", "99211", "99212", "99213", "99214", "99215", "S0621"}
BILATERAL_PRICED_TESTS = {"92020", "92083", "92133", "92134", "92250"}  # one unit, never RT/LT/50
PER_EYE_PROCEDURES = {"65205", "65210", "65220", "65222"}
CPT_OR_HCPCS = re.compile(r"^(\d{4}[0-9FTU]|[A-V]\d{4})$")
ICD_FORMAT = re.compile(r"^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$")
FY2026 = (date(2025, 10, 1), date(2026, 9, 30))  # the installed ICD-10-CM release


class Patient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    age: int = Field(ge=0, le=110)
    sex: Literal["F", "M"]


class Payer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2)
    kind: Literal["medicare", "medicaid", "commercial", "medicare_advantage", "vision"]
    routine_exam_coding: Literal["92004/92014 + 92015", "S0620/S0621"] | None = None


class PriorVisit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date
    codes: list[str] = Field(min_length=1)
    specialty: Literal["optometry", "ophthalmology"] = "optometry"


class GoldLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    modifiers: list[str] = Field(max_length=4)
    units: int = Field(ge=1)
    diagnosis_codes: list[str] = Field(min_length=1, max_length=4)


class Gold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    diagnoses: list[str] = Field(min_length=1, max_length=12)
    lines: list[GoldLine] = Field(min_length=1)


class GoldNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^cd-\d{3}$")
    split: Literal["tune", "holdout"]
    family: Literal[FAMILIES]
    style: Literal["terse", "narrative", "templated"]
    traps: list[str]
    note: str = Field(min_length=150)
    patient: Patient
    payer: Payer
    established: bool
    date_of_service: date
    history: list[PriorVisit]
    gold: Gold
    rationale: str = Field(min_length=20, max_length=400)


class Tune2Note(GoldNote):
    id: str = Field(pattern=r"^t2-\d{3}$")
    split: Literal["tune2"]


def _later_model(number: int) -> type[GoldNote]:
    """Row model of a later set: ids tN-NNN, splits tuneN and checkN."""
    return create_model(
        f"Tune{number}Note",
        __base__=GoldNote,
        id=(str, Field(pattern=rf"^t{number}-\d{{3}}$")),
        split=(Literal[f"tune{number}", f"check{number}"], ...),
    )


def _load(path: Path = DATASET, model: type[GoldNote] = GoldNote) -> list[GoldNote]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [model.model_validate_json(line) for line in lines if line.strip()]


ROWS = _load()
TUNE2_ROWS = _load(TUNE2, Tune2Note)
EXTRA_SETS = {
    "tune2": TUNE2_ROWS,
    **{f"tune{number}": _load(path, _later_model(number)) for number, path in sorted(LATER.items())},
}


@pytest.fixture(params=["dev", *EXTRA_SETS])
def rows(request: pytest.FixtureRequest) -> list[GoldNote]:
    """Each coding-rule test runs on the dev gold set and on every other hand-written set."""
    return ROWS if request.param == "dev" else EXTRA_SETS[request.param]


@cache
def _billable(code: str) -> bool:
    return icd.is_valid_item(code) and icd.is_leaf(code)


def _codes(row: GoldNote) -> list[str]:
    return [line.code for line in row.gold.lines]


def _years_before(day: date, years: int) -> date:
    return (
        day.replace(year=day.year - years)
        if (day.month, day.day) != (2, 29)
        else date(day.year - years, 3, 1)
    )


def test_dataset_size_and_unique_ids() -> None:
    assert len(ROWS) >= 120
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids))
    assert len({row.note for row in ROWS}) == len(ROWS), "two rows share a note"


def test_splits_are_stratified_by_family() -> None:
    splits = Counter(row.split for row in ROWS)
    assert splits["holdout"] >= 40
    assert 0.25 <= splits["holdout"] / len(ROWS) <= 0.45
    for family in FAMILIES:
        per_split = Counter(row.split for row in ROWS if row.family == family)
        assert per_split["tune"] >= 3 and per_split["holdout"] >= 2, (family, per_split)


def test_styles_and_traps_are_varied() -> None:
    styles = Counter(row.style for row in ROWS)
    assert min(styles.values()) >= len(ROWS) // 5, styles
    used = {trap for row in ROWS for trap in row.traps}
    assert used <= TRAPS, used - TRAPS
    assert sum(1 for row in ROWS if row.traps) >= 0.8 * len(ROWS)
    for split in ("tune", "holdout"):
        split_traps = {trap for row in ROWS if row.split == split for trap in row.traps}
        for core in ("negation", "stages_differ", "test_not_done_today", "new_vs_established", "laterality"):
            assert core in split_traps, (split, core)


def test_rationale_is_one_line_and_dates_are_in_the_code_year(rows: list[GoldNote]) -> None:
    for row in rows:
        assert "\n" not in row.rationale, row.id
        assert FY2026[0] <= row.date_of_service <= FY2026[1], row.id
        assert all(visit.date < row.date_of_service for visit in row.history), row.id


def test_every_diagnosis_is_a_valid_billable_icd10cm_code(rows: list[GoldNote]) -> None:
    for row in rows:
        diagnoses = row.gold.diagnoses
        assert len(diagnoses) == len(set(diagnoses)), row.id
        for code in diagnoses:
            assert ICD_FORMAT.match(code), (row.id, code)
            assert _billable(code), (row.id, code, "not a valid billable ICD-10-CM code")


def test_lines_are_well_formed_and_point_at_gold_diagnoses(rows: list[GoldNote]) -> None:
    for row in rows:
        diagnoses = set(row.gold.diagnoses)
        pointed: set[str] = set()
        for line in row.gold.lines:
            assert CPT_OR_HCPCS.match(line.code), (row.id, line.code)
            assert set(line.modifiers) <= MODIFIERS, (row.id, line.code, line.modifiers)
            assert len(line.modifiers) == len(set(line.modifiers)), (row.id, line.code)
            assert set(line.diagnosis_codes) <= diagnoses, (row.id, line.code)
            pointed.update(line.diagnosis_codes)
        assert pointed == diagnoses, (row.id, "diagnosis not linked to any line", diagnoses - pointed)


def test_one_exam_code_matching_patient_status(rows: list[GoldNote]) -> None:
    for row in rows:
        exams = [code for code in _codes(row) if code in NEW_PATIENT_EXAMS | ESTABLISHED_EXAMS]
        assert len(exams) <= 1, (row.id, exams)
        if exams:
            expected = NEW_PATIENT_EXAMS if not row.established else ESTABLISHED_EXAMS
            assert exams[0] in expected, (row.id, exams[0], row.established)
        assert "G2211" not in _codes(row), row.id


def test_established_flag_follows_the_three_year_same_specialty_rule(rows: list[GoldNote]) -> None:
    for row in rows:
        cutoff = _years_before(row.date_of_service, 3)
        seen = any(visit.date > cutoff and visit.specialty == "optometry" for visit in row.history)
        assert row.established == seen, row.id


def test_refraction_and_routine_exam_follow_the_payer(rows: list[GoldNote]) -> None:
    for row in rows:
        kind = row.payer.kind
        for line in row.gold.lines:
            if line.code == "92015":
                assert ("GY" in line.modifiers) == (kind == "medicare"), row.id
            if "GY" in line.modifiers:
                assert kind == "medicare", row.id
            if line.code in {"S0620", "S0621"}:
                assert row.payer.routine_exam_coding == "S0620/S0621", row.id
        if kind == "vision":
            codes = set(_codes(row))
            assert row.payer.routine_exam_coding is not None, row.id
            assert row.gold.diagnoses[0].startswith("Z01.0"), row.id
            if row.payer.routine_exam_coding == "S0620/S0621":
                assert codes & {"S0620", "S0621"} and "92015" not in codes, row.id
            else:
                assert codes & {"92004", "92014"} and "92015" in codes, row.id
        else:
            assert row.payer.routine_exam_coding is None, row.id
    assert all(row.payer.kind == "medicare" for row in rows if row.family == "refraction_medicare")


def test_routine_exam_diagnosis_leads(rows: list[GoldNote]) -> None:
    for row in rows:
        z01 = [code for code in row.gold.diagnoses if code.startswith("Z01.0")]
        if z01:
            assert row.gold.diagnoses[0] == z01[0] and len(z01) == 1, row.id
            assert (z01[0] in {"Z01.00", "Z01.020"}) == (len(row.gold.diagnoses) == 1), row.id


def test_test_and_procedure_modifiers(rows: list[GoldNote]) -> None:
    for row in rows:
        codes = _codes(row)
        assert not {"92133", "92134"} <= set(codes), (row.id, "92133 and 92134 together")
        plug_lids = []
        for line in row.gold.lines:
            if line.code in BILATERAL_PRICED_TESTS:
                assert not {"RT", "LT", "50"} & set(line.modifiers) and line.units == 1, row.id
            if line.code in PER_EYE_PROCEDURES:
                assert len({"RT", "LT"} & set(line.modifiers)) == 1, row.id
            if line.code == "68761":
                lids = [mod for mod in line.modifiers if mod in {"E1", "E2", "E3", "E4"}]
                assert len(lids) == 1 and line.units == 1, row.id
                plug_lids.append(lids[0])
            if line.code == "92310":
                assert not {"RT", "LT"} & set(line.modifiers), row.id
            if line.code == "92136" and "26" in line.modifiers:
                assert {"RT", "LT"} & set(line.modifiers), row.id
        assert len(plug_lids) == len(set(plug_lids)), (row.id, "same punctum twice")
        if "68761" in codes:
            for line in row.gold.lines:
                if line.code in NEW_PATIENT_EXAMS | ESTABLISHED_EXAMS:
                    assert "25" in line.modifiers, (row.id, "exam on a plug day needs 25")


def test_per_eye_glaucoma_and_amd_codes_never_mix_with_bilateral(rows: list[GoldNote]) -> None:
    # When stages differ each eye gets its own code; a bilateral code then must not appear.
    for row in rows:
        staged = [
            code for code in row.gold.diagnoses if re.match(r"^(H40\.1[1-4]|H40\.22|H35\.3[12])\d\d$", code)
        ]
        by_family: dict[str, set[str]] = {}
        for code in staged:
            by_family.setdefault(code[:6], set()).add(code[6])
        for eyes in by_family.values():
            assert not ("3" in eyes and eyes & {"1", "2"}), row.id
        wet_eyes = {code[6] for code in staged if code.startswith("H35.32")}
        dry_eyes = {code[6] for code in staged if code.startswith("H35.31")}
        assert not wet_eyes & dry_eyes, (row.id, "one eye coded both wet and dry")


def test_diabetes_and_injury_code_rules(rows: list[GoldNote]) -> None:
    for row in rows:
        diagnoses = row.gold.diagnoses
        if any(code.startswith("E10") for code in diagnoses):
            assert "Z79.4" not in diagnoses and not any(code.startswith("E11") for code in diagnoses), row.id
        if any(
            code.startswith("Z79.4") or code.startswith("Z79.8") for code in diagnoses if code != "Z79.899"
        ):
            assert any(code.startswith("E11") for code in diagnoses), row.id
        for code in diagnoses:
            if code.startswith("T15"):
                assert len(code) == 8 and code[6] == "X" and code[7] in "ADS", (row.id, code)
        if row.family == "plaquenil":
            assert diagnoses[0] == "Z79.899", row.id
            assert {"92134", "92083"} & set(_codes(row)), row.id


def test_readme_counts_match_the_dataset() -> None:
    readme = README.read_text(encoding="utf-8")
    counts = Counter((row.family, row.split) for row in ROWS)
    for family in FAMILIES:
        tune, holdout = counts[(family, "tune")], counts[(family, "holdout")]
        assert f"| {family} | {tune} | {holdout} | {tune + holdout} |" in readme, family


@pytest.mark.parametrize("code", ["H40.11X0", "H40.113", "E11.329", "H52.2"])
def test_validator_rejects_invalid_or_non_billable_codes(code: str) -> None:
    assert not _billable(code)


def test_dataset_file_is_plain_jsonl() -> None:
    for number, line in enumerate(DATASET.read_text(encoding="utf-8").splitlines(), 1):
        assert isinstance(json.loads(line), dict), number


def test_tune2_file_is_plain_jsonl_and_documented() -> None:
    for number, line in enumerate(TUNE2.read_text(encoding="utf-8").splitlines(), 1):
        assert isinstance(json.loads(line), dict), number
    assert "coding_tune2.jsonl" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("other", list(EXTRA_SETS))
def test_other_sets_are_separate_from_the_dev_set(other: str) -> None:
    # Each extra set judges the coder on notes it was not tuned on: no shared ids or notes with any other set.
    extra = EXTRA_SETS[other]
    rest = [*ROWS, *(row for name, rows in EXTRA_SETS.items() if name != other for row in rows)]
    assert len(extra) >= (60 if other == "tune7" else 80)
    ids = [row.id for row in extra]
    assert len(ids) == len(set(ids))
    notes = {row.note for row in extra}
    assert len(notes) == len(extra), f"two {other} rows share a note"
    assert not notes & {row.note for row in rest}
    assert not set(ids) & {row.id for row in rest}
    assert {row.family for row in extra} == set(FAMILIES) or other == "tune7"  # tune7: two authors
    styles = Counter(row.style for row in extra)
    assert min(styles.values()) >= len(extra) // 5, styles
    assert {trap for row in extra for trap in row.traps} <= TRAPS


@pytest.mark.parametrize("number", sorted(LATER))
def test_later_sets_keep_a_check_split(number: int) -> None:
    splits = Counter(row.split for row in EXTRA_SETS[f"tune{number}"])
    assert splits[f"check{number}"] >= 20 and splits[f"tune{number}"] >= 40, splits
    assert splits[f"check{number}"] * 4 >= splits[f"tune{number}"], splits  # at least a fifth held back
    assert f"coding_tune{number}.jsonl" in README.read_text(encoding="utf-8")
