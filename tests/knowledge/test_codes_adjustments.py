"""CARC/RARC look-ups (curated and imported with dates) and our denial categories."""

from datetime import date
from pathlib import Path

import pytest

from billing.settings import Settings
from knowledge.codes.adjustments import (
    AdjustmentCode,
    DenialCategory,
    carc,
    categorize_denial,
    import_adjustment_codes,
    rarc,
)
from knowledge.data import read_yaml
from knowledge.official_files import knowledge_store

DOC_SECTION_6 = (
    "4 11 16 18 22 27 29 45 49 50 59 96 97 109 119 146 151 167 170 181 182 185 197 204 234 236 B7 B15 B16"
)


@pytest.fixture
def imported(settings: Settings, shared_data: Path) -> Settings:
    import_adjustment_codes(shared_data / "codes", knowledge_store(settings))
    return settings


@pytest.mark.parametrize(
    ("group", "code", "rarcs", "category"),
    [
        ("PR", "1", [], DenialCategory.PATIENT_RESPONSIBILITY),
        ("PR", "2", [], DenialCategory.PATIENT_RESPONSIBILITY),
        ("PR", "3", [], DenialCategory.PATIENT_RESPONSIBILITY),
        ("CO", "45", [], DenialCategory.CONTRACTUAL),
        ("OA", "18", [], DenialCategory.DUPLICATE),
        ("CO", "22", [], DenialCategory.COB),
        ("OA", "23", [], DenialCategory.COB),
        ("CO", "27", [], DenialCategory.ELIGIBILITY),
        ("CO", "26", [], DenialCategory.ELIGIBILITY),
        ("CO", "31", [], DenialCategory.ELIGIBILITY),
        ("CO", "177", [], DenialCategory.ELIGIBILITY),
        ("CO", "29", [], DenialCategory.TIMELY_FILING),
        ("CO", "15", [], DenialCategory.AUTHORIZATION),
        ("CO", "197", ["M62"], DenialCategory.AUTHORIZATION),
        ("CO", "198", [], DenialCategory.AUTHORIZATION),
        ("CO", "4", [], DenialCategory.MODIFIER),
        ("CO", "182", [], DenialCategory.MODIFIER),
        ("CO", "16", ["M76"], DenialCategory.CODING),
        ("CO", "16", ["N822"], DenialCategory.MODIFIER),  # generic CARC sharpened by its RARC
        ("CO", "11", [], DenialCategory.CODING),
        ("CO", "146", [], DenialCategory.CODING),
        ("CO", "181", [], DenialCategory.CODING),
        ("CO", "B16", [], DenialCategory.CODING),
        ("CO", "50", ["N115"], DenialCategory.MEDICAL_NECESSITY),
        ("CO", "55", [], DenialCategory.MEDICAL_NECESSITY),
        ("CO", "56", [], DenialCategory.MEDICAL_NECESSITY),
        ("CO", "151", ["N362"], DenialCategory.MEDICAL_NECESSITY),
        ("CO", "167", [], DenialCategory.MEDICAL_NECESSITY),
        ("PR", "96", ["N425"], DenialCategory.NON_COVERED),
        ("PR", "204", [], DenialCategory.NON_COVERED),
        ("PR", "49", [], DenialCategory.NON_COVERED),
        ("CO", "109", [], DenialCategory.NON_COVERED),
        ("CO", "119", [], DenialCategory.NON_COVERED),
        ("CO", "234", [], DenialCategory.NON_COVERED),
        ("CO", "97", ["M80"], DenialCategory.BUNDLING),
        ("CO", "236", [], DenialCategory.BUNDLING),
        ("CO", "59", [], DenialCategory.BUNDLING),
        ("CO", "B15", [], DenialCategory.BUNDLING),
        ("CO", "CO-45", [], DenialCategory.CONTRACTUAL),  # a group-prefixed CARC reads the same
        ("PR", "999", [], DenialCategory.PATIENT_RESPONSIBILITY),  # unknown CARC, patient group
        ("CO", "999", ["N115"], DenialCategory.MEDICAL_NECESSITY),  # unknown CARC, telling RARC
        ("OA", "999", [], DenialCategory.OTHER),
    ],
)
def test_categorize_denial(group: str, code: str, rarcs: list[str], category: DenialCategory) -> None:
    assert categorize_denial(group, code, rarcs) is category


def test_every_carc_of_the_reference_has_a_category() -> None:
    assert all(categorize_denial("CO", code) is not DenialCategory.OTHER for code in DOC_SECTION_6.split())


def test_curated_descriptions_without_an_import(settings: Settings) -> None:
    found = carc("45", settings=settings)
    assert isinstance(found, AdjustmentCode) and found.kind == "CARC" and found.start is None
    assert rarc("N115", settings=settings).description.startswith("Decided under")
    assert carc("9999", settings=settings) is None


def test_import_brings_official_texts_and_dates(imported: Settings) -> None:
    found = carc("CO-45", settings=imported)
    assert found.start == date(1995, 1, 1) and "fee schedule" in found.description
    # CARC 15 was deactivated on 2018-05-01: known before, not after.
    assert carc("15", date(2017, 6, 1), settings=imported).end == date(2018, 5, 1)
    assert carc("15", date(2024, 6, 1), settings=imported) is None
    assert carc("15", settings=imported) is not None
    assert carc("306", date(2024, 1, 1), settings=imported) is not None  # added 2023-11-01
    assert carc("306", date(2023, 1, 1), settings=imported) is None
    assert rarc("N886", settings=imported) is not None


def test_curated_codes_all_exist_in_the_official_lists(imported: Settings) -> None:
    curated = read_yaml("carc_categories.yaml")
    unknown_carcs = [code for code in curated["carc"] if carc(str(code), settings=imported) is None]
    unknown_rarcs = [code for code in curated["rarc"] if rarc(str(code), settings=imported) is None]
    assert unknown_carcs == [] and unknown_rarcs == []


def test_import_rejects_a_folder_without_lists(tmp_path: Path) -> None:
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no CARC/RARC"):
        import_adjustment_codes(tmp_path, tmp_path / "out")
