"""ICD-10-CM look-ups over the installed CDC tabular: validity, specificity, laterality, 7th characters."""

import pytest

from knowledge.codes.icd10 import (
    icd10_billable,
    icd10_children,
    icd10_description,
    icd10_excludes1,
    icd10_exists,
    icd10_family,
    icd10_laterality,
    icd10_parent,
    icd10_seventh_characters,
    normalize_icd10,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("h401131", "H40.1131"),
        (" H40.1131 ", "H40.1131"),
        ("e113292", "E11.3292"),
        ("H52.4", "H52.4"),
        ("b88", "B88"),
    ],
)
def test_normalize_puts_the_dot_after_the_category(raw: str, expected: str) -> None:
    assert normalize_icd10(raw) == expected


@pytest.mark.parametrize(
    ("code", "laterality"),
    [
        ("H40.1131", "bilateral"),  # 7th-character glaucoma code: side in the 6th character
        ("E11.3292", "left"),  # diabetic retinopathy: side in the 7th character
        ("T15.01XA", "right"),  # injury with X placeholder and encounter 7th character
        ("H04.123", "bilateral"),  # "bilateral lacrimal glands"
        ("H52.4", None),  # presbyopia has no side
        ("H01.00A", "right"),  # eyelid scheme: right upper and lower
        ("H01.004", "left"),  # left upper eyelid
        ("H01.003", "right"),  # right eye, unspecified eyelid (public lists mislabel it)
        ("H01.009", "unspecified"),
        ("H35.039", "unspecified"),  # public lists wrongly call it bilateral
        ("H52.201", "right"),
        ("H40.10X0", None),  # unspecified open-angle glaucoma has no laterality axis
        ("E11.311", None),
        ("h4011x0", None),  # not a code at all
    ],
)
def test_laterality_is_read_from_the_code_words(code: str, laterality: str | None) -> None:
    assert icd10_laterality(code) == laterality


def test_lateral_poag_replaced_the_old_h40_11x0() -> None:
    assert not icd10_exists("H40.11X0")  # replaced by lateral codes in FY2017
    assert icd10_billable("H40.10X0")
    assert icd10_exists("H40.113") and not icd10_billable("H40.113")  # needs the stage 7th character
    assert icd10_billable("H40.1131")


def test_injury_codes_need_the_seventh_character() -> None:
    assert icd10_billable("T15.01XA")
    assert icd10_exists("T15.01") and not icd10_billable("T15.01")
    assert icd10_seventh_characters("T15.01") == {
        "A": "initial encounter",
        "D": "subsequent encounter",
        "S": "sequela",
    }


def test_demodex_code_of_fy2026_is_in_the_installed_release() -> None:
    # B88.01 took effect 2025-10-01 (FY2026); simple-icd-10-cm 1.5.0 ships the April 2026 tabular.
    assert icd10_billable("B88.01")
    assert "Demodex" in (icd10_description("B88.01") or "")


def test_glaucoma_stage_characters_include_indeterminate() -> None:
    stages = icd10_seventh_characters("H40.113")
    assert set(stages) == {"0", "1", "2", "3", "4"}
    assert "indeterminate" in stages["4"]
    assert icd10_seventh_characters("H52.4") == {}


def test_hierarchy_and_family() -> None:
    assert icd10_parent("H40.1131") == "H40.113"
    assert icd10_parent("H40") is None  # its parent is a block, not a code
    assert "H40.1132" in icd10_children("H40.113")
    assert icd10_family("h401131") == "H40"
    assert icd10_children("Z99.999") == []


def test_excludes1_is_inherited_from_the_category() -> None:
    notes = icd10_excludes1("H40.1131")
    assert any("H44.51" in note for note in notes)  # absolute glaucoma, an H40 category note
    assert icd10_excludes1("not-a-code") == []


def test_descriptions_correct_known_public_list_errors() -> None:
    assert (icd10_description("H52.201") or "").startswith("Unspecified astigmatism")
    assert icd10_description("H40.11X0") is None
