"""The eye-care procedure catalog: every code of the reference is there and agrees with the CMS fee file."""

import csv
from pathlib import Path

import pytest

from knowledge.codes.procedures import all_procedures, get_procedure, is_known_procedure
from knowledge.rules.fees import import_pfs

CMS_SOURCE = "CMS PFS 2024 Jul"
# Every code of the reference's §1 tables (and §1.9 representative materials), space-separated.
REFERENCE_CODES = (  # noqa: SIM905 (a code list reads better as text)
    "92002 92004 92012 92014 99202 99203 99204 99205 99211 99212 99213 99214 "
    "99215 G2211 92015 92020 92025 92060 92081 92082 92083 92100 92132 92133 "
    "92134 92136 92201 92202 92250 92227 92228 92229 92283 92284 92285 92286 "
    "76510 76511 76512 76513 76514 76516 76519 0330T 0207T 83861 83516 92071 "
    "92072 92310 92311 92312 92313 92314 92315 92316 92317 92325 92326 S0592 "
    "92340 92341 92342 92352 92353 92354 92355 92358 92370 92371 65205 65210 "
    "65220 65222 65430 65435 68761 68801 68840 67820 67938 99172 99173 99174 "
    "99177 G0117 G0118 2022F 2023F 2024F 2025F 2026F 2033F 3072F 5010F V2020 "
    "V2025 V2100 V2200 V2300 V2410 V2430 V2499 V2500 V2510 V2520 V2521 V2522 "
    "V2523 V2530 V2531 V2599 V2700 V2702 V2710 V2715 V2718 V2730 V2744 V2745 "
    "V2750 V2755 V2760 V2761 V2762 V2770 V2780 V2781 V2782 V2783 V2784 V2786 "
    "V2797 V2799 S0500 S0620 S0621"
).split()


@pytest.fixture(scope="module")
def cms_rows(shared_data: Path) -> dict[str, dict[str, str]]:
    """Global (unmodified) rows of the CMS PPRRVU 2024 July eye-code extract, by code."""
    with (shared_data / "pfs" / "pprrvu_2024_jul_eye_codes.csv").open(encoding="utf-8-sig") as handle:
        return {row["HCPCS"]: row for row in csv.DictReader(handle) if row["MOD"] == ""}


def test_catalog_holds_every_code_of_the_reference() -> None:
    missing = [code for code in REFERENCE_CODES if get_procedure(code) is None]
    assert missing == []


def test_every_entry_is_sourced_and_labelled() -> None:
    for info in all_procedures():
        assert info.sources, info.code
        assert 3 <= len(info.label) <= 90, info.code


def test_catalog_agrees_with_cms_indicators(cms_rows: dict[str, dict[str, str]]) -> None:
    checked = 0
    for info in all_procedures():
        row = cms_rows.get(info.code)
        if CMS_SOURCE in " ".join(info.sources):
            assert row is not None, f"{info.code} cites the CMS PFS but is not in it"
        if row is None:
            continue
        checked += 1
        bilateral = None if row["BILAT SURG"] == "9" else int(row["BILAT SURG"])
        assert info.bilateral_indicator == bilateral, info.code
        assert info.global_days == row["GLOB DAYS"], info.code
        assert info.pctc == (row["PCTC IND"] == "1"), info.code
        assert info.mppr == (row["MULT PROC"] == "7"), info.code
        if row["STATUS CODE"] in {"N", "X", "I", "B", "P"}:
            assert not info.medicare_covered, info.code
        if row["STATUS CODE"] in {"A", "T", "R"}:
            assert info.medicare_covered, info.code
        if info.code[0].isdigit():  # CPT short descriptors are AMA text: our labels never repeat them
            assert info.label.casefold() != row["DESCRIPTION"].casefold(), info.code
    assert checked > 100


def test_visit_and_procedure_traits() -> None:
    assert get_procedure("92004").patient_status == "new" and get_procedure("92004").is_visit
    assert get_procedure("99214").patient_status == "established"
    assert get_procedure("S0621").is_visit and get_procedure("S0621").family == "vision_plan"
    assert get_procedure("65222").is_minor_procedure and get_procedure("68761").is_minor_procedure
    assert not get_procedure("92014").is_minor_procedure
    assert get_procedure("68761").laterality_modifiers == ["E1", "E2", "E3", "E4"]
    assert get_procedure("92133").laterality == "both_eyes_one_unit"
    assert get_procedure("92310").laterality_modifiers == ["52"]
    assert not get_procedure("92015").medicare_covered


def test_known_procedure_includes_imported_fee_schedule(shared_data: Path, tmp_path: Path) -> None:
    assert is_known_procedure("92014") and is_known_procedure(" v2781 ")
    assert not is_known_procedure("92065")  # real code, outside our catalog
    pfs = import_pfs(shared_data / "pfs", tmp_path)
    assert is_known_procedure("92065", pfs)
    assert not is_known_procedure("12345", pfs) and not is_known_procedure("not a code", pfs)
